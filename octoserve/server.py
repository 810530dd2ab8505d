"""`serve`: run the web application under gunicorn (gthread workers) through its application API."""
import logging

from gunicorn.app.base import BaseApplication

from octoserve.app import create_app
from octoserve.services import open_services

log = logging.getLogger(__name__)


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class WebServer(BaseApplication):
    """One worker process with a pool of request threads.

    One process because login rate limits and socket session tokens live in its memory;
    threads because requests mostly wait on I/O (files, the printer daemon's socket).
    """

    def __init__(self, basedir, host: str, port: int, threads: int):
        self.basedir, self.host, self.port, self.threads = basedir, host, port, threads
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
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self):
        return create_app(self.basedir, port=self.port)


def serve(basedir=None, host=None, port=None) -> None:
    """Check the base directory, then serve until stopped (SIGTERM or SIGINT)."""
    services = open_services(basedir)  # a corrupt database stops us here, with its name
    host = host or services.settings.get("server.host")
    port = port or services.settings.get("server.port")
    log.info("octoserve on http://%s with base directory %s", bind_address(host, port), services.basedir)
    WebServer(services.basedir, host, port, services.settings.get("server.threads")).run()
