"""Stopping the server tells push clients (Shutdown) and does not wait on them."""
import os
import signal
import time

from octoserve import events
from tests.cli_helpers import Server, ok
from tests.daemon_helpers import wait_for
from tests.push.clients import PushClient, SockJSClient, passive_session

KEY = "shutdown-key-".ljust(40, "x")


def test_sigterm_sends_shutdown_and_ends_quickly_with_clients_connected(tmp_path):
    basedir = tmp_path / "base"
    basedir.mkdir()
    ok("user", "add", "admin", "--password", "admin-pw", "--admin", "--apikey", KEY, basedir=basedir)
    ok("config", "set", "server.firstRun", "false", basedir=basedir)
    server = Server(basedir, tmp_path).start()
    clients = []
    try:
        for client_class in (PushClient, SockJSClient):
            client = client_class(server)
            client.wait("connected")
            client.authenticate(*passive_session(server, KEY))
            clients.append(client)
        started = time.monotonic()
        os.kill(server.proc.pid, signal.SIGTERM)
        server.proc.wait(timeout=8)
        took = time.monotonic() - started
        for client in clients:
            assert client.events(events.SHUTDOWN), client.frames[-3:]
            wait_for(lambda c=client: c.closed, 5, "the server to close the push connection")
        assert took < 5.0, f"the server took {took:.1f} s to stop"  # its graceful timeout is 10 s
    finally:
        for client in clients:
            client.close()
        server.stop()
