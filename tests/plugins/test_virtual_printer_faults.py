"""Fault injection, through the Python API and through the !!DEBUG: wire channel."""
import time

import pytest
import serial

from tests.plugins.serial_host import numbered


def stream(host, commands, first=1):
    """Ack-per-line host that honours Resend: requests; returns how many it got."""
    resends, n, last = 0, first, first + len(commands) - 1
    while n <= last:
        host.write(numbered(n, commands[n - first]))
        lines = host.until_ok()
        requested = [int(line.split(b":")[1]) for line in lines if line.startswith(b"Resend:")]
        if requested:
            resends += 1
            n = requested[0]
        else:
            n += 1
    return resends


def moves(count):
    return [f"G1 X{i} Y{i % 7}" for i in range(1, count + 1)]


def test_resend_every_n_lines(printer, host):
    printer.faults.resend_every(4)
    commands = moves(40)
    for n in (1, 2, 3):
        assert host.ask(commands[n - 1], n) == ["ok"]
    host.write(numbered(4, commands[3]))
    assert host.until_ok() == [b"Error:checksum mismatch, Last Line: 3", b"Resend: 4", b"ok"]
    assert stream(host, commands[3:], first=4) == 12  # lines 7, 10, ..., 40: every 4th try
    assert printer.received == [(n, commands[n - 1]) for n in range(1, 41)]


def test_corrupted_line_is_caught_by_its_checksum(printer, host):
    printer.faults.corrupt_next()
    host.ask("M105")                                # unnumbered lines are left alone
    host.write(numbered(1, "G1 X10"))
    assert host.until_ok() == [b"Error:checksum mismatch, Last Line: 0", b"Resend: 1", b"ok"]
    assert host.ask("G1 X10", 1) == ["ok"]
    assert printer.received == [(None, "M105"), (1, "G1 X10")]


def test_dropped_ok(printer, host):
    printer.faults.drop_next_ok()
    host.send("G1 X1")
    assert host.quiet_for(0.3) == b""
    printer.faults.drop_next_ok()
    host.send("M105")
    assert host.readline().startswith(b" T:21.30")  # the temperatures come, the ok does not
    assert host.ask("M105")[0].startswith("ok T:")


def test_reset_mid_print_replays_the_banner_and_forgets_everything(printer, host):
    assert stream(host, moves(5)) == 0
    host.ask("M104 S200")
    printer.faults.reset()
    lines = host.read_until(lambda line: line == b"echo:SD card ok")
    assert lines[0] == b"start"
    assert printer.firmware.last_n == 0
    assert host.ask("M105")[0].startswith("ok T:") and "/0.00 B:" in host.ask("M105")[0]
    assert host.ask("G1 X1", 1) == ["ok"]


def test_disconnect_makes_host_reads_fail(printer, host):
    printer.faults.disconnect()
    with pytest.raises(serial.SerialException):
        for _ in range(3):
            if host.port.read(1) == b"":
                raise serial.SerialException("read returned nothing")
    assert not printer.alive


def test_thermal_runaway_then_silence(printer, host):
    printer.faults.thermal_runaway()
    assert host.read_until(lambda line: b"kill()" in line) == [
        b"Error:Thermal Runaway, system stopped! Heater_ID: 0", b"Error:Printer halted. kill() called!"]
    host.send("M105")
    assert host.quiet_for(0.3) == b""


def test_go_silent_until_a_reset(printer, host):
    printer.faults.go_silent()
    host.send("M105")
    assert host.quiet_for(0.3) == b""
    printer.faults.reset()
    host.read_until(lambda line: line == b"echo:SD card ok")
    assert host.ask("M105")[0].startswith("ok T:")


@pytest.mark.parametrize("name", ["pause", "resume", "cancel", "disconnect"])
def test_action_commands(printer, host, name):
    printer.faults.action(name)
    assert host.readline() == f"//action:{name}\n".encode()


def test_busy_next_command(printer, host):
    host.ask("M113 S1")
    printer.faults.busy_next(1.2, "G1")
    assert host.ask("M105")[0].startswith("ok T:")  # not a G1: unaffected
    assert host.ask("G1 X1") == ["echo:busy: processing", "ok"]


def test_ack_delay(make_printer, connect):
    host = connect(make_printer(ack_delay_ms=20))
    started = time.monotonic()
    for _ in range(10):
        host.ask("G1 X1")
    assert time.monotonic() - started >= 0.2


def test_rx_overflow_drops_bytes_and_the_line_rules_recover(make_printer, connect):
    printer = make_printer(rx_buffer=64)
    host = connect(printer)
    commands = moves(7)
    burst = b"".join(numbered(n, commands[n - 1]) + b"\n" for n in range(1, 7))
    assert len(burst) > 64
    host.write(burst)
    assert host.read_until(lambda line: line == b"ok") == [b"ok"]
    host.quiet_for(0.2)
    accepted = len(printer.received)
    assert printer.dropped_bytes > 0 and 0 < accepted < 6
    # What survived was half a line: whatever comes next cannot pass the checksum.
    host.write(numbered(7, commands[6]))
    lines = host.until_ok()
    assert lines[-2:] == [f"Resend: {accepted + 1}".encode(), b"ok"]
    assert stream(host, commands[accepted:], first=accepted + 1) == 0
    assert printer.received == [(n, commands[n - 1]) for n in range(1, 8)]


def test_debug_channel(printer, host):
    host.send("!!DEBUG:action_cancel")
    assert host.readline() == b"//action:cancel\n"
    host.send("!!DEBUG:send Hello from the bench")
    assert host.readline() == b"Hello from the bench\n"
    host.send("!!DEBUG:resend_every 2")
    host.send("!!DEBUG:drop_ok")
    assert host.quiet_for(0.1) == b""             # debug lines are not G-code: no ok
    host.send("G1 X1", 1)
    host.send("G1 X2", 2)
    assert host.until_ok() == [b"Error:checksum mismatch, Last Line: 1", b"Resend: 2", b"ok"]
    host.send("!!DEBUG:clear")
    host.send("!!DEBUG:thermal_runaway bed")
    assert host.read_until(lambda line: b"kill()" in line)[0] == (
        b"Error:Thermal Runaway, system stopped! Heater_ID: bed")


def test_debug_reset_and_disconnect_over_the_wire(printer, host):
    host.send("!!DEBUG:reset")
    assert host.read_until(lambda line: line == b"start") == [b"start"]
    host.read_until(lambda line: line == b"echo:SD card ok")
    host.send("!!DEBUG:disconnect")
    deadline = time.monotonic() + 2
    while printer.alive and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not printer.alive
    with pytest.raises(serial.SerialException):
        host.port.read(1)
