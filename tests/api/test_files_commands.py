"""POST /api/files/{location}/{path} commands, DELETE, and downloads, on a scripted printer."""
import pytest

from octoserve.errors import Conflict
from octoserve.printer.snapshot import Snapshot
from tests.api.seeded import assert_error
from tests.files.api_helpers import ADMIN, GCODE, USER, sha1, tree_of, upload, uploads, wait_for_analysis

BASE = "http://localhost"


@pytest.fixture
def stocked(client, personas, services):
    """a.gcode, f/b.gcode, f/g/c.gcode and an empty folder e."""
    for name, path in (("a.gcode", ""), ("b.gcode", "f"), ("c.gcode", "f/g")):
        assert upload(client, name, path=path).status_code == 201
    assert upload(client, None, foldername="e").status_code == 201
    return services


def post(client, path, body, headers=ADMIN):
    return client.post(f"/api/files/local/{path}", json=body, headers=headers)


# -- copy and move -----------------------------------------------------------------------------------
def test_copy_into_a_folder_keeps_the_name(client, stocked):
    response = post(client, "a.gcode", {"command": "copy", "destination": "e"})
    assert response.status_code == 201
    assert response.headers["Location"] == f"{BASE}/api/files/local/e/a.gcode"
    assert response.get_json() == {"name": "a.gcode", "path": "e/a.gcode", "origin": "local",
                                   "refs": {"resource": f"{BASE}/api/files/local/e/a.gcode",
                                            "download": f"{BASE}/downloads/files/local/e/a.gcode"}}
    assert (uploads(stocked) / "a.gcode").read_bytes() == (uploads(stocked) / "e" / "a.gcode").read_bytes()
    assert stocked.files.metadata.get("e/a.gcode")["hash"] == sha1(GCODE)


def test_move_to_a_new_path_renames(client, stocked):
    stocked.history.record("local", "f/b.gcode", True, 10.0, 1.0)
    response = post(client, "f/b.gcode", {"command": "move", "destination": "renamed.gcode"})
    assert response.status_code == 201
    assert response.get_json()["name"] == "b.gcode"  # OctoPrint reports the source's name
    assert response.get_json()["path"] == "renamed.gcode"
    assert not (uploads(stocked) / "f" / "b.gcode").exists()
    moved = client.get("/api/files/local/renamed.gcode", headers=ADMIN).get_json()
    assert moved["hash"] == sha1(GCODE) and moved["prints"]["success"] == 1


def test_move_a_folder_with_its_contents(client, stocked):
    response = post(client, "f", {"command": "move", "destination": "e"})
    assert response.status_code == 201
    assert response.get_json()["refs"] == {"resource": f"{BASE}/api/files/local/e/f"}
    assert tree_of(uploads(stocked)) == ["a.gcode", "e", "e/f", "e/f/b.gcode", "e/f/g", "e/f/g/c.gcode"]
    assert stocked.files.metadata.get("e/f/g/c.gcode")["hash"] == sha1(GCODE)
    assert stocked.files.metadata.get("f/g/c.gcode") == {}


@pytest.mark.parametrize("path, body, status", [
    ("a.gcode", {"command": "copy"}, 400),
    ("a.gcode", {"command": "copy", "destination": "f/b.gcode"}, 409),
    ("missing.gcode", {"command": "copy", "destination": "e"}, 404),
    ("a.gcode", {"command": "copy", "destination": "a.gcode"}, 400),
    ("f", {"command": "move", "destination": "f/g"}, 400),
    ("a.gcode", {"command": "copy", "destination": "a.stl"}, 415),
    ("a.gcode", {"command": "move", "destination": "nowhere/a.gcode"}, 404),
    ("a.gcode", {"command": "move", "destination": "Not Sanitized.gcode"}, 400),
    ("a.gcode", {"command": "move", "destination": 7}, 400),
])
def test_copy_and_move_refusals(client, stocked, path, body, status):
    before = tree_of(uploads(stocked))
    assert_error(post(client, path, body), status)
    assert tree_of(uploads(stocked)) == before


def test_moving_the_file_being_printed_is_409_and_copying_it_fine(client, stocked, printer):
    printer.printing("f/g/c.gcode")
    for path in ("f/g/c.gcode", "f"):
        assert_error(post(client, path, {"command": "move", "destination": "e"}), 409)
    assert post(client, "f/g/c.gcode", {"command": "copy", "destination": "e"}).status_code == 201


