"""POST /api/files/{location}: streamed uploads (to disk as they arrive, never whole in memory) and new folders."""
import io
import json
import logging
import re
import shutil

from flask import Request, current_app, jsonify, request
from flask_login import current_user
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType

from octoserve import events
from octoserve.access.guards import has_permission, services
from octoserve.api.body import SocketBody, readinto_of
from octoserve.api.common import truthy
from octoserve.api.files_common import (
    LOCAL,
    SDCARD,
    analysis,
    busy_paths,
    printer,
    ready,
    refs,
    resource_url,
    select_for_job,
    snapshot,
    storage,
)
from octoserve.api.multipart import MalformedBody, MultipartReader
from octoserve.errors import Conflict, Forbidden, Invalid, NotFound, OctoserveError
from octoserve.files import names
from octoserve.files.spool import UploadSpool
from octoserve.files.storage import EXISTS

log = logging.getLogger(__name__)

UPLOAD_PREFIX = "/api/files/"
CHUNK = 64 * 1024


class UploadRequest(Request):
    """Flask's request, except that a multipart body posted to the files API streams into upload spools.

    Werkzeug's parser would keep up to 500 KB of a part in memory and the rest in a temporary
    file elsewhere (possibly a RAM-backed /tmp), to be copied again later, and reading the body
    through it took most of a large upload's time (see octoserve.api.multipart). Here the body
    is read in 1 MiB steps, from gunicorn's socket when possible (octoserve.api.body), and each
    file part goes straight to a hidden file in the uploads folder, hashed while it arrives, so
    storing it is a rename. Whoever parses the form first (the API-key lookup reads form
    fields) gets the same treatment. Spools not stored by the view are deleted when the
    request ends.
    """

    def _is_upload(self) -> bool:
        return self.method == "POST" and self.path.startswith(UPLOAD_PREFIX)

    @property
    def max_content_length(self):
        if self._max_content_length is None and self._is_upload():
            return current_app.extensions["octoserve"].settings.get("server.uploads.maxSize")
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value):
        self._max_content_length = value

    def _load_form_data(self) -> None:
        """Parse an upload's multipart body with MultipartReader (anything else as werkzeug does)."""
        if "form" in self.__dict__ or not self._is_upload() or self.mimetype != "multipart/form-data":
            super()._load_form_data()
            return
        try:
            boundary = self.mimetype_params.get("boundary", "").encode("ascii")
        except UnicodeEncodeError:
            raise MalformedBody("the boundary is not ASCII") from None
        limit = self.max_content_length
        if limit is not None and self.content_length is not None and self.content_length > limit:
            raise RequestEntityTooLarge()
        # Without gunicorn's socket, werkzeug's stream enforces the limit on a body of unknown
        # length (chunked) and notices a body that ends early.
        stream = SocketBody.attach(self.environ) or self._get_stream_for_parsing()
        reader = MultipartReader(readinto_of(stream), boundary, self._new_spool,
                                 max_field_size=self.max_form_memory_size, max_parts=self.max_form_parts)
        fields, files = reader.parse()
        storage = self.parameter_storage_class
        self.__dict__.update(stream=io.BytesIO(), form=storage(fields), files=storage(
            (part.name, FileStorage(spool, part.filename, part.name, headers=part.headers))
            for part, spool in files))

    def _new_spool(self, _part) -> UploadSpool:
        """A spool for a file part, deleted when the request ends unless the view stored it."""
        spool = current_app.extensions["octoserve"].files.new_spool()
        self.__dict__.setdefault("_upload_spools", []).append(spool)
        return spool

    def close(self) -> None:
        try:
            super().close()
        finally:
            for spool in self.__dict__.get("_upload_spools", ()):
                spool.close()


def upload(location: str):
    """The view of POST /api/files/{location} (after the FILES_UPLOAD check)."""
    part = request.files.get("file")
    if part is None or not part.filename:
        if "foldername" in request.values:
            return create_folder(location)
        raise Invalid("No file to upload and no folder to create")
    if location == SDCARD:
        _check_sd_ready()
    userdata = _userdata()
    display = request.values.get("filename") or part.filename
    try:
        name = names.sanitize_name(display)
        raw_folder = names.split_client_path(request.values.get("path"))
        folder = tuple(names.sanitize_name(p) for p in raw_folder)
    except Invalid:
        raise Invalid("Can not upload file, invalid file name") from None
    if not names.is_machinecode(name):
        raise UnsupportedMediaType("Could not upload file, invalid type")
    _check_overwrite((*folder, name))
    path = storage().add_file(folder, name, _spool_of(part), display=display, user=current_user.name,
                              userdata=userdata, folder_displays=raw_folder)
    analysis().enqueue(path)
    wanted_select, wanted_print = truthy(request.values.get("select")), truthy(request.values.get("print"))
    if location == SDCARD:
        return _to_sd((*folder, name), wanted_select, wanted_print)
    selected, printing = _select_after_upload((*folder, name), wanted_select, wanted_print)
    payload = {"name": name, "path": path, "target": LOCAL, "select": wanted_select, "print": wanted_print,
               "effective_select": selected, "effective_print": printing}
    if userdata is not None:
        payload["userdata"] = userdata
    storage().events.fire(events.UPLOAD, payload)
    body = {"files": {LOCAL: {"name": name, "path": path, "origin": LOCAL, "refs": refs(LOCAL, path)}},
            "done": True, "effectiveSelect": selected, "effectivePrint": printing}
    return _created(body, resource_url(LOCAL, path))


