"""GET /api/files, /api/files/{location} and /api/files/{location}/{path}: the shapes of the facts sheet."""
import pytest

from tests.api.seeded import assert_error
from tests.files.api_helpers import GCODE, READONLY, sha1, upload

BASE = "http://localhost"


@pytest.fixture
def stocked(client, personas, services):
    """cube.gcode at the top, parts/Gear Wheel.gcode one level down, parts/old/x.gco two levels down."""
    assert upload(client, "cube.gcode", userdata='{"colour": "red"}').status_code == 201
    assert upload(client, "Gear Wheel.gcode", path="parts").status_code == 201
    assert upload(client, "x.gco", data=b"G1\n", path="parts/old").status_code == 201
    services.history.record("local", "cube.gcode", True, 120.5, 1700000000.5)
    return services


def test_file_entry_has_exactly_the_documented_keys(client, stocked):
    files = client.get("/api/files/local", headers=READONLY).get_json()["files"]
    cube = next(entry for entry in files if entry["name"] == "cube.gcode")
    info = (stocked.files.root / "cube.gcode").stat()
    assert cube == {
        "name": "cube.gcode", "display": "cube.gcode", "path": "cube.gcode", "type": "machinecode",
        "typePath": ["machinecode", "gcode"], "origin": "local", "size": len(GCODE), "date": int(info.st_mtime),
        "hash": sha1(GCODE), "user": "admin", "userdata": {"colour": "red"},
        "refs": {"resource": f"{BASE}/api/files/local/cube.gcode",
                 "download": f"{BASE}/downloads/files/local/cube.gcode"},
        "prints": {"success": 1, "failure": 0, "last": {"date": 1700000000.5, "printTime": 120.5, "success": True}},
        "statistics": {"averagePrintTime": {"_default": 120.5}, "lastPrintTime": {"_default": 120.5}},
    }
    assert isinstance(cube["date"], int)


def test_root_listing_shows_folders_with_empty_children_but_full_sizes(client, stocked):
    body = client.get("/api/files/local", headers=READONLY).get_json()
    assert isinstance(body["free"], int) and isinstance(body["total"], int) and body["total"] > 0
    parts = next(entry for entry in body["files"] if entry["name"] == "parts")
    assert parts == {
        "name": "parts", "display": "parts", "path": "parts", "type": "folder", "typePath": ["folder"],
        "origin": "local", "date": parts["date"], "size": len(GCODE) + 3, "children": [],
        "prints": {"success": 0, "failure": 0}, "refs": {"resource": f"{BASE}/api/files/local/parts"},
    }
    assert isinstance(parts["date"], int)


def test_recursive_listing_holds_the_whole_tree(client, stocked):
    files = client.get("/api/files/local?recursive=true", headers=READONLY).get_json()["files"]
    parts = next(entry for entry in files if entry["name"] == "parts")
    assert [child["path"] for child in parts["children"]] == ["parts/Gear_Wheel.gcode", "parts/old"]
    gear = parts["children"][0]
    assert gear["display"] == "Gear Wheel.gcode"
    assert gear["refs"]["download"] == f"{BASE}/downloads/files/local/parts/Gear_Wheel.gcode"
    assert parts["children"][1]["children"][0]["path"] == "parts/old/x.gco"


def test_all_files_adds_sd_entries_and_disk_space(client, stocked, printer):
    printer.change(sd_files=[{"name": "CUBE~1.GCO", "display": "cube long name.gcode", "size": 99, "date": None}])
    body = client.get("/api/files", headers=READONLY).get_json()
    assert set(body) == {"files", "free", "total"}
    assert [entry["origin"] for entry in body["files"]] == ["local", "local", "sdcard"]
    assert body["files"][-1] == {
        "type": "machinecode", "typePath": ["machinecode", "gcode"], "name": "CUBE~1.GCO",
        "display": "cube long name.gcode", "path": "CUBE~1.GCO", "origin": "sdcard", "size": 99,
        "refs": {"resource": f"{BASE}/api/files/sdcard/CUBE~1.GCO"},
    }
    assert client.get("/api/files/sdcard", headers=READONLY).get_json() == {"files": [body["files"][-1]]}
    single = client.get("/api/files/sdcard/CUBE~1.GCO", headers=READONLY)
    assert single.status_code == 200 and single.get_json()["origin"] == "sdcard"


def test_sd_listing_is_empty_while_no_card_is_reported(client, personas):
    assert client.get("/api/files/sdcard", headers=READONLY).get_json() == {"files": []}
    assert client.get("/api/files", headers=READONLY).get_json()["files"] == []


def test_filter_keeps_matching_files_and_folders(client, stocked):
    machinecode = client.get("/api/files/local?filter=machinecode&recursive=true", headers=READONLY).get_json()
    assert [e["name"] for e in machinecode["files"]] == ["cube.gcode", "parts"]
    models = client.get("/api/files/local?filter=model&recursive=true", headers=READONLY).get_json()
    assert [e["name"] for e in models["files"]] == ["parts"]
    assert models["files"][0]["children"] == [{**models["files"][0]["children"][0], "children": []}]


def test_single_entries(client, stocked):
    cube = client.get("/api/files/local/cube.gcode", headers=READONLY)
    assert cube.status_code == 200 and cube.get_json()["hash"] == sha1(GCODE)
    parts = client.get("/api/files/local/parts", headers=READONLY).get_json()
    assert parts["type"] == "folder"
    assert [c["name"] for c in parts["children"]] == ["Gear_Wheel.gcode", "old"]
    assert parts["children"][1]["children"] == []
    deep = client.get("/api/files/local/parts?recursive=true", headers=READONLY).get_json()
    assert deep["children"][1]["children"][0]["name"] == "x.gco"


@pytest.mark.parametrize("path", ["missing.gcode", "parts/Gear%20Wheel.gcode", "parts/nothing/x.gco"])
def test_missing_or_unsanitized_paths_are_404(client, stocked, path):
    assert_error(client.get(f"/api/files/local/{path}", headers=READONLY), 404)


def test_unknown_location_is_404(client, personas):
    assert_error(client.get("/api/files/usb", headers=READONLY), 404)
    assert_error(client.get("/api/files/usb/x.gcode", headers=READONLY), 404)


def test_files_dropped_into_the_folder_are_listed_without_hash(client, personas, services):
    (services.files.root / "dropped.gcode").write_bytes(b"G1\n")
    (services.files.root / "readme.txt").write_text("not printable")
    files = client.get("/api/files/local", headers=READONLY).get_json()["files"]
    assert [(e["name"], "hash" in e, e["display"]) for e in files] == [("dropped.gcode", False, "dropped.gcode")]


def test_listing_is_conditional(client, stocked):
    first = client.get("/api/files/local", headers=READONLY)
    etag = first.headers["ETag"]
    again = client.get("/api/files/local", headers={**READONLY, "If-None-Match": etag})
    assert again.status_code == 304
