"""No client path leaves the uploads folder: every trick is refused with 400 or 404, and the disk says so.

Planted around the uploads folder: ``outside/secret.gcode`` next to the base directory, and inside
the uploads folder a link ``link`` to ``outside`` and a link ``evil.gcode`` to the secret file. After
each refused request, everything outside the uploads folder (databases included) is exactly as it
was, and the secret is untouched.
"""
import hashlib
from pathlib import Path

import pytest

from tests.files.api_helpers import ADMIN, tree_of, upload, uploads

SECRET = b"; the secret\nG1 X0\n"
URL_PATHS = [
    "../secret.gcode", "..%2Fsecret.gcode", "%2e%2e/secret.gcode", "%2e%2e%2fsecret.gcode", "%2E%2E%2Fsecret.gcode",
    "ok/../../secret.gcode", "ok/%2e%2e/%2e%2e/secret.gcode", "..%5Csecret.gcode", "..\\secret.gcode",
    "%252e%252e%252fsecret.gcode", "secret.gcode%00.gcode", "%00", "link/secret.gcode", "evil.gcode", "link",
    "%2Fetc%2Fpasswd", "ok/./x.gcode", ".upload-0000.part",
]
FORM_PATHS = ["../", "..", "../outside", "/", "/tmp", "/etc/cron.d", "ok/../..", "ok\\..\\..", "a\0b", "link",
              "link/deeper", "./ok"]
DESTINATIONS = ["../moved.gcode", "../../moved.gcode", "/tmp/moved.gcode", "ok/../../moved.gcode",
                "..\\moved.gcode", "link", "link/moved.gcode", "evil.gcode", "ok/./moved.gcode", "a\0.gcode",
                "%2e%2e%2fmoved.gcode"]


def fingerprint(top: Path, skip: Path) -> dict:
    """Every file and folder under ``top`` except inside ``skip``: name -> content hash (or "dir"/link target)."""
    found = {}
    for path in sorted(top.rglob("*")):
        if path == skip or skip in path.parents or path.name.endswith(".lock"):
            continue
        if path.is_symlink():
            found[str(path)] = "-> " + str(path.readlink())
        elif path.is_dir():
            found[str(path)] = "dir"
        else:
            found[str(path)] = hashlib.sha1(path.read_bytes()).hexdigest()
    return found


@pytest.fixture
def planted(client, personas, services, basedir):
    outside = basedir.parent / "outside"
    outside.mkdir()
    (outside / "secret.gcode").write_bytes(SECRET)
    assert upload(client, "a.gcode", path="ok").status_code == 201
    (uploads(services) / "link").symlink_to(outside, target_is_directory=True)
    (uploads(services) / "evil.gcode").symlink_to(outside / "secret.gcode")
    before = fingerprint(basedir.parent, uploads(services))
    inside = tree_of(uploads(services))
    yield services
    assert fingerprint(basedir.parent, uploads(services)) == before, "something outside the uploads folder changed"
    assert (outside / "secret.gcode").read_bytes() == SECRET
    assert tree_of(uploads(services)) == inside, "a refused request changed the uploads folder"


def refused(response):
    assert response.status_code in (400, 404), (response.status_code, response.get_data(as_text=True))


@pytest.mark.parametrize("path", URL_PATHS)
def test_url_paths(client, planted, path):
    refused(client.get(f"/api/files/local/{path}", headers=ADMIN))
    refused(client.get(f"/downloads/files/local/{path}", headers=ADMIN))
    refused(client.delete(f"/api/files/local/{path}", headers=ADMIN))
    for body in ({"command": "copy", "destination": "ok"}, {"command": "move", "destination": "ok"},
                 {"command": "select"}, {"command": "analyse"}):
        refused(client.post(f"/api/files/local/{path}", json=body, headers=ADMIN))


@pytest.mark.parametrize("path", FORM_PATHS)
def test_upload_and_folder_paths(client, planted, path):
    refused(upload(client, "x.gcode", path=path))
    refused(upload(client, None, foldername="new", path=path))


@pytest.mark.parametrize("name", ["../x.gcode", "../../x.gcode", "/tmp/x.gcode", "..", "evil.gcode"])
def test_upload_names(client, planted, name):
    refused(upload(client, "x.gcode", filename=name))


@pytest.mark.parametrize("name", ["..", "../x", "/tmp/x", "a/../../x", "link", "evil.gcode"])
def test_folder_names(client, planted, name):
    response = upload(client, None, foldername=name)
    if name in ("link", "evil.gcode"):  # taken by a link (409, never followed), or looks printable (409)
        assert response.status_code in (400, 404, 409)
    else:
        refused(response)


@pytest.mark.parametrize("destination", DESTINATIONS)
def test_copy_and_move_destinations(client, planted, destination):
    for command in ("copy", "move"):
        refused(client.post("/api/files/local/ok/a.gcode", json={"command": command, "destination": destination},
                            headers=ADMIN))


def test_listings_do_not_follow_links(client, planted):
    body = client.get("/api/files/local?recursive=true", headers=ADMIN).get_json()
    assert [entry["path"] for entry in body["files"]] == ["ok"]
