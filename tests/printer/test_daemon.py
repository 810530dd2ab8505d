"""The printer daemon and its client over the real Unix socket: requests, snapshots, events, failures."""
import os
import signal
import stat
import subprocess
import sys
import time

import pytest

from octoserve.errors import Invalid, NotOperational
from octoserve.printer.client import PrinterClient
from octoserve.printer.protocol import socket_path
from octoserve.printer.snapshot import ConnectionInfo
from tests.daemon_helpers import RunningDaemon, connect_virtual, wait_for


def test_the_socket_is_private_to_its_owner(printer_daemon):
    mode = os.stat(socket_path(printer_daemon.basedir)).st_mode
    assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600


def test_a_fresh_daemon_is_offline_and_offers_virtual(printer_client):
    snapshot = printer_client.snapshot
    assert snapshot.available and snapshot.state.text == "Offline"
    assert snapshot.flags.closed_or_error
    assert "VIRTUAL" in printer_client.call("connection_options")["ports"]


def test_connect_gives_operational_and_events(printer_client, services):
    seen = []
    services.events.subscribe(lambda name, payload: seen.append((name, payload)))
    connect_virtual(printer_client)
    snapshot = printer_client.snapshot
    assert snapshot.connection == ConnectionInfo(port="VIRTUAL", baudrate=250000, profile="_default")
    wait_for(lambda: ("Connected", {"port": "VIRTUAL", "baudrate": 250000}) in seen, what="the Connected event")
    states = [payload["state_id"] for name, payload in seen if name == "PrinterStateChanged"]
    assert states[-1] == "OPERATIONAL"


def test_commands_reach_the_printer_and_targets_show_at_once(printer_daemon, printer_client):
    connect_virtual(printer_client)
    printer_client.call("commands", commands=["M104 S210", "G28 X"])
    assert printer_client.call("snapshot").temperatures["tool0"].target == 210
    wait_for(lambda: ["M104 S210", "G28 X"] == [c for _, c in printer_daemon.ports.printer.received][-2:],
             what="the commands at the printer")
    terminal = printer_client.call("terminal", limit=300)
    assert any(line.startswith("Send: M104 S210") for line in terminal)
    assert any(line.startswith("Recv: ok") for line in terminal)


def test_temperature_history_is_kept_in_the_daemon(printer_client):
    connect_virtual(printer_client)
    printer_client.call("commands", commands=["M140 S60"])
    wait_for(lambda: len(printer_client.call("temperature_history")) >= 2, timeout=10, what="two reports")
    history = printer_client.call("temperature_history", limit=1)
    assert len(history) == 1 and set(history[0]) >= {"time", "tool0", "bed"}


def test_domain_errors_cross_the_socket(printer_client):
    with pytest.raises(NotOperational):
        printer_client.call("commands", commands=["M105"])
    with pytest.raises(Invalid):
        printer_client.call("connect", port="/dev/nonexistent")
    with pytest.raises(Invalid):
        printer_client.call("no_such_request")


def test_a_dead_daemon_is_an_error_state_and_a_new_one_is_followed(basedir, services):
    daemon = RunningDaemon(basedir)
    client = PrinterClient(basedir, services.events, retry_interval=0.05, max_retry_interval=0.1).start()
    try:
        assert client.wait_connected(5)
        daemon.stop()
        wait_for(lambda: not client.snapshot.available, what="the client to notice")
        assert client.snapshot.state.text == "Error"
        assert "daemon" in client.snapshot.state.error
        with pytest.raises(NotOperational):
            client.call("snapshot")
        daemon = RunningDaemon(basedir)
        wait_for(lambda: client.snapshot.available, what="the client to follow the new daemon")
        assert client.call("snapshot").state.text == "Offline"
    finally:
        client.stop()
        daemon.stop()


def test_a_second_daemon_refuses_to_start_beside_a_live_one(printer_daemon):
    with pytest.raises(SystemExit):
        RunningDaemon(printer_daemon.basedir)


def test_a_burst_of_sigterms_still_stops_the_daemon_at_once(tmp_path):
    # The supervisor terminates twice (from its signal thread and its main thread); a handler that
    # took a lock deadlocked when the second signal came inside the first one's handling.
    for _ in range(3):
        basedir = tmp_path / f"base{_}"
        basedir.mkdir()
        process = subprocess.Popen([sys.executable, "-m", "octoserve.printer.daemon", "--basedir", str(basedir)])
        try:
            wait_for(lambda b=basedir: socket_path(b).exists(), 20, "the daemon's socket")
            time.sleep(0.2)
            for _signal in range(30):
                process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=5) == 0
        finally:
            process.kill()
            process.wait()
