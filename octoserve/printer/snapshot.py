"""The printer's state in one shape: typed snapshots the daemon builds and the web process reads.

The daemon builds a ``Snapshot`` (``PrinterService.snapshot``), sends it over its socket as
``to_wire()`` and the web process rebuilds it with ``Snapshot.from_wire``. GET /api/printer,
/api/job and /api/connection and the push API's ``current`` and ``history`` messages all
serialise the same object with the ``to_api`` methods below, so they can never disagree.
"""
from dataclasses import asdict, dataclass, field, replace

from octoserve.printer.comm.state import Flags

DAEMON_DOWN = "The printer daemon is not running; it is being restarted"


@dataclass(frozen=True, slots=True)
class PrinterState:
    id: str = "OFFLINE"
    text: str = "Offline"
    error: str = ""
    flags: Flags = field(default_factory=Flags)

    def to_api(self) -> dict:
        return {"text": self.text, "flags": self.flags.to_api(), "error": self.error}


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    port: str | None = None
    baudrate: int | None = None
    profile: str | None = None


@dataclass(frozen=True, slots=True)
class Heater:
    actual: float | None = None
    target: float | None = None
    offset: float = 0

    def to_api(self) -> dict:
        return {"actual": self.actual, "target": self.target, "offset": self.offset}


@dataclass(frozen=True, slots=True)
class JobFile:
    name: str
    path: str
    origin: str
    display: str | None = None
    size: int | None = None
    date: int | None = None

    def to_api(self) -> dict:
        return {"name": self.name, "path": self.path, "display": self.display or self.name,
                "origin": self.origin, "size": self.size, "date": self.date}


NO_FILE = {"name": None, "path": None, "size": None, "origin": None, "date": None}
NO_FILAMENT = {"length": None, "volume": None}


@dataclass(frozen=True, slots=True)
class JobInfo:
    file: JobFile | None = None
    estimated_print_time: float | None = None
    last_print_time: float | None = None
    average_print_time: float | None = None
    filament: dict | None = None
    user: str | None = None

    def to_api(self) -> dict:
        """GET /api/job's ``job``: OctoPrint's two empty shapes when nothing is selected."""
        job = {"file": self.file.to_api() if self.file else dict(NO_FILE),
               "estimatedPrintTime": self.estimated_print_time, "lastPrintTime": self.last_print_time}
        if self.average_print_time is not None:
            job["averagePrintTime"] = self.average_print_time
        job["filament"] = self.filament if self.file else dict(NO_FILAMENT)  # a file not analysed: null
        job["user"] = self.user
        return job


@dataclass(frozen=True, slots=True)
class ProgressInfo:
    completion: float | None = None
    filepos: int | None = None
    print_time: int | None = None
    print_time_left: int | None = None
    print_time_left_origin: str | None = None

    def to_api(self) -> dict:
        return {"completion": self.completion, "filepos": self.filepos, "printTime": self.print_time,
                "printTimeLeft": self.print_time_left, "printTimeLeftOrigin": self.print_time_left_origin}


@dataclass(frozen=True, slots=True)
class Resends:
    count: int = 0
    transmitted: int = 0
    ratio: int = 0

    def to_api(self) -> dict:
        return {"count": self.count, "transmitted": self.transmitted, "ratio": self.ratio}


@dataclass(frozen=True, slots=True)
class BusyFile:
    origin: str
    path: str

    def to_api(self) -> dict:
        return {"origin": self.origin, "path": self.path}


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything the API shows about the printer at one moment; ``seq`` orders them."""

    seq: int = 0
    available: bool = True
    state: PrinterState = field(default_factory=PrinterState)
    connection: ConnectionInfo = field(default_factory=ConnectionInfo)
    temperatures: dict = field(default_factory=dict)  # heater name -> Heater
    sd_ready: bool = False
    firmware: dict = field(default_factory=dict)
    capabilities: dict = field(default_factory=dict)
    resends: Resends = field(default_factory=Resends)
    busy_files: tuple = ()  # BusyFile
    sd_files: tuple = ()  # entries of the printer's SD card listing (dicts)
    job: JobInfo = field(default_factory=JobInfo)
    progress: ProgressInfo = field(default_factory=ProgressInfo)
    current_z: float | None = None
    markings: tuple = ()  # {"type", "label", "time"} marks on the temperature chart
    log_count: int = 0

    @classmethod
    def unavailable(cls, reason: str = DAEMON_DOWN) -> "Snapshot":
        """What the API reports while no daemon answers: an error state, never a stale picture."""
        return cls(available=False, state=PrinterState("ERROR", "Error", reason, Flags(error=True)))

    @property
    def flags(self) -> Flags:
        return self.state.flags

    def with_changes(self, **changes) -> "Snapshot":
        return replace(self, **changes)

    def temperatures_api(self, keep=lambda heater: True) -> dict:
        return {name: heater.to_api() for name, heater in self.temperatures.items() if keep(name)}

    def offsets(self) -> dict:
        return {name: heater.offset for name, heater in self.temperatures.items()}

    # -- the daemon socket ------------------------------------------------------------------
    def to_wire(self) -> dict:
        return asdict(self)

    @classmethod
    def from_wire(cls, data: dict) -> "Snapshot":
        state = dict(data.get("state") or {})
        state["flags"] = Flags(**state.get("flags", {}))
        job = dict(data.get("job") or {})
        job["file"] = JobFile(**job["file"]) if job.get("file") else None
        return cls(
            seq=data.get("seq", 0), available=data.get("available", True), state=PrinterState(**state),
            connection=ConnectionInfo(**data.get("connection", {})),
            temperatures={name: Heater(**values) for name, values in (data.get("temperatures") or {}).items()},
            sd_ready=data.get("sd_ready", False), firmware=data.get("firmware") or {},
            capabilities=data.get("capabilities") or {}, resends=Resends(**data.get("resends", {})),
            busy_files=tuple(BusyFile(**entry) for entry in data.get("busy_files") or ()),
            sd_files=tuple(data.get("sd_files") or ()), job=JobInfo(**job),
            progress=ProgressInfo(**data.get("progress", {})), current_z=data.get("current_z"),
            markings=tuple(data.get("markings") or ()),
            log_count=data.get("log_count", 0),
        )
