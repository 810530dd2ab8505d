"""The files endpoints x every caller: FILES_LIST, FILES_UPLOAD, FILES_DELETE, FILES_SELECT, FILES_DOWNLOAD.

Callers as in test_permission_matrix.py: ``anonymous`` (a CSRF cookie and header, no credentials)
and the personas guest/readonly/user/admin by API key. Each cell starts from ``a.gcode`` and an
empty folder ``e`` uploaded by the admin, on a ready scripted printer with ``a.gcode`` selected.
"""
import io

import pytest

from tests.api.seeded import FORBIDDEN_TEXT, assert_error, key
from tests.conftest import with_csrf
from tests.files.api_helpers import ADMIN, tree_of, upload, uploads

ANONYMOUS = "anonymous"
CALLERS = (ANONYMOUS, "guest", "readonly", "user", "admin")


def allowed(status, *holders):
    return {caller: status if caller in holders else 403 for caller in CALLERS}


LIST = ("readonly", "user", "admin")  # FILES_LIST and FILES_DOWNLOAD holders
WRITE = ("user", "admin")  # FILES_UPLOAD, FILES_DELETE, FILES_SELECT holders


def form(**fields):
    return {"data": fields, "content_type": "multipart/form-data"}


def new_file(name="new.gcode"):
    return form(file=(io.BytesIO(b"G1 X1\n"), name))


# (id, method, path, request keyword arguments (a callable for fresh streams), expected per caller)
ENDPOINTS = [
    ("list-all", "GET", "/api/files", dict, allowed(200, *LIST)),
    ("list-local", "GET", "/api/files/local?recursive=true", dict, allowed(200, *LIST)),
    ("list-sdcard", "GET", "/api/files/sdcard", dict, allowed(200, *LIST)),
    ("get-one", "GET", "/api/files/local/a.gcode", dict, allowed(200, *LIST)),
    ("name-test", "POST", "/api/files/test",
     lambda: {"json": {"command": "sanitize", "storage": "local", "path": "", "filename": "A b.gcode"}},
     allowed(200, *LIST)),
    ("upload", "POST", "/api/files/local", new_file, allowed(201, *WRITE)),
    ("upload-overwrite", "POST", "/api/files/local", lambda: new_file("a.gcode"), allowed(201, *WRITE)),
    ("folder", "POST", "/api/files/local", lambda: form(foldername="made"), allowed(201, *WRITE)),
    ("copy", "POST", "/api/files/local/a.gcode", lambda: {"json": {"command": "copy", "destination": "e"}},
     allowed(201, *WRITE)),
    ("move", "POST", "/api/files/local/a.gcode", lambda: {"json": {"command": "move", "destination": "e"}},
     allowed(201, *WRITE)),
    ("analyse", "POST", "/api/files/local/a.gcode", lambda: {"json": {"command": "analyse"}}, allowed(204, *WRITE)),
    ("select", "POST", "/api/files/local/a.gcode", lambda: {"json": {"command": "select"}}, allowed(204, *WRITE)),
    ("select-print", "POST", "/api/files/local/a.gcode", lambda: {"json": {"command": "select", "print": True}},
     allowed(204, *WRITE)),
    ("unselect", "POST", "/api/files/local/a.gcode", lambda: {"json": {"command": "unselect"}},
     allowed(204, *WRITE)),
    ("delete", "DELETE", "/api/files/local/a.gcode", dict, allowed(204, *WRITE)),
    ("delete-folder", "DELETE", "/api/files/local/e", dict, allowed(204, *WRITE)),
    ("download", "GET", "/downloads/files/local/a.gcode", dict, allowed(200, *LIST)),
]
CELLS = [
    pytest.param(method, path, kwargs, caller, expected[caller], id=f"{endpoint}-{caller}")
    for endpoint, method, path, kwargs, expected in ENDPOINTS
    for caller in CALLERS
]


@pytest.fixture
def stocked(client, personas, services, printer):
    assert upload(client, "a.gcode").status_code == 201
    assert upload(client, None, foldername="e").status_code == 201
    printer.select("a.gcode")
    return services


@pytest.mark.parametrize("method, path, kwargs, caller, expected", CELLS)
def test_files_permission_matrix(client, stocked, printer, method, path, kwargs, caller, expected):
    headers = with_csrf(client) if caller == ANONYMOUS else key(caller)
    before = tree_of(uploads(stocked))
    printer.calls.clear()
    response = client.open(path, method=method, headers=headers, **kwargs())
    assert response.status_code == expected, response.get_data(as_text=True)
    if expected == 403:
        assert_error(response, 403, FORBIDDEN_TEXT)
        assert tree_of(uploads(stocked)) == before, "a refused request changed the files"
        assert printer.calls == [], "a refused request reached the printer"
    elif expected == 204:
        assert response.get_data() == b""
    elif path.startswith("/downloads"):
        assert response.data == b"G28\nG1 X10 Y10 Z0.2 F3000\nG1 X20 Y10 E1.0 F1200\nM84\n"
    else:
        assert response.mimetype == "application/json"


def test_every_cell_is_listed():
    assert len(CELLS) == len(ENDPOINTS) * len(CALLERS)


def test_a_readonly_upload_with_select_is_refused_before_anything_is_stored(client, personas, services):
    assert_error(upload(client, "x.gcode", headers=key("readonly"), select="true"), 403)
    assert tree_of(uploads(services)) == []


def test_first_run_closes_uploads(client, services, basedir):
    """No user yet and setup unfinished: every guarded files endpoint answers 403."""
    assert_error(upload(client, "x.gcode", headers=with_csrf(client)), 403)
    assert tree_of(uploads(services)) == []


def test_select_and_print_are_downgraded_by_permissions(client, personas, services, printer):
    services.groups.add("uploaders", "Uploaders", permissions=["FILES_UPLOAD", "FILES_LIST"])
    services.users.add("uploader", "pw", groups=["uploaders"], apikey="uploader".ljust(40, "x"))
    response = upload(client, headers={"X-Api-Key": "uploader".ljust(40, "x")}, select="true", print="true")
    assert response.status_code == 201
    assert (response.get_json()["effectiveSelect"], response.get_json()["effectivePrint"]) == (False, False)
    assert printer.calls == []
    response = upload(client, "b.gcode", headers=ADMIN, select="true", print="true")
    assert (response.get_json()["effectiveSelect"], response.get_json()["effectivePrint"]) == (True, True)
    assert printer.calls[0][0] == "job_select" and printer.calls[0][1]["print"] is True
