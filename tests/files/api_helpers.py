"""Helpers for the files API tests (tests/api/test_files_*.py): uploads, a scripted printer, the analyser."""
import hashlib
import io
from pathlib import Path

from octoserve.printer.client import unavailable_snapshot
from tests.api.seeded import key

ADMIN, USER, READONLY = key("admin"), key("user"), key("readonly")
GCODE = b"G28\nG1 X10 Y10 Z0.2 F3000\nG1 X20 Y10 E1.0 F1200\nM84\n"


def upload(client, name="cube.gcode", data=GCODE, headers=ADMIN, location="local", **fields):
    """POST a real multipart upload through the test client."""
    form = {key: value for key, value in fields.items()}
    if name is not None:
        form["file"] = (io.BytesIO(data), name)
    return client.post(f"/api/files/{location}", data=form, headers=headers, content_type="multipart/form-data")


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def uploads(services) -> Path:
    return services.files.root


def tree_of(folder: Path) -> list:
    """Every name under a folder (hidden ones too), relative, sorted: what is really on disk."""
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*"))


def ready_snapshot(**flags) -> dict:
    snapshot = unavailable_snapshot()
    snapshot.update(available=True, busy_files=[], sd_files=[],
                    job={"file": {"name": None, "path": None, "size": None, "origin": None, "date": None}})
    state_flags = dict.fromkeys(snapshot["state"]["flags"], False)
    state_flags.update(operational=True, ready=True)
    state_flags.update(flags)
    snapshot["state"] = {"id": "OPERATIONAL", "text": "Operational", "error": "", "flags": state_flags}
    return snapshot


class ScriptedPrinter:
    """A PrinterClient stand-in: the test sets the snapshot, calls are recorded (and may fail).

    Finished analyses reach the daemon from a background thread whenever they end; they are
    kept apart in ``analysed`` so that ``calls`` holds just what the requests asked for.
    """

    def __init__(self):
        self.snapshot = ready_snapshot()
        self.calls = []
        self.analysed = []
        self.fail_with = None

    def call(self, method, **params):
        if method == "job_analysed":
            self.analysed.append(params)
            return None
        self.calls.append((method, params))
        if self.fail_with is not None:
            raise self.fail_with
        if method == "job_select":
            self.select(params["path"])
        elif method == "job_unselect":
            self.select(None)
        return None

    def select(self, path, origin="local"):
        self.snapshot["job"] = {"file": {"name": path and path.rsplit("/", 1)[-1], "path": path,
                                         "origin": origin if path else None}}

    def printing(self, path, origin="local"):
        """The daemon prints ``path``: busy, not ready."""
        self.select(path, origin)
        self.snapshot["state"]["flags"].update(printing=True, ready=False)
        self.snapshot["state"]["text"] = "Printing"
        self.snapshot["busy_files"] = [{"origin": origin, "path": path}]

    def disconnected(self):
        self.snapshot = unavailable_snapshot()

    def methods(self) -> list:
        return [method for method, _ in self.calls]

    def stop(self):
        pass


def wait_for_analysis(app, timeout=60) -> None:
    assert app.extensions["octoserve.analysis"].wait_idle(timeout), "the analysis did not finish"
