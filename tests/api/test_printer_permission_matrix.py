"""Every connection, printer and printer-profile endpoint x every caller: one test case per cell.

Callers as in tests/api/test_permission_matrix.py: ``anonymous`` (no credentials, a valid CSRF
cookie and header) and the personas guest/readonly/user/admin by API key. Permissions by
default group: guests none, readonly STATUS, users STATUS + CONNECTION + CONTROL, admins all
(SETTINGS only through ADMIN).

One server, daemon and virtual printer serve the whole module (connected once, with the
default profile), so the allowed callers get real answers: 200/204, or the 409 the state gives
(no heated chamber), which shows that the permission is checked before the state. Writes that
change something are allowed to the admin alone, and each one has its own target profile, so
the cells do not depend on one another's order.
"""
import shutil

import pytest

from octoserve.app import create_app
from octoserve.printer.client import PrinterClient
from octoserve.services import open_services
from tests.api.printer_helpers import settle
from tests.api.seeded import FORBIDDEN_TEXT, assert_error, key
from tests.conftest import PORT, with_csrf
from tests.daemon_helpers import RunningDaemon, connect_virtual

ANONYMOUS = "anonymous"
CALLERS = (ANONYMOUS, "guest", "readonly", "user", "admin")
HOLDERS = {  # which callers hold each permission
    "STATUS": {"readonly", "user", "admin"},
    "CONNECTION": {"user", "admin"},
    "CONTROL": {"user", "admin"},
    "SETTINGS": {"admin"},
}
NO_CHAMBER = 409


def needs(permission, status=200):
    return {caller: status if caller in HOLDERS[permission] else 403 for caller in CALLERS}


PROFILES = "/api/printerprofiles"
ENDPOINTS = [
    # (id, method, path, JSON body or None, {caller: expected status})
    ("connection-get", "GET", "/api/connection", None, needs("STATUS")),
    ("connection-post", "POST", "/api/connection", {"command": "fake_ack"}, needs("CONNECTION", 204)),
    ("printer-get", "GET", "/api/printer", None, needs("STATUS")),
    ("tool-get", "GET", "/api/printer/tool", None, needs("STATUS")),
    ("bed-get", "GET", "/api/printer/bed", None, needs("STATUS")),
    ("chamber-get", "GET", "/api/printer/chamber", None, needs("STATUS", NO_CHAMBER)),
    ("sd-get", "GET", "/api/printer/sd", None, needs("STATUS")),
    ("tool-post", "POST", "/api/printer/tool", {"command": "target", "targets": {"tool0": 0}}, needs("CONTROL", 204)),
    ("bed-post", "POST", "/api/printer/bed", {"command": "target", "target": 0}, needs("CONTROL", 204)),
    ("chamber-post", "POST", "/api/printer/chamber", {"command": "target", "target": 0},
     needs("CONTROL", NO_CHAMBER)),
    ("printhead-post", "POST", "/api/printer/printhead", {"command": "feedrate", "factor": 100},
     needs("CONTROL", 204)),
    ("sd-post", "POST", "/api/printer/sd", {"command": "refresh"}, needs("CONTROL", 204)),
    ("command-post", "POST", "/api/printer/command", {"command": "M117 matrix"}, needs("CONTROL", 204)),
    ("custom-get", "GET", "/api/printer/command/custom", None, needs("CONTROL")),
    ("profiles-get", "GET", PROFILES, None, needs("CONNECTION")),
    ("profile-get", "GET", f"{PROFILES}/_default", None, needs("CONNECTION")),
    ("profiles-post", "POST", PROFILES, {"profile": {"id": "added", "name": "Added"}}, needs("SETTINGS")),
    ("profile-patch", "PATCH", f"{PROFILES}/patched", {"profile": {"name": "Patched again"}}, needs("SETTINGS")),
    ("profile-post", "POST", f"{PROFILES}/posted", {"profile": {"name": "Posted again"}}, needs("SETTINGS")),
    ("profile-delete", "DELETE", f"{PROFILES}/deleted", None, needs("SETTINGS", 204)),
]
CELLS = [
    pytest.param(method, path, body, caller, expected[caller], id=f"{endpoint}-{caller}")
    for endpoint, method, path, body, expected in ENDPOINTS
    for caller in CALLERS
]


@pytest.fixture(scope="module")
def app(persona_template, tmp_path_factory):
    """One server for the module: the personas' base directory, its daemon, connected to VIRTUAL."""
    basedir = tmp_path_factory.mktemp("printer-matrix") / "base"
    shutil.copytree(persona_template, basedir)
    services = open_services(basedir)
    for identifier in ("patched", "posted", "deleted"):
        services.profiles.add({"id": identifier, "name": identifier.title()})
    daemon = RunningDaemon(basedir, heat_speed=50)
    printer = PrinterClient(basedir, services.events, retry_interval=0.05).start()
    try:
        assert printer.wait_connected(5)
        connect_virtual(printer)
        app = create_app(services=services, port=PORT, printer=printer)
        app.testing = True
        settle(app)
        yield app
    finally:
        printer.stop()
        daemon.stop()


def test_matrix_covers_every_endpoint_for_every_caller():
    for endpoint, _method, _path, _body, expected in ENDPOINTS:
        assert tuple(expected) == CALLERS, endpoint
    assert len(CELLS) == len(CALLERS) * len(ENDPOINTS)


@pytest.mark.parametrize("method, path, body, caller, expected", CELLS)
def test_printer_permission_matrix(app, method, path, body, caller, expected):
    client = app.test_client()
    headers = with_csrf(client) if caller == ANONYMOUS else key(caller)
    kwargs = {"headers": headers}
    if body is not None:
        kwargs["json"] = body
    response = client.open(path, method=method, **kwargs)

    assert response.status_code == expected, response.get_data(as_text=True)
    if expected == 403:
        assert_error(response, 403, FORBIDDEN_TEXT)
    elif expected == NO_CHAMBER:
        assert_error(response, 409, "Printer does not have a heated chamber")
    elif expected == 204:
        assert response.get_data() == b""
    else:
        assert response.mimetype == "application/json"
