"""The comm layer against the virtual printer over a real pseudo-terminal: handshake, temperatures, commands, jobs."""
from octoserve.printer.comm.options import ConnectionOptions
from tests.printer.conftest import executed, job_lines, run_job, wait_until


def test_handshake_reaches_operational_and_reads_the_firmware(connect):
    printer, connection, listener = connect()
    assert [name for name, _ in listener.states[:3]] == ["OPENING", "CONNECTING", "OPERATIONAL"]
    assert connection.firmware["FIRMWARE_NAME"].startswith("Marlin 2.1.3")
    assert connection.flavor.name == "marlin"
    assert connection.capabilities["EMERGENCY_PARSER"] is True
    # The firmware offers temperature auto-reports, so the host asks for them instead of polling.
    wait_until(lambda: any(cmd == "M155 S2" for _, cmd in printer.received), what="M155 S2")
    assert any(line.startswith(b"N0 M110 N0*125") for line in listener.sent)


def test_temperatures_move_toward_their_targets(connect):
    _printer, connection, listener = connect(options=ConnectionOptions(autoreport_interval=1), heat_speed=10)
    connection.send("M104 S200")
    connection.send("M140 S60")

    def heated():
        latest = listener.temperatures[-1] if listener.temperatures else {}
        tool, bed = latest.get("tool0"), latest.get("bed")
        return tool and bed and tool[1] == 200 and bed[1] == 60 and tool[0] > 100 and bed[0] > 40

    wait_until(heated, timeout=20, what="the heaters to warm up")
    actuals = [r["tool0"][0] for r in listener.temperatures if "tool0" in r]
    assert any(30 < actual < 190 for actual in actuals)  # with a lag: it climbed, it did not jump


def test_commands_reach_the_printer_in_order(connect):
    printer, connection, _listener = connect()
    for command in ("G28", "G1 X10 Y20 F3000", "M106 S255", "M107"):
        connection.send(command)
    wait_until(lambda: [c for _, c in printer.received][-4:] == ["G28", "G1 X10 Y20 F3000", "M106 S255", "M107"],
               what="the commands")


def test_a_job_arrives_once_and_in_order(connect):
    printer, connection, listener = connect()
    lines = job_lines(3000)
    run_job(connection, lines)
    assert executed(printer) == lines
    assert listener.state == "OPERATIONAL"
    assert [name for name, _ in listener.states[-3:]] == ["PRINTING", "FINISHING", "OPERATIONAL"]


def test_send_ahead_opens_with_advanced_ok_and_keeps_every_line(connect):
    printer, connection, _listener = connect(advanced_ok=True, rx_buffer=128)
    lines = job_lines(3000)
    run_job(connection, lines)
    assert executed(printer) == lines
    assert connection.queue._max_in_flight > 1  # the firmware's B allowed a window
    assert printer.dropped_bytes == 0  # never more in flight than the firmware's buffer holds


def test_ack_per_line_without_advanced_ok(connect):
    _printer, connection, _listener = connect(options=ConnectionOptions(send_ahead=True))
    run_job(connection, job_lines(200))
    assert connection.queue._max_in_flight == 1
