"""What the files API modules share: locations, client paths, absolute refs, files in use, job selection."""
import logging
from urllib.parse import quote

from flask import current_app, request

from octoserve.access.guards import services
from octoserve.api.printer import printer
from octoserve.errors import Conflict, NotFound, OctoserveError
from octoserve.files import names
from octoserve.printer.snapshot import Snapshot

log = logging.getLogger(__name__)

LOCAL, SDCARD = "local", "sdcard"


def storage():
    return services().files


def analysis():
    return current_app.extensions["octoserve.analysis"]


def check_location(location: str) -> None:
    if location not in (LOCAL, SDCARD):
        raise NotFound("Unknown location")


def item_parts(path: str) -> tuple:
    """A path from the URL: 404 unless it is already in sanitised form (as OctoPrint answers)."""
    parts = names.canonical_path(path)
    if parts is None:
        raise NotFound("File not found")
    return parts


# -- URLs ------------------------------------------------------------------------------------------
def resource_url(location: str, path: str) -> str:
    return f"{request.url_root}api/files/{location}/{quote(path)}"


def download_url(path: str) -> str:
    return f"{request.url_root}downloads/files/local/{quote(path)}"


def refs(location: str, path: str, folder: bool = False) -> dict:
    found = {"resource": resource_url(location, path)}
    if location == LOCAL and not folder:
        found["download"] = download_url(path)
    return found


def with_refs(entry: dict) -> dict:
    """An entry (and its children) with absolute resource and download URLs."""
    folder = entry["type"] == "folder"
    result = {**entry, "refs": refs(entry["origin"], entry["path"], folder)}
    if folder:
        result["children"] = [with_refs(child) for child in entry["children"]]
    return result


# -- the printer's view of the files ---------------------------------------------------------------
def snapshot() -> Snapshot:
    return printer().snapshot


def busy_paths(origin: str = LOCAL) -> set:
    """Paths the daemon is printing from (or paused in): they may not be changed."""
    state = snapshot()
    busy = {f.path for f in state.busy_files if f.origin == origin}
    job_file = state.job.file
    if state.flags.active and job_file is not None and job_file.origin == origin:
        busy.add(job_file.path)
    return busy


def in_use(path: str, origin: str = LOCAL) -> bool:
    """The file is busy, or (for a folder) holds a busy file."""
    return any(busy == path or busy.startswith(path + "/") for busy in busy_paths(origin))


def selected_path(origin: str = LOCAL) -> str | None:
    job_file = snapshot().job.file
    return job_file.path if job_file is not None and job_file.origin == origin else None


def ready() -> bool:
    return snapshot().flags.ready


def deselect_if_within(path: str) -> None:
    """Deleting or moving the selected (idle) file deselects it first, as OctoPrint does."""
    selected = selected_path()
    if selected is not None and (selected == path or selected.startswith(path + "/")):
        try:
            printer().call("job_unselect")
        except OctoserveError as exc:
            log.info("could not deselect %s: %s", selected, exc)


def select_for_job(parts: tuple, start: bool, user: str | None) -> None:
    """Ask the daemon to select a local file (and start it); its Conflict passes through."""
    entry = storage().entry(parts)
    if entry["type"] != "machinecode":
        raise Conflict("Cannot select a folder")
    analysis_result = entry.get("gcodeAnalysis") or {}
    printer().call(
        "job_select", origin=LOCAL, path=entry["path"], abs_path=str(storage().locate(parts)),
        display=entry["display"], name=entry["name"], size=entry["size"], date=entry["date"],
        estimated_print_time=analysis_result.get("estimatedPrintTime"),
        filament=analysis_result.get("filament"), print=start, user=user,
    )
