"""Helpers for the files API tests (tests/api/test_files_*.py): uploads, a scripted printer, the analyser."""
import hashlib
import io
from pathlib import Path

from octoserve.printer.comm.state import Flags
from octoserve.printer.snapshot import BusyFile, JobFile, JobInfo, PrinterState, Snapshot
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


def ready_snapshot(**flags) -> Snapshot:
    """A connected, idle printer; ``flags`` set more flags."""
    state_flags = Flags(operational=True, ready=True, closed_or_error=False, **flags)
    return Snapshot(state=PrinterState("OPERATIONAL", "Operational", "", state_flags))


class ScriptedPrinter:
    """A PrinterClient stand-in: the test sets the snapshot, calls are recorded (and may fail).

    Finished analyses reach the daemon from a background thread whenever they end; they are
    kept apart in ``analysed`` so that ``calls`` holds just what the requests asked for.
    """

    def __init__(self):
        self.snapshot = ready_snapshot()
        self.update_listeners = []  # the push hub listens; nothing is ever sent here
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
        job_file = JobFile(path.rsplit("/", 1)[-1], path, origin) if path else None
        self.snapshot = self.snapshot.with_changes(job=JobInfo(file=job_file))

    def printing(self, path, origin="local"):
        """The daemon prints ``path``: busy, not ready."""
        self.select(path, origin)
        flags = self.snapshot.flags
        state = PrinterState("PRINTING", "Printing", "", Flags(**{**_fields(flags), "printing": True, "ready": False}))
        self.snapshot = self.snapshot.with_changes(state=state, busy_files=(BusyFile(origin, path),))

    def disconnected(self):
        self.snapshot = Snapshot.unavailable()

    def change(self, sd_ready=None, sd_files=None):
        """The card came (or went), or the daemon listed its files."""
        flags = self.snapshot.flags
        changes = {}
        if sd_ready is not None:
            changes["sd_ready"] = sd_ready
            state = self.snapshot.state
            changes["state"] = PrinterState(state.id, state.text, state.error,
                                            Flags(**{**_fields(flags), "sd_ready": sd_ready}))
        if sd_files is not None:
            changes["sd_files"] = tuple(sd_files)
        self.snapshot = self.snapshot.with_changes(**changes)

    def methods(self) -> list:
        return [method for method, _ in self.calls]

    def stop(self):
        pass


def wait_for_analysis(app, timeout=60) -> None:
    assert app.extensions["octoserve.analysis"].wait_idle(timeout), "the analysis did not finish"


def _fields(flags: Flags) -> dict:
    return {name: getattr(flags, name) for name in Flags.__dataclass_fields__}
