"""POST /api/files/local: multipart uploads through the test client, folders, limits and refusals."""
import io

import pytest
from flask import request

from octoserve.files.spool import UploadSpool
from tests.api.seeded import assert_error, key
from tests.files.api_helpers import ADMIN, GCODE, USER, sha1, tree_of, upload, uploads, wait_for_analysis

BASE = "http://localhost"


def test_upload_answers_201_with_location_and_body(client, personas, services):
    response = upload(client, "cube.gcode", headers=USER)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.headers["Location"] == f"{BASE}/api/files/local/cube.gcode"
    assert response.get_json() == {
        "files": {"local": {"name": "cube.gcode", "path": "cube.gcode", "origin": "local",
                            "refs": {"resource": f"{BASE}/api/files/local/cube.gcode",
                                     "download": f"{BASE}/downloads/files/local/cube.gcode"}}},
        "done": True, "effectiveSelect": False, "effectivePrint": False,
    }
    assert (uploads(services) / "cube.gcode").read_bytes() == GCODE
    assert services.files.metadata.get("cube.gcode") == {"display": "cube.gcode", "hash": sha1(GCODE),
                                                         "user": "user"}
    assert tree_of(uploads(services)) == ["cube.gcode"]  # no spool left behind


def test_names_are_sanitized_and_the_display_name_kept(client, personas, services):
    response = upload(client, "Mein Würfel (v2).gcode", path="My Parts/Sub")
    assert response.get_json()["files"]["local"]["path"] == "My_Parts/Sub/Mein_Wurfel_(v2).gcode"
    entry = client.get("/api/files/local/My_Parts?recursive=true", headers=ADMIN).get_json()
    assert entry["display"] == "My Parts"
    assert entry["children"][0]["children"][0]["display"] == "Mein Würfel (v2).gcode"


def test_filename_field_overrides_the_part_name(client, personas, services):
    response = upload(client, "upload.gcode", filename="renamed.gco")
    assert response.get_json()["files"]["local"]["name"] == "renamed.gco"
    assert tree_of(uploads(services)) == ["renamed.gco"]


