"""GET /downloads/files/local/<path>: a stored file as an attachment, streamed from disk (FILES_DOWNLOAD)."""
import os

from flask import Blueprint, request, send_file

from octoserve.access.guards import require, services
from octoserve.api.files_common import item_parts

downloads = Blueprint("downloads", __name__, url_prefix="/downloads")


@downloads.route("/files/local/<path:path>", merge_slashes=False)
@require("FILES_DOWNLOAD")
def download(path):
    parts = item_parts(path)
    storage = services().files
    handle = storage.open_file(parts)
    try:
        info = os.fstat(handle.fileno())
        response = send_file(handle, mimetype="application/octet-stream", as_attachment=True,
                             download_name=parts[-1], conditional=False, max_age=0)
    except BaseException:
        handle.close()
        raise
    # Given a file object, send_file knows neither size nor date: say them, then honour Range/If-*.
    response.content_length = info.st_size
    response.last_modified = int(info.st_mtime)
    response.set_etag(f"{info.st_ino:x}-{info.st_size:x}-{info.st_mtime_ns:x}")
    return response.make_conditional(request, accept_ranges=True, complete_length=info.st_size)