def test_moving_the_selected_file_deselects_it(client, stocked, printer):
    printer.select("a.gcode")
    assert post(client, "a.gcode", {"command": "move", "destination": "e"}).status_code == 201
    assert printer.methods() == ["job_unselect"]


# -- delete ------------------------------------------------------------------------------------------
def test_delete_file_and_folder(client, stocked):
    stocked.history.record("local", "f/g/c.gcode", True, 10.0, 1.0)
    assert client.delete("/api/files/local/a.gcode", headers=USER).status_code == 204
    assert client.delete("/api/files/local/f", headers=USER).status_code == 204
    assert tree_of(uploads(stocked)) == ["e"]
    assert stocked.files.metadata.get("f/g/c.gcode") == {} and stocked.history.all("local") == {}
    assert_error(client.delete("/api/files/local/a.gcode", headers=USER), 404)


def test_delete_in_use_is_409(client, stocked, printer):
    printer.printing("f/g/c.gcode")
    for path in ("f/g/c.gcode", "f/g", "f"):
        assert_error(client.delete(f"/api/files/local/{path}", headers=USER), 409,
                     "Trying to delete a file that is currently in use")
    assert "f/g/c.gcode" in tree_of(uploads(stocked))
    assert client.delete("/api/files/local/a.gcode", headers=USER).status_code == 204


def test_delete_the_selected_idle_file_deselects_it(client, stocked, printer):
    printer.select("f/b.gcode")
    assert client.delete("/api/files/local/f", headers=USER).status_code == 204
    assert printer.methods() == ["job_unselect"]


# -- select and unselect ------------------------------------------------------------------------------
def test_select_sends_the_file_to_the_daemon(client, stocked, printer, app):
    wait_for_analysis(app)
    assert post(client, "f/b.gcode", {"command": "select"}, USER).status_code == 204
    (method, params), = printer.calls
    info = (uploads(stocked) / "f" / "b.gcode").stat()
    assert method == "job_select"
    assert params == {
        "origin": "local", "path": "f/b.gcode", "abs_path": str(uploads(stocked) / "f" / "b.gcode"),
        "display": "b.gcode", "name": "b.gcode", "size": info.st_size, "date": int(info.st_mtime),
        "estimated_print_time": params["estimated_print_time"], "filament": params["filament"],
        "print": False, "user": "user",
    }
    assert params["estimated_print_time"] > 0 and params["filament"]["tool0"]["length"] > 0


def test_select_and_print(client, stocked, printer):
    assert post(client, "a.gcode", {"command": "select", "print": True}, USER).status_code == 204
    assert printer.calls[0][1]["print"] is True


@pytest.mark.parametrize("path, status", [("missing.gcode", 404), ("f", 415), ("Not Sane.gcode", 404)])
def test_select_refusals(client, stocked, printer, path, status):
    assert_error(post(client, path, {"command": "select"}), status)
    assert printer.calls == []


def test_select_is_409_unless_ready(client, stocked, printer):
    printer.printing("a.gcode")
    assert_error(post(client, "f/b.gcode", {"command": "select"}), 409,
                 "Printer is already printing, cannot select a new file")
    printer.disconnected()
    assert_error(post(client, "f/b.gcode", {"command": "select"}), 409,
                 "Printer is already printing, cannot select a new file")


def test_select_and_print_needs_print_permission(client, stocked, printer, services):
    services.groups.add("selectors", "Selectors", permissions=["FILES_SELECT"])
    services.users.add("selector", "pw", groups=["selectors"], apikey="selector".ljust(40, "x"))
    headers = {"X-Api-Key": "selector".ljust(40, "x")}
    assert_error(post(client, "a.gcode", {"command": "select", "print": True}, headers), 403)
    assert post(client, "a.gcode", {"command": "select"}, headers).status_code == 204


def test_a_daemon_refusal_passes_through(client, stocked, printer):
    printer.fail_with = Conflict("Printer is already printing, cannot select a new file")
    assert_error(post(client, "a.gcode", {"command": "select"}), 409)


