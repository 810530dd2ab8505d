"""Jobs in the daemon against the virtual printer: streaming a file, progress, pause, resume, cancel."""
import pytest

from octoserve.errors import Conflict
from octoserve.printer.snapshot import BusyFile
from tests.daemon_helpers import connect_virtual, wait_for

MOVES = [f"G1 X{i % 150} Y{(i * 3) % 150} E{i * 0.02:.3f} F3000" for i in range(400)]


def write_job(basedir, lines=MOVES, name="part.gcode"):
    path = basedir / name
    text = "; a test part\nG28 ; home\n" + "\n".join(f"{line} ; segment" for line in lines) + "\nM84\n"
    path.write_text(text)
    return path


def select(client, path, **extra):
    client.call("job_select", origin="local", path=path.name, abs_path=str(path), size=path.stat().st_size,
                date=int(path.stat().st_mtime), estimated_print_time=120.0,
                filament={"tool0": {"length": 100.0, "volume": 0.24}}, **extra)


def received(daemon):
    return [command for _, command in daemon.ports.printer.received]


def state(client):
    return client.snapshot.state.text


def test_a_selected_file_prints_every_line_once_in_order(printer_daemon, printer_client):
    connect_virtual(printer_client)
    path = write_job(printer_daemon.basedir)
    select(printer_client, path)
    job = printer_client.call("snapshot").job
    assert job.file.path == "part.gcode" and job.estimated_print_time == 120.0
    printer_client.call("job_start", user="alice")
    wait_for(lambda: "M84" in received(printer_daemon), what="the last line")
    wait_for(lambda: state(printer_client) == "Operational", what="the end of the job")
    lines = received(printer_daemon)
    start = lines.index("G28")
    assert lines[start:start + len(MOVES) + 2] == ["G28", *MOVES, "M84"]  # comments stripped, nothing lost
    progress = printer_client.call("snapshot").progress
    assert progress.completion == 100.0 and progress.print_time_left == 0


def test_progress_and_busy_files_while_printing(printer_daemon, printer_client):
    connect_virtual(printer_client)
    printer_daemon.ports.printer.options.move_time = 0.005  # slow the printer so we can watch
    path = write_job(printer_daemon.basedir)
    select(printer_client, path, print=True, user="bob")
    wait_for(lambda: (printer_client.call("snapshot").progress.completion or 0) > 5, what="progress")
    snapshot = printer_client.call("snapshot")
    assert snapshot.state.text == "Printing"
    assert snapshot.busy_files == (BusyFile("local", "part.gcode"),)
    assert snapshot.job.user == "bob"
    progress = snapshot.progress
    assert 0 < progress.filepos < path.stat().st_size
    assert progress.print_time_left_origin in ("analysis", "mixed-analysis")
    with pytest.raises(Conflict):
        printer_client.call("job_start")
    with pytest.raises(Conflict):
        select(printer_client, path)
    printer_client.call("job_cancel")
    wait_for(lambda: state(printer_client) == "Operational", what="the cancel")


def test_pause_resume_and_cancel_reach_the_firmware(printer_daemon, printer_client):
    connect_virtual(printer_client)
    printer_daemon.ports.printer.options.move_time = 0.005
    path = write_job(printer_daemon.basedir)
    select(printer_client, path, print=True)
    wait_for(lambda: len(received(printer_daemon)) > 50, what="the job to run")
    printer_client.call("job_pause", action="pause")
    wait_for(lambda: state(printer_client) == "Paused", what="paused")
    count = len(received(printer_daemon))
    wait_for(lambda: received(printer_daemon)[-1] == "M114", what="the position query")
    assert printer_client.call("snapshot").progress.print_time is not None
    printer_client.call("job_pause", action="pause")  # pausing while paused changes nothing
    assert state(printer_client) == "Paused"
    assert len([c for c in received(printer_daemon)[count:] if c.startswith("G1")]) == 0
    printer_client.call("job_pause", action="resume")
    wait_for(lambda: len([c for c in received(printer_daemon)[count:] if c.startswith("G1")]) > 10,
             what="streaming again")
    printer_client.call("job_cancel")
    wait_for(lambda: received(printer_daemon)[-1] == "M106 S0", what="the afterPrintCancelled script")
    assert state(printer_client) == "Operational"
    tail = received(printer_daemon)[-4:]
    assert tail == ["M84", "M104 T0 S0", "M140 S0", "M106 S0"]  # afterPrintCancelled
    moves = [c for c in received(printer_daemon) if c.startswith("G1 X")]
    assert moves == MOVES[:len(moves)]  # never a line twice, never out of order
    assert len(moves) < len(MOVES)


def test_job_commands_need_an_operational_printer(printer_client, printer_daemon):
    path = write_job(printer_daemon.basedir)
    for call in (lambda: printer_client.call("job_start"), lambda: printer_client.call("job_cancel"),
                 lambda: select(printer_client, path)):
        with pytest.raises(Conflict):
            call()


def test_a_print_survives_injected_resends_with_every_line_once(basedir, services):
    from octoserve.printer.client import PrinterClient
    from tests.daemon_helpers import RunningDaemon

    daemon = RunningDaemon(basedir, resend_every=7)
    client = PrinterClient(basedir, services.events, retry_interval=0.05).start()
    try:
        assert client.wait_connected(5)
        connect_virtual(client)
        path = write_job(basedir)
        select(client, path, print=True)
        wait_for(lambda: "M84" in received(daemon), timeout=30, what="the whole file")
        lines = received(daemon)
        start = lines.index("G28")
        assert lines[start:start + len(MOVES) + 2] == ["G28", *MOVES, "M84"]
        wait_for(lambda: client.snapshot.resends.count >= len(MOVES) // 7, what="the resend count")
        wait_for(lambda: daemon.service.job.history.stats("local", "part.gcode")["prints"]["success"] == 1,
                 what="the print in the history")
        last = daemon.service.job.history.stats("local", "part.gcode")["prints"]["last"]
        assert last["success"] is True and last["printTime"] > 0
    finally:
        client.stop()
        daemon.stop()
