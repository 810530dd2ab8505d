"""POST /api/files/{location}/{path} commands (select, unselect, copy, move, analyse) and DELETE."""
from flask import Response, jsonify
from flask_login import current_user
from werkzeug.exceptions import UnsupportedMediaType

from octoserve.access.guards import check_permission
from octoserve.api.common import json_body, no_content, truthy
from octoserve.api.files_common import (
    LOCAL,
    SDCARD,
    analysis,
    deselect_if_within,
    in_use,
    printer,
    ready,
    refs,
    resource_url,
    select_for_job,
    snapshot,
    storage,
)
from octoserve.errors import Conflict, Invalid, NotFound
from octoserve.files import names

COMMANDS = ("select", "unselect", "copy", "move", "analyse")
NOT_READY = "Printer is already printing, cannot select a new file"


def command(location: str, parts: tuple):
    """Validate the command body, then dispatch; each command checks its own permission."""
    data = json_body()
    name = data.get("command")
    if name not in COMMANDS:
        raise Invalid("command is invalid")
    if name in ("copy", "move") and "destination" not in data:
        raise Invalid("Mandatory parameters missing")
    handler = {"select": _select, "unselect": _unselect, "copy": _transfer, "move": _transfer,
               "analyse": _analyse}[name]
    return handler(location, parts, data)


def _select(location, parts, data):
    check_permission("FILES_SELECT")
    if location == SDCARD:
        return _select_sd(parts, data)
    kind = storage().kind(parts)
    if kind not in ("file", "folder"):
        raise NotFound("File not found")
    if kind != "file" or not names.is_machinecode(parts[-1]):
        raise UnsupportedMediaType("Cannot select file for printing, not a machinecode file")
    if not ready():
        raise Conflict(NOT_READY)
    start = truthy(data.get("print", False))
    if start:
        check_permission("PRINT")
        if not snapshot().flags.operational:
            raise Conflict("Printer is not operational, cannot directly start printing")
    select_for_job(parts, start, current_user.name)
    return no_content()


def _select_sd(parts, data):
    name = names.join(parts)
    if not any(entry.get("name") == name for entry in snapshot().sd_files):
        raise NotFound("File not found")
    if not ready():
        raise Conflict(NOT_READY)
    start = truthy(data.get("print", False))
    if start:
        check_permission("PRINT")
    printer().call("sd_select", name=name, print=start)
    return no_content()


def _plain(text: str, status: int) -> Response:
    # OctoPrint answers these three unselect errors as text, not JSON.
    return Response(text, status=status, mimetype="text/plain")


def _unselect(location, parts, _data):
    check_permission("FILES_SELECT")
    if not ready():
        return _plain("Printer is already printing, cannot unselect current file", 409)
    job_file = snapshot().job.file
    if job_file is None:
        return _plain("Cannot unselect current file when there is no file selected", 409)
    path = names.join(parts)
    if path != "current" and (path != job_file.path or job_file.origin != location):
        return _plain("Only the currently selected file can be unselected", 400)
    printer().call("job_unselect")
    return no_content()


def _analyse(location, parts, _data):
    check_permission("FILES_UPLOAD")
    if location != LOCAL:
        raise Invalid("No analysis possible")
    kind = storage().kind(parts)
    if kind not in ("file", "folder"):
        raise NotFound("File not found")
    if kind != "file" or not names.is_machinecode(parts[-1]):
        raise Invalid("No analysis possible")
    analysis().enqueue(names.join(parts))
    return no_content()


def _transfer(location, parts, data):
    """copy and move: into an existing folder under the same name, else to the full path given."""
    moving = data["command"] == "move"
    check_permission("FILES_UPLOAD", *(("FILES_DELETE",) if moving else ()))
    if location != LOCAL:
        raise Invalid("Unsupported location for copy or move")
    source_kind = storage().kind(parts)
    if source_kind not in ("file", "folder"):
        raise NotFound("File not found")
    source_path = names.join(parts)
    if moving and in_use(source_path):
        raise Conflict("Trying to move a file or folder that is currently in use")
    target = _target(parts, data["destination"], source_kind)
    if moving:
        deselect_if_within(source_path)
        storage().move(parts, target)
    else:
        storage().copy(parts, target)
    path = names.join(target)
    if source_kind == "file":
        analysis_missing = "gcodeAnalysis" not in storage().metadata.get(path)
        if analysis_missing:
            analysis().enqueue(path)
    body = {"name": parts[-1], "path": path, "origin": LOCAL, "refs": refs(LOCAL, path, source_kind == "folder")}
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = resource_url(LOCAL, path)
    return response


def _target(parts, destination, source_kind) -> tuple:
    if not isinstance(destination, str):
        raise Invalid("destination is invalid")
    try:
        target = names.split_client_path(destination)
    except Invalid:
        raise Invalid("destination is invalid") from None
    kind = storage().kind(target)
    if kind == "folder":
        return (*target, parts[-1])
    if kind == "other":
        raise Invalid("destination is invalid")
    if not target or not all(names.is_sanitized(part) for part in target):
        raise Invalid("destination is invalid")
    if source_kind == "file" and not names.is_machinecode(target[-1]):
        raise UnsupportedMediaType("Could not copy or move the file, invalid type")
    return target


def delete(location: str, parts: tuple):
    """The view of DELETE /api/files/{location}/{path} (after the FILES_DELETE check)."""
    path = names.join(parts)
    if location == SDCARD:
        if not any(entry.get("name") == path for entry in snapshot().sd_files):
            raise NotFound("File not found")
        if in_use(path, SDCARD):
            raise Conflict("Trying to delete a file that is currently in use")
        printer().call("sd_delete", name=path)
        return no_content()
    if storage().kind(parts) not in ("file", "folder"):
        raise NotFound("File not found")
    if in_use(path):
        raise Conflict("Trying to delete a file that is currently in use")
    deselect_if_within(path)
    storage().remove(parts)
    return no_content()
