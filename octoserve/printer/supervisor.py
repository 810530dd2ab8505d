"""Keeps one printer daemon running: its own small process, so the web server's reaping never confuses it."""
import argparse
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time

from octoserve.printer import protocol

log = logging.getLogger(__name__)


def daemon_alive(basedir) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(protocol.socket_path(basedir)))
        return True
    except OSError:
        return False
    finally:
        probe.close()


def request_shutdown(basedir, timeout: float = 15.0) -> None:
    """Ask a daemon we did not start (we adopted it) to stop, and wait until its socket is gone."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(protocol.socket_path(basedir)))
            sock.sendall(protocol.encode({"id": 1, "method": "shutdown", "params": {}}))
            sock.makefile("rb").readline()
    except OSError:
        return
    deadline = time.monotonic() + timeout
    while daemon_alive(basedir) and time.monotonic() < deadline:
        time.sleep(0.05)


class DaemonSupervisor:
    """Starts the daemon, restarts it when it dies, stops it at the end.

    A daemon already serving the base directory (left by a server that was killed) is adopted
    rather than replaced, so restarting the web side never interrupts a print; it is stopped
    at the end like our own.
    """

    def __init__(self, basedir, restart_delay: float = 1.0):
        self.basedir = basedir
        self.restart_delay = restart_delay
        self.process = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def _spawn(self) -> None:
        with self._lock:
            if self._stopping.is_set():
                return
            if daemon_alive(self.basedir):
                log.info("adopting the printer daemon already serving %s", self.basedir)
                self.process = None
                return
            self.process = subprocess.Popen(
                [sys.executable, "-m", "octoserve.printer.daemon", "--basedir", str(self.basedir)])

    def run(self) -> None:
        """Watch until stop(), or until the server that started us is gone (then leave the daemon be:
        the print goes on and the next server adopts it); on the main thread of the supervisor."""
        parent = os.getppid()
        self._spawn()
        while not self._stopping.is_set():
            if os.getppid() != parent:
                log.warning("the server is gone; leaving the printer daemon running for the next one")
                self._stopping.set()
                return
            process = self.process
            if process is not None:
                code = process.poll()
                if code is None:
                    self._stopping.wait(0.2)
                    continue
                if self._stopping.is_set():
                    return
                log.error("the printer daemon exited with status %s; restarting it", code)
            elif daemon_alive(self.basedir):
                self._stopping.wait(1.0)
                continue
            self._stopping.wait(self.restart_delay)
            self._spawn()

    def stop(self, timeout: float = 15.0) -> None:
        with self._lock:
            self._stopping.set()
            process = self.process
        if process is None:
            request_shutdown(self.basedir, timeout)
            return
        if process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main(argv=None) -> None:
    """``python -m octoserve.printer.supervisor --basedir DIR``: until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(prog="octoserve-printer-supervisor")
    parser.add_argument("--basedir", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s supervisor: %(message)s")
    parent = os.getppid()
    supervisor = DaemonSupervisor(args.basedir)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: threading.Thread(target=supervisor.stop).start())
    supervisor.run()
    if os.getppid() == parent:
        supervisor.stop()


if __name__ == "__main__":
    main()