def test_unselect(client, stocked, printer):
    response = post(client, "a.gcode", {"command": "unselect"})
    assert (response.status_code, response.mimetype) == (409, "text/plain")
    assert response.get_data(as_text=True) == "Cannot unselect current file when there is no file selected"
    printer.select("f/b.gcode")
    response = post(client, "a.gcode", {"command": "unselect"})
    assert (response.status_code, response.get_data(as_text=True)) == (
        400, "Only the currently selected file can be unselected")
    assert post(client, "f/b.gcode", {"command": "unselect"}).status_code == 204
    printer.select("f/b.gcode")
    assert post(client, "current", {"command": "unselect"}).status_code == 204
    assert printer.methods() == ["job_unselect", "job_unselect"]
    printer.printing("a.gcode")
    response = post(client, "current", {"command": "unselect"})
    assert (response.status_code, response.get_data(as_text=True)) == (
        409, "Printer is already printing, cannot unselect current file")


# -- analyse and validation ----------------------------------------------------------------------------
def test_analyse_queues_an_analysis(client, stocked, app):
    wait_for_analysis(app)
    stocked.files.metadata.update("a.gcode", {"gcodeAnalysis": {"stale": True}})
    assert post(client, "a.gcode", {"command": "analyse"}).status_code == 204
    wait_for_analysis(app)
    assert "stale" not in stocked.files.metadata.get("a.gcode")["gcodeAnalysis"]
    assert_error(post(client, "missing.gcode", {"command": "analyse"}), 404)
    assert_error(post(client, "f", {"command": "analyse"}), 400, "No analysis possible")


def test_command_validation(client, stocked):
    assert_error(post(client, "a.gcode", {"command": "explode"}), 400, "command is invalid")
    assert_error(post(client, "a.gcode", {}), 400, "command is invalid")
    response = client.post("/api/files/local/a.gcode", data="command=select", headers=ADMIN,
                           content_type="application/x-www-form-urlencoded")
    assert_error(response, 415)
    assert_error(client.post("/api/files/local/a.gcode", data="{", headers=ADMIN,
                             content_type="application/json"), 400)
    assert_error(post(client, "Not Sane.gcode", {"command": "explode"}), 404)


# -- downloads -----------------------------------------------------------------------------------------
def test_download_returns_the_bytes_as_attachment(client, stocked):
    response = client.get("/downloads/files/local/f/g/c.gcode", headers=USER)
    assert response.status_code == 200
    assert response.data == (uploads(stocked) / "f" / "g" / "c.gcode").read_bytes()
    assert response.headers["Content-Disposition"] == "attachment; filename=c.gcode"
    assert int(response.headers["Content-Length"]) == len(GCODE)
    ranged = client.get("/downloads/files/local/a.gcode", headers={**USER, "Range": "bytes=0-2"})
    assert (ranged.status_code, ranged.data) == (206, GCODE[:3])


@pytest.mark.parametrize("path", ["missing.gcode", "f", "Not%20Sane.gcode"])
def test_download_of_nothing_is_404(client, stocked, path):
    assert client.get(f"/downloads/files/local/{path}", headers=USER).status_code == 404


def test_a_snapshot_with_every_default_is_tolerated(client, stocked, printer):
    printer.snapshot = Snapshot()
    assert client.delete("/api/files/local/a.gcode", headers=USER).status_code == 204
    assert client.get("/api/files", headers=USER).status_code == 200


# -- the SD card, as the daemon lists it ------------------------------------------------------------------
def test_sd_select_and_delete_go_to_the_daemon(client, personas, printer):
    printer.change(sd_files=[{"name": "CUBE.GCO", "display": "cube.gcode", "size": 10, "date": None}])
    assert client.post("/api/files/sdcard/CUBE.GCO", json={"command": "select", "print": True},
                       headers=USER).status_code == 204
    assert client.delete("/api/files/sdcard/CUBE.GCO", headers=USER).status_code == 204
    assert printer.calls == [("sd_select", {"name": "CUBE.GCO", "print": True}), ("sd_delete", {"name": "CUBE.GCO"})]
    assert_error(client.delete("/api/files/sdcard/NONE.GCO", headers=USER), 404)
    assert_error(client.post("/api/files/sdcard/NONE.GCO", json={"command": "select"}, headers=USER), 404)
    assert_error(client.post("/api/files/sdcard/CUBE.GCO", json={"command": "copy", "destination": "x"},
                             headers=USER), 400)
    printer.printing("CUBE.GCO", origin="sdcard")
    assert_error(client.delete("/api/files/sdcard/CUBE.GCO", headers=USER), 409)