def test_rfc5987_filename_is_preferred(client, personas, services):
    boundary = "xyzzy"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"fallback.gcode\"; "
            f"filename*=UTF-8''%C3%BCber.gcode\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
    body += GCODE + f"\r\n--{boundary}--\r\n".encode()
    response = client.post("/api/files/local", data=body, headers=ADMIN,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 201
    assert services.files.metadata.get("uber.gcode")["display"] == "über.gcode"


def test_the_part_streams_into_a_spool_in_the_uploads_folder(app, services):
    """The upload is never held in memory: werkzeug writes each part into an UploadSpool on disk."""
    data = {"file": (io.BytesIO(GCODE * 1000), "big.gcode"), "path": "x"}
    with app.test_request_context("/api/files/local", method="POST", data=data,
                                  content_type="multipart/form-data"):
        stream = request.files["file"].stream
        assert isinstance(stream, UploadSpool)
        assert stream.path.parent == uploads(services) and stream.size == len(GCODE) * 1000
        assert stream.sha1 == sha1(GCODE * 1000)
        assert tree_of(uploads(services)) == [stream.name]
    assert tree_of(uploads(services)) == []  # not stored: deleted at the end of the request


def test_other_multipart_requests_are_not_spooled_into_uploads(app, services):
    data = {"file": (io.BytesIO(b"x"), "x.gcode")}
    with app.test_request_context("/api/login", method="POST", data=data, content_type="multipart/form-data"):
        assert not isinstance(request.files["file"].stream, UploadSpool)
        assert tree_of(uploads(services)) == []


def test_userdata_is_stored_and_invalid_json_refused(client, personas, services):
    assert upload(client, userdata='{"a": [1, 2]}').status_code == 201
    assert services.files.metadata.get("cube.gcode")["userdata"] == {"a": [1, 2]}
    assert_error(upload(client, "other.gcode", userdata="{nope"), 400, "userdata contains invalid JSON")
    assert tree_of(uploads(services)) == ["cube.gcode"]


def test_no_file_and_no_folder_is_400(client, personas):
    assert_error(upload(client, None, path="x"), 400, "No file to upload and no folder to create")


@pytest.mark.parametrize("name", ["..", ".", "日本/x.gcode", "../x.gcode"])
def test_unusable_names_are_400(client, personas, services, name):
    assert_error(upload(client, name), 400, "Can not upload file, invalid file name")
    assert tree_of(uploads(services)) == []


@pytest.mark.parametrize("name", ["a\\b.gcode", "..\\x.gcode", "a/b.gcode", "x\0.gcode", ".."])
def test_unusable_filename_fields_are_400(client, personas, services, name):
    assert_error(upload(client, "ok.gcode", filename=name), 400, "Can not upload file, invalid file name")
    assert tree_of(uploads(services)) == []


@pytest.mark.parametrize("name", ["model.stl", "notes.txt", "gcode", "cube.gcode.zip"])
def test_other_types_are_415(client, personas, services, name):
    assert_error(upload(client, name), 415, "Could not upload file, invalid type")
    assert tree_of(uploads(services)) == []


def test_uploads_over_the_size_limit_are_413(client, personas, services):
    services.settings.set("server.uploads.maxSize", 1000)
    assert_error(upload(client, data=b"G1 X1\n" * 200), 413)
    assert upload(client, data=b"G1\n").status_code == 201
    assert tree_of(uploads(services)) == ["cube.gcode"]


def test_no_overwrite_and_overwrite(client, personas, services):
    assert upload(client, data=b"G1 X1\n").status_code == 201
    assert_error(upload(client, data=b"G1 X2\n", noOverwrite="true"), 409,
                 "File already exists and noOverwrite was set")
    assert (uploads(services) / "cube.gcode").read_bytes() == b"G1 X1\n"
    assert upload(client, data=b"G1 X3\n").status_code == 201
    assert (uploads(services) / "cube.gcode").read_bytes() == b"G1 X3\n"
    assert services.files.metadata.get("cube.gcode")["hash"] == sha1(b"G1 X3\n")


def test_overwriting_needs_files_delete(client, personas, services):
    services.groups.add("uploaders", "Uploaders", permissions=["FILES_UPLOAD", "FILES_LIST"])
    services.users.add("uploader", "pw", groups=["uploaders"], apikey="uploader-key".ljust(40, "x"))
    headers = {"X-Api-Key": "uploader-key".ljust(40, "x")}
    assert upload(client, data=b"G1 X1\n", headers=headers).status_code == 201
    assert_error(upload(client, data=b"G1 X2\n", headers=headers), 403,
                 "File already exists, cannot overwrite due to a lack of permissions")
    assert (uploads(services) / "cube.gcode").read_bytes() == b"G1 X1\n"


def test_overwriting_the_file_being_printed_is_409(client, personas, services, printer):
    assert upload(client, "a.gcode", path="f").status_code == 201
    printer.printing("f/a.gcode")
    assert_error(upload(client, "a.gcode", path="f", data=b"G1\n"), 409,
                 "Trying to overwrite file that is currently being printed")
    assert (uploads(services) / "f" / "a.gcode").read_bytes() == GCODE
    assert upload(client, "b.gcode", path="f").status_code == 201


def test_a_folder_in_the_way_is_409(client, personas, services):
    (uploads(services) / "cube.gcode").mkdir()
    assert_error(upload(client, "cube.gcode"), 409)


def test_analysis_is_stored_after_upload(client, app, personas, services):
    assert upload(client).status_code == 201
    wait_for_analysis(app)
    analysis = client.get("/api/files/local/cube.gcode", headers=ADMIN).get_json()["gcodeAnalysis"]
    assert analysis["estimatedPrintTime"] > 0
    assert analysis["filament"]["tool0"]["length"] == pytest.approx(1.0)


def test_a_truncated_upload_leaves_nothing(client, personas, services):
    """The client dies mid-body: werkzeug sees the stream end early; no file, no spool remains."""
    boundary = "cut"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cut.gcode\"\r\n\r\n"
            ).encode() + GCODE * 100
    response = client.post("/api/files/local", input_stream=io.BytesIO(body), headers={
        **ADMIN, "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(len(body) + 10_000)})
    assert response.status_code == 400
    assert tree_of(uploads(services)) == []
    complete_but_unterminated = client.post("/api/files/local", data=body, headers=ADMIN,
                                            content_type=f"multipart/form-data; boundary={boundary}")
    assert complete_but_unterminated.status_code == 400
    assert tree_of(uploads(services)) == []


def raw_upload(client, parts: list, boundary="b0und4ry", quoted=False):
    """POST a multipart body made by hand: ``parts`` are (name, value) fields and (name, filename, data) files."""
    body = b""
    for name, *rest in parts:
        filename = f'; filename="{rest[0]}"' if len(rest) == 2 else ""
        body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"{filename}\r\n\r\n").encode()
        body += rest[-1] if isinstance(rest[-1], bytes) else rest[-1].encode()
        body += b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    value = f'"{boundary}"' if quoted else boundary
    return client.post("/api/files/local", data=body, headers=ADMIN,
                       content_type=f"multipart/form-data; boundary={value}")


def test_fields_before_and_after_the_file_count(client, personas, services, printer):
    response = raw_upload(client, [("select", "true"), ("file", "cube.gcode", GCODE), ("path", "after/the/file"),
                                   ("filename", "named late.gcode")])
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["files"]["local"]["path"] == "after/the/file/named_late.gcode"
    assert response.get_json()["effectiveSelect"] is True
    assert (uploads(services) / "after" / "the" / "file" / "named_late.gcode").read_bytes() == GCODE


def test_a_quoted_boundary_with_spaces(client, personas, services):
    response = raw_upload(client, [("file", "q.gcode", GCODE)], boundary="with space:and=equals", quoted=True)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert (uploads(services) / "q.gcode").read_bytes() == GCODE


def test_only_the_first_file_part_is_stored_and_the_others_leave_nothing(client, personas, services):
    response = raw_upload(client, [("file", "first.gcode", b"G1 X1\n"), ("file", "second.gcode", b"G1 X2\n"),
                                   ("extra", "third.gcode", b"G1 X3\n")])
    assert response.status_code == 201
    assert tree_of(uploads(services)) == ["first.gcode"]
    assert services.files.metadata.get("first.gcode")["hash"] == sha1(b"G1 X1\n")


def test_a_malformed_body_is_400_and_leaves_nothing(client, personas, services):
    body = (b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.gcode"\r\n\r\nG1\r\n'
            b"--b\r\n\r\nx\r\n--b--")  # the second part has no headers at all
    response = client.post("/api/files/local", data=body, headers=ADMIN, content_type="multipart/form-data; boundary=b")
    assert_error(response, 400, "Invalid multipart/form-data body: a part has no Content-Disposition header")
    assert_error(client.post("/api/files/local", data=b"x", headers=ADMIN, content_type="multipart/form-data"), 400,
                 "Invalid multipart/form-data body: the Content-Type has no usable boundary")
    assert tree_of(uploads(services)) == []


# -- folders ---------------------------------------------------------------------------------------
def test_create_folder(client, personas, services):
    response = upload(client, None, foldername="New Folder", path="top")
    assert response.status_code == 201
    assert response.headers["Location"] == f"{BASE}/api/files/local/top/New_Folder"
    assert response.get_json() == {"folder": {"name": "New_Folder", "path": "top/New_Folder", "origin": "local",
                                              "refs": {"resource": f"{BASE}/api/files/local/top/New_Folder"}},
                                   "done": True}
    assert (uploads(services) / "top" / "New_Folder").is_dir()
    assert upload(client, None, foldername="New Folder", path="top").status_code == 201  # exists: fine
    assert client.get("/api/files/local/top/New_Folder", headers=ADMIN).get_json()["display"] == "New Folder"


@pytest.mark.parametrize("fields, status", [
    ({"foldername": ""}, 400),
    ({"foldername": "x.gcode"}, 409),
    ({"foldername": "a", "path": "../outside"}, 400),
    ({"foldername": ".."}, 400),
])
def test_folder_refusals(client, personas, services, fields, status):
    assert_error(upload(client, None, **fields), status)
    assert tree_of(uploads(services)) == []


def test_folders_only_on_local(client, personas):
    assert_error(upload(client, None, location="sdcard", foldername="x"), 400, "target is invalid")
    assert_error(upload(client, None, location="usb", foldername="x"), 404)


def test_a_file_where_the_folder_should_be_is_409(client, personas):
    assert upload(client, "thing.gcode").status_code == 201
    assert_error(upload(client, "x.gcode", path="thing.gcode"), 409)
    assert upload(client, None, foldername="thing").status_code == 201


def test_uploads_by_form_apikey(client, personas, services):
    response = upload(client, headers={}, apikey=key("user")["X-Api-Key"])
    assert response.status_code == 201
    assert services.files.metadata.get("cube.gcode")["user"] == "user"


# -- select and print after upload ---------------------------------------------------------------------
def test_upload_select_and_print_go_to_the_daemon(client, personas, printer):
    response = upload(client, "cube.gcode", headers=USER, select="true", print="yes")
    assert (response.get_json()["effectiveSelect"], response.get_json()["effectivePrint"]) == (True, True)
    (method, params), = printer.calls
    assert method == "job_select" and params["path"] == "cube.gcode" and params["print"] is True
    assert params["user"] == "user"


@pytest.mark.parametrize("situation", ["printing", "disconnected", "refused"])
def test_upload_select_is_downgraded_never_refused(client, personas, services, printer, situation):
    if situation == "printing":
        printer.printing("other.gcode")
    elif situation == "disconnected":
        printer.disconnected()
    else:
        from octoserve.errors import Conflict
        printer.fail_with = Conflict("Printer is already printing, cannot select a new file")
    response = upload(client, "cube.gcode", select="true", print="true")
    assert response.status_code == 201
    assert (response.get_json()["effectiveSelect"], response.get_json()["effectivePrint"]) == (False, False)
    assert (uploads(services) / "cube.gcode").exists()


def test_upload_fires_upload_and_file_added(client, personas, services):
    seen = []
    services.events.subscribe(lambda name, payload: seen.append((name, payload)))
    upload(client, "cube.gcode", path="f", userdata='{"x": 1}', select="true")
    names = [name for name, _ in seen]
    assert names[:2] == ["FolderAdded", "UpdatedFiles"] and "FileAdded" in names
    upload_event = dict(seen)["Upload"]
    assert upload_event == {"name": "cube.gcode", "path": "f/cube.gcode", "target": "local", "select": True,
                            "print": False, "effective_select": True, "effective_print": False,
                            "userdata": {"x": 1}}


def test_chunked_upload_over_the_limit_is_413_and_leaves_nothing(client, personas, services):
    """No Content-Length (chunked): the limit is enforced while reading, the spool deleted."""
    services.settings.set("server.uploads.maxSize", 5000)
    boundary = "chunked"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.gcode\"\r\n\r\n"
            ).encode() + b"G1 X1\n" * 5000 + f"\r\n--{boundary}--\r\n".encode()
    response = client.post("/api/files/local", input_stream=io.BytesIO(body),
                           environ_overrides={"wsgi.input_terminated": True},
                           headers={**ADMIN, "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert_error(response, 413)
    assert tree_of(uploads(services)) == []


# -- POST /api/files/test ---------------------------------------------------------------------------
def test_name_test_sanitize_and_exists(client, personas):
    def ask(**body):
        return client.post("/api/files/test", json={"storage": "local", **body}, headers=USER)

    assert ask(command="sanitize", path="My Parts", filename="Cube 1.gcode").get_json() == {
        "sanitized": "My_Parts/Cube_1.gcode"}
    assert ask(command="exists", path="", filename="cube.gcode").get_json() == {"exists": False}
    upload(client, "cube.gcode")
    upload(client, "cube_1.gcode")
    body = ask(command="exists", path="", filename="cube.gcode").get_json()
    assert body["exists"] is True and body["suggestion"] == "cube_2.gcode" and body["size"] == len(GCODE)
    assert_error(ask(command="exists", path="../x", filename="a.gcode"), 400)
    assert_error(ask(command="rename", path="", filename="a.gcode"), 400, "command is invalid")
    assert_error(ask(command="exists", filename="a.gcode"), 400)


# -- uploads to the SD card ------------------------------------------------------------------------------
def test_sd_upload_stores_locally_then_streams_to_the_card(client, personas, services, printer):
    printer.change(sd_ready=True, sd_files=[{"name": "long_nam.gco", "display": "long_nam.gco"}])
    response = upload(client, "Long Name.gcode", location="sdcard", select="true")
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.headers["Location"] == f"{BASE}/api/files/sdcard/long_n~1.gco"
    body = response.get_json()
    assert body["done"] is False and body["effectiveSelect"] is False
    assert body["files"]["sdcard"] == {"name": "long_n~1.gco", "path": "long_n~1.gco", "origin": "sdcard",
                                       "refs": {"resource": f"{BASE}/api/files/sdcard/long_n~1.gco"}}
    assert body["files"]["local"]["path"] == "Long_Name.gcode"
    assert printer.calls == [("sd_upload", {"abs_path": str(uploads(services) / "Long_Name.gcode"),
                                            "remote_name": "long_n~1.gco"})]


@pytest.mark.parametrize("situation, status", [
    ("no card", 409), ("printing", 409), ("disconnected", 409), ("sd disabled", 404)])
def test_sd_upload_refusals_store_nothing(client, personas, services, printer, situation, status):
    printer.change(sd_ready=situation != "no card")
    if situation == "printing":
        printer.printing("x.gcode")
    elif situation == "disconnected":
        printer.disconnected()
    elif situation == "sd disabled":
        services.settings.set("feature.sdSupport", False)
    assert_error(upload(client, "cube.gcode", location="sdcard"), status)
    assert tree_of(uploads(services)) == [] and printer.calls == []