def _userdata():
    text = request.values.get("userdata")
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        raise Invalid("userdata contains invalid JSON") from None


def _check_overwrite(parts) -> None:
    existing = storage().kind(parts)
    if existing is None:
        return
    if existing == "other":
        raise Invalid("Can not upload file, invalid file name")  # a link or a device: never written through
    if existing != "file":
        raise Conflict(EXISTS)
    if names.join(parts) in busy_paths():
        raise Conflict("Trying to overwrite file that is currently being printed")
    if truthy(request.values.get("noOverwrite")):
        raise Conflict("File already exists and noOverwrite was set")
    if not has_permission("FILES_DELETE"):
        raise Forbidden("File already exists, cannot overwrite due to a lack of permissions")


def _spool_of(part) -> UploadSpool:
    """The spool the part was streamed into; a part parsed some other way is streamed into one now."""
    if isinstance(part.stream, UploadSpool):
        return part.stream
    spool = storage().new_spool()
    request.__dict__.setdefault("_upload_spools", []).append(spool)
    part.stream.seek(0)
    shutil.copyfileobj(part.stream, spool, CHUNK)
    return spool


def _select_after_upload(parts, wanted_select: bool, wanted_print: bool):
    """select/print are downgraded, never refused: permissions and a ready printer decide."""
    printing = wanted_print and has_permission("PRINT")
    selecting = (wanted_select and has_permission("FILES_SELECT")) or printing
    if not selecting or not ready():
        return False, False
    try:
        select_for_job(parts, printing, current_user.name)
    except OctoserveError as exc:
        log.info("could not select %s after its upload: %s", names.join(parts), exc)
        return False, False
    return True, printing


def _check_sd_ready() -> None:
    """Refuse an SD upload before anything is stored (OctoPrint's order and texts)."""
    if not services().settings.get("feature.sdSupport"):
        raise NotFound("SD support is disabled")
    flags = snapshot().flags
    if not flags.ready:
        raise Conflict("Can not upload to SD card, printer is either not operational or already busy")
    if not flags.sd_ready:
        raise Conflict("Can not upload to SD card, not yet initialized")


def _to_sd(parts, wanted_select: bool, wanted_print: bool):
    """The file is stored locally first, then the daemon streams it to the card (``done`` is false)."""
    path = names.join(parts)
    remote = sd_name(parts[-1], {entry.get("name", "").lower() for entry in snapshot().sd_files})
    printer().call("sd_upload", abs_path=str(storage().locate(parts)), remote_name=remote)
    storage().events.fire(events.UPLOAD, {"name": parts[-1], "path": path, "target": SDCARD,
                                          "select": wanted_select, "print": wanted_print,
                                          "effective_select": False, "effective_print": False})
    body = {"files": {LOCAL: {"name": parts[-1], "path": path, "origin": LOCAL, "refs": refs(LOCAL, path)},
                      SDCARD: {"name": remote, "path": remote, "origin": SDCARD, "refs": refs(SDCARD, remote)}},
            "done": False, "effectiveSelect": False, "effectivePrint": False}
    return _created(body, resource_url(SDCARD, remote))


def sd_name(name: str, taken: set) -> str:
    """A short name the firmware accepts (8.3 style, as OctoPrint makes), not yet on the card."""
    stem = re.sub(r"[^a-z0-9_-]", "", name.rsplit(".", 1)[0].lower()) or "file"
    candidate = f"{stem[:8]}.gco"
    counter = 1
    while candidate in taken:
        suffix = f"~{counter}"
        candidate = f"{stem[:8 - len(suffix)]}{suffix}.gco"
        counter += 1
    return candidate


def create_folder(location: str):
    if location != LOCAL:
        raise Invalid("target is invalid")
    foldername = request.values.get("foldername", "")
    if not foldername.strip():
        raise Invalid("folder name is empty")
    try:
        raw_parent = names.split_client_path(request.values.get("path"))
        parent = tuple(names.sanitize_name(p) for p in raw_parent)
        name = names.sanitize_name(foldername)
    except Invalid:
        raise Invalid("folder name is invalid") from None
    if names.is_machinecode(name):
        raise Conflict("Can not create folder, name looks like a printable file")
    parts = (*parent, name)
    if storage().kind(parts) not in (None, "folder"):
        raise Conflict(EXISTS)
    storage().add_folder(parts, displays=(*raw_parent, foldername))
    path = names.join(parts)
    body = {"folder": {"name": name, "path": path, "origin": LOCAL, "refs": refs(LOCAL, path, folder=True)},
            "done": True}
    return _created(body, resource_url(LOCAL, path))


def _created(body: dict, location: str):
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = location
    return response
