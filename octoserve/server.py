"""`serve`: start the printer daemon, run gunicorn (gevent worker) on the web app, and stop both."""
import logging
import os
import subprocess
import sys

import gevent
from gunicorn.app.base import BaseApplication
from gunicorn.workers.ggevent import GeventWorker

from octoserve.app import create_app
from octoserve.services import open_services

log = logging.getLogger(__name__)


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Supervisor:
    """The supervisor process (octoserve.printer.supervisor) that keeps the printer daemon running.

    It is a process of its own because gunicorn's arbiter reaps every child it has: a daemon
    spawned here would have its exit status stolen.
    """

    def __init__(self, basedir):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "octoserve.printer.supervisor", "--basedir", str(basedir)])

    def stop(self, timeout: float = 20.0) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()


# The printer daemon must win the CPU over request handling: on a 2-core board, clients polling
# the API as fast as they can would otherwise starve the streaming loop (the benchmark's
# "8 pollers" case). Raising one's own niceness needs no privilege.
WEB_WORKER_NICE = 10


def _lower_worker_priority(_server, _worker) -> None:
    try:
        os.nice(WEB_WORKER_NICE)
    except OSError as exc:
        log.warning("could not lower the web worker's priority: %s", exc)


class PushAwareWorker(GeventWorker):
    """gunicorn's gevent worker that, when told to stop, tells push clients (Shutdown) and lets them go.

    Otherwise it would wait its whole graceful timeout for connections that never end by themselves.
    """

    def handle_exit(self, sig, frame):
        super().handle_exit(sig, frame)
        gevent.spawn(self._end_push)

    def _end_push(self) -> None:
        hub = getattr(self.wsgi, "extensions", {}).get("octoserve.push")
        if hub is not None:
            hub.shut_down()


class WebServer(BaseApplication):
    """One gevent worker process: every connection, HTTP or push, is a greenlet.

    One process because login rate limits, socket session tokens and push sessions live in
    its memory. gevent because a push client holds its connection for hours: with a pool of
    request threads, each one would take a thread, and slow or idle clients would starve the
    API (see docs/architecture.rst). ``keepalive`` bounds the wait for a request's headers,
    the first request included: a client that sends half a request is dropped after it.
    """

    def __init__(self, basedir, host: str, port: int, connections: int, on_exit=None):
        self.basedir, self.host, self.port, self.connections = basedir, host, port, connections
        self._on_exit = on_exit
        super().__init__()

    def load_config(self):
        options = {
            "bind": bind_address(self.host, self.port),
            "workers": 1,
            "worker_class": PushAwareWorker,
            "worker_connections": self.connections,
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
        options["post_fork"] = _lower_worker_priority
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
    supervisor = Supervisor(services.basedir)
    log.info("octoserve on http://%s with base directory %s", bind_address(host, port), services.basedir)
    try:
        WebServer(services.basedir, host, port, services.settings.get("server.maxConnections"),
                  on_exit=supervisor.stop).run()
    finally:
        supervisor.stop()
