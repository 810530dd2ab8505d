"""`serve`: start the printer daemon, run gunicorn (gthread) on the web app, and stop both."""
import logging
import socket
import subprocess
import sys
import threading

from gunicorn.app.base import BaseApplication

from octoserve.app import create_app
from octoserve.printer.protocol import socket_path
from octoserve.services import open_services

log = logging.getLogger(__name__)


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def daemon_alive(basedir) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(socket_path(basedir)))
        return True
    except OSError:
        return False
    finally:
        probe.close()


class DaemonSupervisor:
    """Keeps one printer daemon running: starts it, restarts it when it dies, stops it at the end.

    A daemon already serving the base directory (left by a web server that was killed) is
    adopted rather than replaced, so restarting the web side never interrupts a print.
    """

    def __init__(self, basedir, restart_delay: float = 1.0):
        self.basedir = basedir
        self.restart_delay = restart_delay
        self.process = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="daemon-supervisor", daemon=True)

    def start(self) -> "DaemonSupervisor":
        """Spawn without waiting: the web side answers at once and follows the daemon when it is up."""
        self._spawn()
        self._thread.start()
        return self

    def _spawn(self) -> None:
        if daemon_alive(self.basedir):
            log.info("adopting the printer daemon already serving %s", self.basedir)
            self.process = None
            return
        self.process = subprocess.Popen(
            [sys.executable, "-m", "octoserve.printer.daemon", "--basedir", str(self.basedir)])

    def _watch(self) -> None:
        while not self._stopping.is_set():
            if self.process is not None:
                code = self.process.poll()
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
            if not self._stopping.is_set():
                self._spawn()

    def stop(self, timeout: float = 15.0) -> None:
        self._stopping.set()
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class WebServer(BaseApplication):
    """One worker process with a pool of request threads.

    One process because login rate limits and socket session tokens live in its memory;
    threads because requests mostly wait on I/O (files, the printer daemon's socket).
    """

    def __init__(self, basedir, host: str, port: int, threads: int, on_exit=None):
        self.basedir, self.host, self.port, self.threads = basedir, host, port, threads
        self._on_exit = on_exit
        super().__init__()

    def load_config(self):
        options = {
            "bind": bind_address(self.host, self.port),
            "workers": 1,
            "worker_class": "gthread",
            "threads": self.threads,
            "timeout": 60,
            "graceful_timeout": 10,
            "keepalive": 5,
            "proc_name": "octoserve",
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "info",
            # gunicorn 23+ would put a control socket in ~/.gunicorn, outside the base directory.
            "control_socket_disable": True,
        }
        if self._on_exit is not None:
            options["on_exit"] = lambda _server: self._on_exit()
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self):
        return create_app(self.basedir, port=self.port)


def serve(basedir=None, host=None, port=None) -> None:
    """Check the base directory, start the printer daemon, then serve until SIGTERM or SIGINT."""
    services = open_services(basedir)  # a corrupt database stops us here, with its name
    host = host or services.settings.get("server.host")
    port = port or services.settings.get("server.port")
    supervisor = DaemonSupervisor(services.basedir).start()
    log.info("octoserve on http://%s with base directory %s", bind_address(host, port), services.basedir)
    try:
        WebServer(services.basedir, host, port, services.settings.get("server.threads"),
                  on_exit=supervisor.stop).run()
    finally:
        supervisor.stop()
