"""The files API: listing, single entries, uploads and folders, file commands, deletion, name checks."""
import hashlib
import json

from flask import jsonify, request
from flask_restx import Namespace, Resource, fields

from octoserve.access.guards import check_permission, require, services
from octoserve.api import files_commands, files_upload
from octoserve.api.common import json_body, truthy
from octoserve.api.files_common import LOCAL, SDCARD, check_location, item_parts, refs, snapshot, storage, with_refs
from octoserve.errors import Invalid, NotFound
from octoserve.files import listing, names

ns = Namespace("files", description="Uploaded files and folders, the SD card's files", path="/files")

refs_model = ns.model("FileRefs", {
    "resource": fields.String(example="http://printer.local/api/files/local/parts/cube.gcode"),
    "download": fields.String(example="http://printer.local/downloads/files/local/parts/cube.gcode"),
})
entry_model = ns.model("FileEntry", {
    "name": fields.String(example="cube.gcode"), "display": fields.String(example="cube.gcode"),
    "path": fields.String(example="parts/cube.gcode"), "type": fields.String(enum=["machinecode", "folder"]),
    "typePath": fields.List(fields.String, example=["machinecode", "gcode"]),
    "origin": fields.String(enum=[LOCAL, SDCARD]), "size": fields.Integer, "date": fields.Integer,
    "hash": fields.String, "user": fields.String, "userdata": fields.Raw, "refs": fields.Nested(refs_model),
    "gcodeAnalysis": fields.Raw, "prints": fields.Raw, "statistics": fields.Raw,
    "children": fields.List(fields.Raw, description="folders only"),
})
listing_model = ns.model("FileListing", {
    "files": fields.List(fields.Nested(entry_model)), "free": fields.Integer, "total": fields.Integer,
})
upload_model = ns.model("UploadResult", {
    "files": fields.Raw(example={"local": {"name": "cube.gcode", "path": "cube.gcode", "origin": "local",
                                           "refs": {"resource": "...", "download": "..."}}}),
    "done": fields.Boolean, "effectiveSelect": fields.Boolean, "effectivePrint": fields.Boolean,
})
command_model = ns.model("FileCommand", {
    "command": fields.String(required=True, enum=list(files_commands.COMMANDS)),
    "print": fields.Boolean, "destination": fields.String(example="archive/"),
})
upload_form = ns.parser()
upload_form.add_argument("file", location="files", type="file", help="the G-code file")
for _field in ("path", "select", "print", "userdata", "foldername", "noOverwrite", "filename"):
    upload_form.add_argument(_field, location="form", type=str)


def local_entries(depth) -> list:
    entries = storage().tree(depth)
    type_filter = request.args.get("filter")
    if type_filter:
        entries = listing.filtered(entries, type_filter)
    return [with_refs(entry) for entry in entries]


def sd_entries() -> list:
    """The card's files as the daemon lists them (empty while the card is not ready)."""
    if not services().settings.get("feature.sdSupport"):
        return []
    entries = []
    for found in snapshot().sd_files:
        entry = {"type": "machinecode", "typePath": list(names.MACHINECODE_TYPE_PATH), "name": found["name"],
                 "display": found.get("display") or found["name"], "path": found["name"], "origin": SDCARD,
                 "refs": refs(SDCARD, found["name"])}
        for key in ("size", "date"):
            if found.get(key) is not None:
                entry[key] = found[key]
        entries.append(entry)
    return entries


def conditional(body: dict):
    """OctoPrint answers listings with an ETag and 304 for an unchanged If-None-Match.

    The tag covers the entries only: free disk space changes with any write on the machine,
    and a tag that changes every time would make the 304 useless.
    """
    response = jsonify(body)
    entries = json.dumps(body["files"], sort_keys=True).encode()
    response.set_etag(hashlib.sha1(entries).hexdigest())
    return response.make_conditional(request)


def depth() -> int | None:
    return None if truthy(request.args.get("recursive", False)) else 1


