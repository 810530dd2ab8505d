"""Every fault the virtual printer injects, and what the host must do about it."""
import threading
import time

from octoserve.printer.comm.options import ConnectionOptions
from tests.printer.conftest import executed, job_lines, run_job, wait_until

FAST = ConnectionOptions(comm_timeout=0.5, max_timeouts_printing=5)


def test_resend_requests_every_n_lines_are_answered_with_the_right_line(connect):
    printer, connection, _listener = connect(resend_every=7)
    lines = job_lines(700)
    run_job(connection, lines)
    assert executed(printer) == lines
    assert connection.stats["resends"] >= 100


def test_resends_with_send_ahead_lose_and_repeat_nothing(connect):
    printer, connection, _listener = connect(advanced_ok=True, rx_buffer=128, resend_every=13)
    lines = job_lines(1500)
    run_job(connection, lines)
    assert executed(printer) == lines


def test_resends_from_marlin_2_0_without_an_ok_after_them(connect):
    printer, connection, _listener = connect(ok_after_resend=False, resend_every=11)
    lines = job_lines(400)
    run_job(connection, lines)
    assert executed(printer) == lines


def test_corrupted_bytes_are_caught_by_the_checksum_and_resent(connect):
    printer, connection, _listener = connect()
    lines = job_lines(600)
    feed = iter(lines)
    done = threading.Event()

    def source():
        line = next(feed, None)
        if line == lines[100]:
            printer.faults.corrupt_next(3)  # the next three lines get a flipped bit on the wire
        return line

    connection.start_job(source, done.set)
    assert done.wait(60)
    assert executed(printer) == lines
    assert connection.stats["resends"] >= 3


def test_a_dropped_ok_is_recovered_after_the_timeout(connect):
    printer, connection, listener = connect(options=FAST)
    lines = job_lines(300)
    feed = iter(lines)
    done = threading.Event()

    def source():
        line = next(feed, None)
        if line == lines[150]:
            printer.faults.drop_next_ok()
        return line

    connection.start_job(source, done.set)
    assert done.wait(30)
    assert executed(printer) == lines
    assert any("timeout" in note.lower() for note in listener.notes)
    assert connection.operational


def test_thermal_runaway_is_an_error_state_with_the_message(connect):
    printer, connection, listener = connect()
    printer.faults.thermal_runaway()
    wait_until(lambda: listener.state == "CLOSED_WITH_ERROR", what="the error state")
    names = [name for name, _ in listener.states]
    assert names[-2:] == ["ERROR", "CLOSED_WITH_ERROR"]
    assert "Thermal Runaway" in connection.machine.error
    assert not connection.operational


def test_an_error_mid_job_stops_the_job(connect):
    printer, connection, listener = connect()
    feed = iter(job_lines(100000))
    connection.start_job(lambda: next(feed, None), lambda: None)
    wait_until(lambda: len(executed(printer)) > 200, what="the job to run")
    printer.faults.thermal_runaway("bed")
    wait_until(lambda: listener.state == "CLOSED_WITH_ERROR", what="the error state")
    count = len(executed(printer))
    time.sleep(0.3)
    assert len(executed(printer)) == count  # nothing more was executed
    assert "Heater_ID: bed" in connection.machine.error


def test_a_disconnect_ends_in_a_clean_closed_state(connect):
    printer, connection, listener = connect()
    printer.faults.disconnect()
    wait_until(lambda: listener.state == "CLOSED_WITH_ERROR", what="the closed state")
    assert "Connection lost" in connection.machine.error
    assert connection.transport is not None
    for thread in connection._threads:
        thread.join(2)
        assert not thread.is_alive()


def test_a_firmware_reset_mid_print_abandons_the_job_and_handshakes_again(connect):
    printer, connection, listener = connect()
    feed = iter(job_lines(100000))
    finished = threading.Event()
    connection.start_job(lambda: next(feed, None), finished.set)
    wait_until(lambda: len(executed(printer)) > 200, what="the job to run")
    before = len(printer.received)
    printer.faults.reset()
    wait_until(lambda: listener.resets, what="the reset to be noticed")
    assert listener.resets == [True] and listener.abandoned == 1
    wait_until(lambda: listener.state == "OPERATIONAL", what="operational again")
    wait_until(lambda: any(cmd == "M110 N0" for _, cmd in printer.received[before:]), what="a new hello")
    assert not finished.is_set()
    connection.send("M105")
    wait_until(lambda: any(cmd == "M105" for _, cmd in printer.received[before:]), what="commands to flow again")


def test_action_commands_reach_the_listener(connect):
    printer, _connection, listener = connect()
    printer.faults.action("pause")
    printer.faults.action("notification Filament low")
    wait_until(lambda: len(listener.actions) == 2, what="the actions")
    assert listener.actions == [("pause", ""), ("notification", "Filament low")]


def test_busy_keepalives_prevent_a_timeout(connect):
    printer, connection, listener = connect(options=ConnectionOptions(comm_timeout=1.5, busy_timeout=1.5),
                                            busy_interval=1)
    printer.faults.busy_next(3.0, "G28")
    connection.send("G28")
    connection.send("M117 done")
    wait_until(lambda: any(cmd == "M117 done" for _, cmd in printer.received), timeout=10, what="the G28 to end")
    assert not any("timeout" in note.lower() for note in listener.notes)
    assert connection.operational


def test_a_silent_printer_ends_in_an_error_after_the_timeouts(connect):
    printer, connection, listener = connect(options=ConnectionOptions(comm_timeout=0.3, max_timeouts_idle=2))
    printer.faults.go_silent()
    connection.send("M105")
    wait_until(lambda: listener.state == "CLOSED_WITH_ERROR", timeout=10, what="giving up")
    assert "timeouts" in connection.machine.error


def test_an_emergency_stop_jumps_the_queue_and_closes(connect):
    printer, connection, listener = connect()
    connection.send("M109 S250")  # the firmware blocks here, heating
    connection.send("G28")
    connection.send("M112")
    wait_until(lambda: listener.state == "CLOSED_WITH_ERROR", what="the emergency stop")
    assert b"M112\n" in listener.sent
    assert "G28" not in [cmd for _, cmd in printer.received]


def test_m108_breaks_a_heat_wait_through_the_emergency_lane(connect):
    printer, connection, _listener = connect(heat_speed=0.01)
    connection.send("M109 S250")
    connection.send("G28")
    time.sleep(0.3)
    connection.send("M108")
    wait_until(lambda: any(cmd == "G28" for _, cmd in printer.received), what="the wait to end")


def test_a_request_for_a_line_no_longer_held_is_an_error_not_a_wrong_line(connect):
    printer, connection, listener = connect()
    run_job(connection, job_lines(1500))
    sent_before = len(listener.sent)
    printer.faults.send("Resend: 3")  # long gone from the 1024-line history
    wait_until(lambda: listener.state == "CLOSED_WITH_ERROR", what="the error state")
    assert "no longer in the resend history" in connection.machine.error
    assert all(not line.startswith(b"N3 ") for line in listener.sent[sent_before:])
