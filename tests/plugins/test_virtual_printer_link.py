"""The pty link: standalone mode with a symlink, clean stop, pyserial URL access."""
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import serial

from octoserve_plugins.virtual_printer import Options, VirtualPrinter, link, run_link
from tests.plugins.serial_host import Host


def wait_for(condition, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def talk(path):
    port = serial.serial_for_url(path, 250000, timeout=2)
    try:
        while port.readline().rstrip() != b"echo:SD card ok":
            pass
        port.write(b"M105\n")
        return port.readline()
    finally:
        port.close()


ENTRY_POINTS = {"cli": ["-m", "octoserve", "virtual-printer"], "module": ["-m", "octoserve_plugins.virtual_printer"]}


@pytest.mark.parametrize("command", ENTRY_POINTS.values(), ids=ENTRY_POINTS.keys())
def test_standalone_process_links_serves_and_unlinks_on_sigterm(tmp_path, command):
    link = tmp_path / "printer"
    process = subprocess.Popen([sys.executable, *command, "--link", str(link), "--advanced-ok",
                                "--sd-folder", str(tmp_path)], cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(link.is_symlink)
        assert os.readlink(link).startswith("/dev/pts/")
        assert talk(str(link)).startswith(b"ok T:21.30 /0.00")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
    finally:
        process.kill()
        process.wait()
    assert not os.path.lexists(link)
    assert "linked at" in process.stderr.read()


def test_run_link_in_a_thread_stops_on_its_event(tmp_path):
    link, stop = tmp_path / "printer", threading.Event()
    runner = threading.Thread(target=run_link, args=(str(link), Options(sd_folder=str(tmp_path)), stop))
    runner.start()
    try:
        wait_for(link.is_symlink)
        assert talk(str(link)).startswith(b"ok T:")
    finally:
        stop.set()
        runner.join(5)
    assert not runner.is_alive() and not os.path.lexists(link)


def open_fds():
    return set(os.listdir("/proc/self/fd"))


def test_stop_leaks_no_fds_threads_or_temp_folder():
    threads, fds = threading.active_count(), open_fds()
    printer = VirtualPrinter(heat_speed=100).start()
    folder = printer.sd_folder
    host = Host.connect(printer)
    host.ask("M109 S40")
    host.send("M109 S250")                     # stop() must interrupt a blocking command
    host.readline()
    printer.stop()
    host.close()
    assert not printer.alive and threading.active_count() == threads
    assert open_fds() == fds and not os.path.exists(folder)


def test_stop_after_disconnect_and_without_a_host():
    fds = open_fds()
    for unplug in (True, False):
        printer = VirtualPrinter().start()
        if unplug:
            printer.faults.disconnect()
            wait_for(lambda printer=printer: not printer.alive)
        printer.stop()
    assert open_fds() == fds


def test_no_banner_without_reset_on_open(tmp_path):
    with VirtualPrinter(reset_on_open=False, sd_folder=str(tmp_path)) as printer:
        host = Host.connect(printer, banner=False)
        try:
            host.send("M105")
            assert host.readline().startswith(b"ok T:")   # first thing on the wire: no "start"
        finally:
            host.close()


def test_every_open_resets_even_a_fast_reopen(printer):
    for attempt in range(5):
        host = Host(printer.slave_path)
        try:
            assert host.readline() == b"start\n", attempt
        finally:
            host.close()


def test_host_presence_by_polling_without_inotify(monkeypatch, tmp_path):
    def unavailable(path):
        raise OSError("no inotify here")

    monkeypatch.setattr(link, "OpenWatch", unavailable)
    with VirtualPrinter(sd_folder=str(tmp_path)) as printer:
        for _ in range(2):
            host = Host.connect(printer)
            try:
                assert host.ask("M105")[0].startswith("ok T:")
            finally:
                host.close()
            wait_for(lambda: not printer.host_connected)
