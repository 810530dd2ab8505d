"""GET and POST /api/job end to end: API -> daemon -> comm layer -> virtual printer."""
import pytest

from tests.api.printer_helpers import connect, snapshot
from tests.api.seeded import assert_error, key
from tests.daemon_helpers import wait_for


@pytest.fixture
def printer(printer_client):
    """The app drives the printer daemon, down to the virtual printer."""
    return printer_client


ADMIN, USER = key("admin"), key("user")
MOVES = [f"G1 X{i % 100} Y{(i * 3) % 100} E{i * 0.02:.3f} F3000" for i in range(300)]


@pytest.fixture
def part(basedir):
    path = basedir / "part.gcode"
    path.write_text("G28\n" + "\n".join(MOVES) + "\nM84\n")
    return path


def select(app, path, **extra):
    app.extensions["octoserve.printer"].call(
        "job_select", origin="local", path=path.name, abs_path=str(path), name=path.name, display=path.name,
        size=path.stat().st_size, date=int(path.stat().st_mtime), estimated_print_time=60.0,
        filament={"tool0": {"length": 12.5, "volume": 0.03}}, **extra)


def state(app):
    return snapshot(app).state.text


def test_job_while_disconnected_has_the_fresh_shape(client, personas):
    response = client.get("/api/job", headers=key("readonly"))
    assert response.status_code == 200
    assert response.get_json() == {
        "job": {"file": {"name": None, "path": None, "size": None, "origin": None, "date": None},
                "estimatedPrintTime": None, "lastPrintTime": None, "filament": {"length": None, "volume": None},
                "user": None},
        "progress": {"completion": None, "filepos": None, "printTime": None, "printTimeLeft": None,
                     "printTimeLeftOrigin": None},
        "state": "Offline",
    }


def test_job_commands_are_409_while_not_operational(client, personas):
    for body in ({"command": "start"}, {"command": "nonsense"}, {}):
        assert_error(client.post("/api/job", json=body, headers=ADMIN), 409, "Printer is not operational")


def test_start_prints_the_selected_file_and_reports_it(client, app, personas, part, printer_daemon):
    connect(client, app)
    select(app, part)
    body = client.get("/api/job", headers=USER).get_json()
    assert body["job"]["file"] == {"name": "part.gcode", "path": "part.gcode", "display": "part.gcode",
                                   "origin": "local", "size": part.stat().st_size,
                                   "date": int(part.stat().st_mtime)}
    assert body["job"]["filament"] == {"tool0": {"length": 12.5, "volume": 0.03}}
    assert client.post("/api/job", json={"command": "start"}, headers=USER).status_code == 204
    wait_for(lambda: "M84" in [c for _, c in printer_daemon.ports.printer.received], what="the whole file")
    wait_for(lambda: state(app) == "Operational", what="the end")
    body = client.get("/api/job", headers=USER).get_json()
    assert body["progress"]["completion"] == 100.0 and body["job"]["user"] == "user"


def test_pause_resume_cancel_and_the_409_rules(client, app, personas, part, printer_daemon):
    connect(client, app)
    printer_daemon.ports.printer.options.move_time = 0.01
    select(app, part)
    assert_error(client.post("/api/job", json={"command": "cancel"}, headers=USER), 409)
    assert_error(client.post("/api/job", json={"command": "restart"}, headers=USER), 409)
    assert client.post("/api/job", json={"command": "start"}, headers=USER).status_code == 204
    wait_for(lambda: state(app) == "Printing", what="printing")
    assert_error(client.post("/api/job", json={"command": "start"}, headers=USER), 409,
                 "Printer already has an active print job, did you mean 'restart'?")
    assert_error(client.post("/api/job", json={"command": "pause", "action": "sideways"}, headers=USER), 400)
    assert client.post("/api/job", json={"command": "pause", "action": "toggle"}, headers=USER).status_code == 204
    wait_for(lambda: state(app) == "Paused", what="paused")
    assert client.post("/api/job", json={"command": "pause", "action": "resume"}, headers=USER).status_code == 204
    wait_for(lambda: state(app) == "Printing", what="printing again")
    assert client.post("/api/job", json={"command": "cancel"}, headers=USER).status_code == 204
    wait_for(lambda: state(app) == "Operational", what="cancelled")
    moves = [c for _, c in printer_daemon.ports.printer.received if c.startswith("G1 X")]
    assert 0 < len(moves) < len(MOVES) and moves == MOVES[:len(moves)]


def test_print_permission_and_bad_commands(client, app, personas, part):
    connect(client, app)
    select(app, part)
    assert_error(client.post("/api/job", json={"command": "start"}, headers=key("readonly")), 403)
    assert_error(client.post("/api/job", json={"command": "start"}), 400)  # anonymous: CSRF first
    assert_error(client.post("/api/job", json={"command": "fly"}, headers=USER), 400, "command is invalid")
    assert_error(client.post("/api/job", data="start", headers=USER), 415)
