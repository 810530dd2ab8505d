"""Fixtures every test directory may use: a real base directory, the services on it, the app,
its users, the printer daemon in a thread of the test process and virtual printers.

Test modules never import fixtures (pyflakes would see every use as a redefinition); a module
that needs another variant of one defines it, e.g. ``printer`` to give ``app`` its printer.

Persona users (and a second ordinary user, ``other``, and a removable custom group,
``custom``) are created once in a template base directory: hashing a password costs 30-50 ms
(scrypt) and the permission matrices alone run hundreds of tests. Every test that asks for
``personas`` gets its own fresh copy of that directory, never a shared one. The copy has
finished the setup wizard (``server.firstRun`` is false), as a server in use has; tests that
need a first-run state use no personas (an empty base directory) or set the flag themselves.
"""
import shutil

import pytest

from octoserve.app import create_app
from octoserve.printer.client import PrinterClient
from octoserve.services import open_services
from octoserve_plugins.virtual_printer import VirtualPrinter
from tests.daemon_helpers import RunningDaemon

PORT = 5000
CSRF_COOKIE = f"csrf_token_P{PORT}"
PASSWORD = "correct horse"

# persona -> groups; each persona user gets an API key "<persona>" padded to 40 chars.
PERSONAS = {
    "guest": ["guests"],
    "readonly": ["readonly"],
    "user": ["users"],
    "admin": ["users", "admins"],
}
OTHER = "other"  # an ordinary user nobody in the permission matrices is
CUSTOM_GROUP = "custom"  # a changeable, removable group


def persona_key(name: str) -> str:
    return (name + "-key-").ljust(40, "x")


def with_csrf(client) -> dict:
    """Give a test client a CSRF cookie and return the matching header."""
    token = "test-csrf-token"
    client.set_cookie(CSRF_COOKIE, token)
    return {"X-CSRF-Token": token}


def login(client, name, password=PASSWORD, remember=False):
    headers = with_csrf(client)
    return client.post("/api/login", json={"user": name, "pass": password, "remember": remember}, headers=headers)


# -- base directory, services, users -----------------------------------------------------------
@pytest.fixture(scope="session")
def persona_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "base"
    path.mkdir()
    services = open_services(path)
    for name, groups in PERSONAS.items():
        services.users.add(name, PASSWORD, groups=groups, apikey=persona_key(name))
    services.users.add(OTHER, PASSWORD, groups=["users"], apikey=persona_key(OTHER))
    services.groups.add(CUSTOM_GROUP, "Custom", description="made by the tests", permissions=["STATUS"])
    services.settings.set("server.firstRun", False)
    return path


@pytest.fixture
def basedir(tmp_path, request):
    """An empty base directory, or a copy of the template when the test uses ``personas``."""
    path = tmp_path / "base"
    if "personas" in request.fixturenames:
        shutil.copytree(request.getfixturevalue("persona_template"), path)
    else:
        path.mkdir()
    return path


@pytest.fixture
def services(basedir):
    return open_services(basedir)


@pytest.fixture
def personas(services):
    """The persona users (see the module docstring); the base directory already holds them."""
    return PERSONAS


# -- the app -----------------------------------------------------------------------------------
@pytest.fixture
def printer():
    """The app's printer. None: the app opens its own PrinterClient, to a daemon that is not there."""
    return None


@pytest.fixture
def app(services, printer):
    app = create_app(services=services, port=PORT, printer=printer)
    app.testing = True
    yield app
    app.extensions["octoserve.push"].stop()
    app.extensions["octoserve.analysis"].stop()
    if printer is None:
        app.extensions["octoserve.printer"].stop()


@pytest.fixture
def client(app):
    return app.test_client()


# -- the printer daemon and virtual printers ---------------------------------------------------
@pytest.fixture
def printer_options():
    """The virtual printer's options (parametrize it to change them)."""
    return {}


@pytest.fixture
def printer_daemon(basedir, printer_options):
    """The printer daemon in a thread of the test process, its port VIRTUAL a virtual printer."""
    daemon = RunningDaemon(basedir, **printer_options)
    yield daemon
    daemon.stop()


@pytest.fixture
def printer_client(printer_daemon, services):
    client = PrinterClient(printer_daemon.basedir, services.events, retry_interval=0.05).start()
    assert client.wait_connected(5)
    yield client
    client.stop()


@pytest.fixture
def make_printer(tmp_path):
    """VirtualPrinter factory; every printer made is stopped after the test."""
    printers = []

    def make(**options):
        options.setdefault("sd_folder", str(tmp_path))
        options.setdefault("heat_speed", 100.0)
        printer = VirtualPrinter(**options).start()
        printers.append(printer)
        return printer

    yield make
    for made in printers:
        made.stop()
        assert not made.alive
