"""The printer's SD card: the file list from M20, selecting and printing (M23/M24), deleting (M30),
uploading by streaming (M28/M29), and progress from M27 reports."""
import logging
import re
import threading
import time

from octoserve import events
from octoserve.errors import Conflict, Invalid, NotFound
from octoserve.printer.comm.responses import SdKind, parse_file_list_entry
from octoserve.printer.comm.state import State
from octoserve.printer.job import JobReader
from octoserve.printer.snapshot import ProgressInfo

log = logging.getLogger(__name__)

_SD_NAME = re.compile(r"^[A-Za-z0-9_~\-/]{1,64}\.(gco|gcode|g)$", re.I)


class SdCard:
    """What the daemon knows of the card; every reply arrives on the comm reader thread."""

    def __init__(self, service):
        self.service = service
        self.files = []
        self._collecting = None
        self.printing = None      # the name printed from the card
        self.position = self.total = 0
        self._started = None
        self._lock = threading.Lock()

    # -- replies ----------------------------------------------------------------------------
    def on_received(self, line: str) -> None:
        if self._collecting is None:
            return
        entry = parse_file_list_entry(line)
        if entry is not None:
            name, size, timestamp, long_name = entry
            self._collecting.append({"name": name, "display": long_name or name, "size": size, "date": timestamp})

    def on_message(self, message) -> None:
        kind = message.kind
        if kind is SdKind.FILE_LIST_BEGIN:
            self._collecting = []
        elif kind is SdKind.FILE_LIST_END and self._collecting is not None:
            with self._lock:
                self.files, self._collecting = self._collecting, None
            self.service.changed()
        elif kind is SdKind.CARD_OK:
            self.refresh()
        elif kind is SdKind.PRINTING_BYTE and self.printing:
            self.position, self.total = int(message.fields["position"]), int(message.fields["total"])
            self.service.changed()
        elif kind is SdKind.DONE_PRINTING and self.printing:
            self._done()

    # -- requests ---------------------------------------------------------------------------
    def listing(self) -> list:
        with self._lock:
            return [dict(f) for f in self.files]

    def refresh(self) -> None:
        connection = self.service.connection
        if connection is not None and connection.operational:
            extended = connection.capabilities.get("EXTENDED_M20")
            connection.send("M20 L T" if extended else "M20")

    def select(self, name: str, print: bool = False) -> None:
        connection = self._ready_connection()
        entry = self._entry(name)
        connection.send(f"M23 {entry['name']}")
        self.service.job.select_sd(entry)
        if print:
            self.start()

    def start(self) -> None:
        connection = self._ready_connection()
        entry = self.service.job.file
        if entry is None or entry["origin"] != "sdcard":
            raise Conflict("No SD file is selected")
        self.printing, self.position, self.total, self._started = entry["path"], 0, entry["size"] or 0, time.time()
        connection.set_state(State.PRINTING, sd=True)
        connection.send("M24")
        if not connection.capabilities.get("AUTOREPORT_SD_STATUS"):
            connection.send("M27")
        self.service.event(events.PRINT_STARTED, {"name": entry["name"], "path": entry["path"], "origin": "sdcard",
                                                  "size": entry["size"]})
        self.service.changed()

    def delete(self, name: str) -> None:
        connection = self._ready_connection()
        entry = self._entry(name)
        if self.printing == entry["name"]:
            raise Conflict("Trying to delete a file that is currently in use")
        connection.send(f"M30 {entry['name']}")
        self.refresh()

    def upload(self, abs_path: str, remote_name: str) -> None:
        """Stream a local file onto the card: M28, every line numbered, M29, then a fresh listing."""
        if not _SD_NAME.match(remote_name):
            raise Invalid("invalid SD file name")
        connection = self._ready_connection()
        reader = JobReader(abs_path)
        lines = iter((f"M28 {remote_name}",))
        tail = iter(("M29",))

        def source():
            line = next(lines, None) or reader.next_line()
            return line if line is not None else next(tail, None)

        def done():
            reader.close()
            self.service.event(events.TRANSFER_DONE, {"local": abs_path, "remote": remote_name,
                                                      "time": time.time() - started})
            self.refresh()

        started = time.time()
        connection.start_job(source, done)
        connection.set_state(State.PRINTING, streaming=True)
        self.service.event(events.TRANSFER_STARTED, {"local": abs_path, "remote": remote_name})

    # -- helpers ----------------------------------------------------------------------------
    def _done(self):
        connection, elapsed = self.service.connection, time.time() - (self._started or time.time())
        self.position = self.total
        entry = self.service.job.file or {}
        self.printing = None
        if connection is not None:
            connection.set_state(State.FINISHING, sd=True)
            connection.set_state(State.OPERATIONAL)
        self.service.event(events.PRINT_DONE, {"name": entry.get("name"), "path": entry.get("path"),
                                               "origin": "sdcard", "size": entry.get("size"), "time": elapsed})
        self.service.changed()

    def _entry(self, name: str) -> dict:
        for entry in self.listing():
            if name in (entry["name"], entry["display"]) or name.lower() == entry["name"].lower():
                return entry
        raise NotFound(f"No such file on the SD card: {name}")

    def _ready_connection(self):
        connection = self.service.connection
        if connection is None or not connection.operational or not self.service.sd_ready:
            raise Conflict("Printer is not operational or the SD card is not ready")
        if not connection.machine.flags().ready:
            raise Conflict("Printer is busy")
        return connection

    def progress(self) -> ProgressInfo | None:
        """SD progress by the firmware's byte count, for GET /api/job."""
        if not self.printing or not self.total:
            return None
        elapsed = time.time() - (self._started or time.time())
        done = self.position / self.total
        left = int(elapsed * (1 - done) / done) if done > 0.01 else None
        return ProgressInfo(done * 100, self.position, int(elapsed), left, "linear" if left is not None else None)
