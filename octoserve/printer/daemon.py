"""The printer daemon: its own process owning the port; a Unix socket for requests and subscriptions."""
import argparse
import logging
import os
import signal
import socket
import socketserver
import threading

from octoserve.printer import protocol
from octoserve.printer.publisher import Publisher

log = logging.getLogger(__name__)

QUERIES = frozenset({"snapshot", "connection_options", "temperature_history", "terminal", "sd_files"})


class _Handler(socketserver.StreamRequestHandler):
    """One client connection: requests answered in order, or a subscription held open."""

    def handle(self):
        server = self.server
        for line in iter(lambda: self.rfile.readline(protocol.MAX_LINE), b""):
            try:
                message = protocol.decode(line)
            except ValueError:
                self._reply({"id": None, "error": {"type": "Invalid", "message": "malformed request"}})
                continue
            if message.get("method") == "subscribe":
                subscriber = server.publisher.add(self.request)
                _hold(self.request, subscriber)
                subscriber.drop("it left", logging.DEBUG)
                return
            self._reply(server.dispatch(message))

    def _reply(self, reply):
        try:
            self.wfile.write(protocol.encode(reply))
            self.wfile.flush()
        except OSError:
            pass


def _hold(sock, subscriber) -> None:
    """Keep a subscription open until the client leaves (the socket's send timeout cuts reads short)."""
    while subscriber.alive:
        try:
            if not sock.recv(4096):
                return
        except TimeoutError:
            continue
        except OSError:
            return


class DaemonServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """The socket side of the daemon; the PrinterService does the work."""

    daemon_threads = True

    def __init__(self, path, service):
        self.service = service
        self.shutdown_requested = threading.Event()
        self.publisher = Publisher(service)
        service.attach(self.publisher)
        _claim_socket_path(path)
        old_umask = os.umask(0o177)  # created 0600: whoever can write to it can move the printer
        try:
            super().__init__(str(path), _Handler)
        finally:
            os.umask(old_umask)
        os.chmod(path, 0o600)
        self.path = path

    def dispatch(self, message) -> dict:
        request_id = message.get("id")
        method = message.get("method")
        if method == "shutdown":  # from a supervisor that adopted this daemon
            self.shutdown_requested.set()
            return {"id": request_id, "result": None}
        try:
            result = self.service.handle(method, message.get("params") or {})
            if method == "snapshot":
                result = result.to_wire()
            reply = {"id": request_id, "result": result}
            if method not in QUERIES:
                # The caller reads the state it just changed next: give it the new picture now,
                # rather than after the publisher's next tick.
                reply["snapshot"] = self.service.snapshot().to_wire()
            return reply
        except Exception as exc:  # reported to the caller; the daemon keeps running
            if not hasattr(exc, "message"):
                log.exception("request %s failed", message.get("method"))
            return protocol.error_reply(request_id, exc)

    def start(self) -> "DaemonServer":
        self.publisher.start()
        # A short poll: stop() waits for the next one, and tests start and stop many daemons.
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, name="daemon-socket",
                         daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.publisher.stop()
        self.server_close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def _claim_socket_path(path) -> None:
    """Remove a socket left by a dead daemon; refuse to start beside a live one."""
    if not os.path.exists(path):
        return
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError:
        os.unlink(path)
        return
    finally:
        probe.close()
    raise SystemExit(f"another printer daemon is already serving {path}")


def main(argv=None) -> None:
    """``python -m octoserve.printer.daemon --basedir DIR``: run until SIGTERM or SIGINT."""
    from octoserve.printer.service import PrinterService

    parser = argparse.ArgumentParser(prog="octoserve-printer-daemon")
    parser.add_argument("--basedir", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s printer: %(message)s")
    service = PrinterService.open(args.basedir)
    server = DaemonServer(protocol.socket_path(args.basedir), service).start()
    stopped = server.shutdown_requested
    signalled = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        # Only a list append: Event.set takes a lock, and a second signal arriving while the main
        # thread is inside the first one's set() deadlocked the daemon (the supervisor terminates twice).
        signal.signal(signum, lambda number, _frame: signalled.append(number))
    service.autoconnect()
    while not signalled and not stopped.wait(0.1):
        pass
    service.shutdown()
    server.stop()


if __name__ == "__main__":
    main()