@ns.route("")
class AllFiles(Resource):
    @ns.response(200, "Local and SD card files, free and total disk bytes", listing_model)
    @require("FILES_LIST")
    def get(self):
        return conditional({"files": local_entries(depth()) + sd_entries(), **storage().usage()})


@ns.route("/<string:location>")
class LocationFiles(Resource):
    @ns.response(200, "The files of one location", listing_model)
    @ns.response(404, "Unknown location")
    @require("FILES_LIST")
    def get(self, location):
        check_location(location)
        if location == SDCARD:
            return conditional({"files": sd_entries()})
        return conditional({"files": local_entries(depth()), **storage().usage()})

    @ns.expect(upload_form)
    @ns.response(201, "Stored (Location: the file's resource)", upload_model)
    @ns.response(400, "No file and no folder, invalid name or userdata")
    @ns.response(403, "Overwriting needs FILES_DELETE too")
    @ns.response(409, "Exists (noOverwrite), or the file is being printed")
    @ns.response(413, "Larger than server.uploads.maxSize")
    @ns.response(415, "Not a G-code file (.gcode, .gco, .g)")
    def post(self, location):
        check_permission("FILES_UPLOAD")
        check_location(location)
        return files_upload.upload(location)


# merge_slashes=False: "//etc/passwd" must be a 404, not a redirect to "/etc/passwd" inside the folder.
@ns.route("/<string:location>/<path:path>", merge_slashes=False)
class FileItem(Resource):
    @ns.response(200, "One entry; folders with their children", entry_model)
    @ns.response(404, "No such file, or the path is not in sanitised form")
    @require("FILES_LIST")
    def get(self, location, path):
        check_location(location)
        if location == SDCARD:
            for entry in sd_entries():
                if entry["path"] == path:
                    return entry
            raise NotFound("File not found")
        parts = item_parts(path)
        return with_refs(storage().entry(parts, None if truthy(request.args.get("recursive")) else 1))

    @ns.expect(command_model)
    @ns.response(201, "Copied or moved (Location: the new resource)")
    @ns.response(204, "Selected, unselected, or analysis queued")
    @ns.response(409, "The printer is busy, the target exists, or the file is in use")
    def post(self, location, path):
        check_location(location)
        parts = item_parts(path) if location == LOCAL else tuple(path.split("/"))
        return files_commands.command(location, parts)

    @ns.response(204, "Deleted (folders with everything inside)")
    @ns.response(409, "The file, or a file inside the folder, is being printed")
    def delete(self, location, path):
        check_permission("FILES_DELETE")
        check_location(location)
        parts = item_parts(path) if location == LOCAL else tuple(path.split("/"))
        return files_commands.delete(location, parts)


@ns.route("/test")
class NameTest(Resource):
    @ns.response(200, '{"sanitized": ...} or {"exists": ...}')
    @require("FILES_LIST")
    def post(self):
        data = json_body()
        if data.get("command") not in ("sanitize", "exists"):
            raise Invalid("command is invalid")
        if data.get("storage") != LOCAL or "path" not in data or "filename" not in data:
            raise Invalid("Mandatory parameters missing")
        try:
            parts = (*names.sanitized_path(data["path"]), names.sanitize_name(data["filename"]))
        except Invalid:
            raise Invalid("path or filename is invalid") from None
        if data["command"] == "sanitize":
            return {"sanitized": names.join(parts)}
        return _exists(parts)


def _exists(parts) -> dict:
    if storage().kind(parts) is None:
        return {"exists": False}
    stem, dot, extension = parts[-1].rpartition(".")
    stem, extension = (stem, dot + extension) if dot else (extension, "")
    counter = 1
    while storage().kind((*parts[:-1], f"{stem}_{counter}{extension}")) is not None:
        counter += 1
    info = storage().locate(parts).stat()
    return {"exists": True, "suggestion": f"{stem}_{counter}{extension}", "size": info.st_size,
            "date": int(info.st_mtime)}
