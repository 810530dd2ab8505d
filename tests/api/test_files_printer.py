"""Files and the print job end to end: upload, select and print through the real daemon and virtual printer."""
import pytest

from octoserve.storage import Database
from octoserve.storage.history import PrintHistory
from tests.api.printer_helpers import connect, settle, snapshot
from tests.api.seeded import assert_error, key
from tests.daemon_helpers import wait_for
from tests.files.api_helpers import upload


@pytest.fixture
def printer(printer_client):
    """The app drives the printer daemon, down to the virtual printer."""
    return printer_client


USER = key("user")
LONG = "\n".join(f"G1 X{i % 100} Y{(i * 3) % 100} F3000" for i in range(400)).encode() + b"\n"
SHORT = b"G28\nG1 X10 Y10 F3000\nG1 X20 Y20\nM84\n"
NOT_READY = "Printer is already printing, cannot select a new file"


def state(app):
    return snapshot(app).state.text


@pytest.fixture
def recording(printer_daemon, basedir):
    """The daemon records finished prints, as `octoserve serve`'s daemon does (RunningDaemon leaves it out)."""
    printer_daemon.service.job.history = PrintHistory(Database(basedir / "history.json"))
    return printer_daemon


def test_select_is_409_while_disconnected_and_upload_select_is_downgraded(client, app, personas):
    assert upload(client, "cube.gcode", data=SHORT, headers=USER).status_code == 201
    assert_error(client.post("/api/files/local/cube.gcode", json={"command": "select"}, headers=USER), 409, NOT_READY)
    response = upload(client, "other.gcode", data=SHORT, headers=USER, select="true", print="true")
    assert response.status_code == 201
    assert (response.get_json()["effectiveSelect"], response.get_json()["effectivePrint"]) == (False, False)


def test_upload_select_then_the_job_shows_the_file(client, app, personas, services):
    connect(client, app)
    response = upload(client, "Cube One.gcode", data=SHORT, headers=USER, path="parts", select="true")
    assert response.get_json()["effectiveSelect"] is True and response.get_json()["effectivePrint"] is False
    info = (services.files.root / "parts" / "Cube_One.gcode").stat()
    wait_for(lambda: client.get("/api/job", headers=USER).get_json()["job"]["file"]["path"] == "parts/Cube_One.gcode",
             what="the selection")
    job = client.get("/api/job", headers=USER).get_json()["job"]
    assert job["file"] == {"name": "Cube_One.gcode", "path": "parts/Cube_One.gcode", "display": "Cube One.gcode",
                           "origin": "local", "size": len(SHORT), "date": int(info.st_mtime)}
    assert client.post("/api/files/local/current", json={"command": "unselect"}, headers=USER).status_code == 204
    wait_for(lambda: client.get("/api/job", headers=USER).get_json()["job"]["file"]["path"] is None,
             what="the deselection")


def test_a_printing_file_is_protected(client, app, personas, services, printer_daemon):
    connect(client, app)
    printer_daemon.ports.printer.options.move_time = 0.01
    assert upload(client, "long.gcode", data=LONG, headers=USER, path="f").status_code == 201
    assert upload(client, "other.gcode", data=SHORT, headers=USER).status_code == 201
    assert client.post("/api/files/local/f/long.gcode", json={"command": "select", "print": True},
                       headers=USER).status_code == 204
    wait_for(lambda: state(app) == "Printing", what="printing")
    wait_for(lambda: snapshot(app).busy_files, what="the busy file in the snapshot")

    for path in ("f/long.gcode", "f"):
        assert_error(client.delete(f"/api/files/local/{path}", headers=USER), 409,
                     "Trying to delete a file that is currently in use")
        assert_error(client.post(f"/api/files/local/{path}", json={"command": "move", "destination": "x"},
                                 headers=USER), 409)
    assert_error(upload(client, "long.gcode", data=SHORT, headers=USER, path="f"), 409,
                 "Trying to overwrite file that is currently being printed")
    assert_error(client.post("/api/files/local/other.gcode", json={"command": "select"}, headers=USER), 409, NOT_READY)
    response = upload(client, "third.gcode", data=SHORT, headers=USER, select="true", print="true")
    assert (response.status_code, response.get_json()["effectivePrint"]) == (201, False)
    assert (services.files.root / "f" / "long.gcode").read_bytes() == LONG
    assert client.delete("/api/files/local/other.gcode", headers=USER).status_code == 204

    assert client.post("/api/job", json={"command": "cancel"}, headers=USER).status_code == 204
    wait_for(lambda: state(app) == "Operational", what="cancelled")
    assert client.delete("/api/files/local/f", headers=USER).status_code == 204


def test_a_finished_print_shows_in_the_file_entry(client, app, personas, recording):
    connect(client, app)
    response = upload(client, "short.gcode", data=SHORT, headers=USER, select="true", print="true")
    assert response.get_json()["effectivePrint"] is True
    wait_for(lambda: client.get("/api/files/local/short.gcode", headers=USER).get_json().get("prints", {})
             .get("success") == 1, timeout=20, what="the print to be recorded")
    entry = client.get("/api/files/local/short.gcode", headers=USER).get_json()
    assert entry["prints"]["last"]["success"] is True
    assert set(entry["statistics"]["averagePrintTime"]) == {"_default"}
    folder_view = client.get("/api/files/local", headers=USER).get_json()["files"][0]
    assert folder_view["prints"]["success"] == 1


def test_upload_to_the_sd_card(client, app, personas):
    connect(client, app)
    settle(app)
    response = upload(client, "Card Part.gcode", data=SHORT, headers=USER, location="sdcard")
    assert response.status_code == 201, response.get_data(as_text=True)
    remote = response.get_json()["files"]["sdcard"]["name"]
    wait_for(lambda: any(entry["name"].lower() == remote for entry in
                         client.get("/api/files/sdcard", headers=USER).get_json()["files"]),
             timeout=20, what="the file on the card")
    assert client.get("/api/files/local/Card_Part.gcode", headers=USER).status_code == 200


def test_a_file_selected_before_its_analysis_gets_the_estimate_when_the_analysis_ends(client, app, personas, services):
    connect(client, app)
    (services.files.root / "early.gcode").write_bytes(LONG)  # on disk, not analysed yet
    assert client.post("/api/files/local/early.gcode", json={"command": "select"}, headers=USER).status_code == 204
    wait_for(lambda: client.get("/api/job", headers=USER).get_json()["job"]["file"]["path"] == "early.gcode",
             what="the selection")
    assert client.get("/api/job", headers=USER).get_json()["job"]["estimatedPrintTime"] is None
    assert client.post("/api/files/local/early.gcode", json={"command": "analyse"}, headers=USER).status_code == 204
    assert app.extensions["octoserve.analysis"].wait_idle(30)
    analysis = client.get("/api/files/local/early.gcode", headers=USER).get_json()["gcodeAnalysis"]
    assert analysis["estimatedPrintTime"] > 0
    wait_for(lambda: client.get("/api/job", headers=USER).get_json()["job"]["estimatedPrintTime"] is not None,
             what="the estimate in the job")
    job = client.get("/api/job", headers=USER).get_json()["job"]
    assert job["estimatedPrintTime"] == analysis["estimatedPrintTime"]
    assert job["filament"] == analysis["filament"]
