"""The print job in the daemon: the selected file, streaming it, progress, time left, scripts, history."""
import logging
import threading
import time

from octoserve import events
from octoserve.errors import Conflict, Invalid
from octoserve.printer.comm.framing import strip_comment
from octoserve.printer.comm.state import State
from octoserve.printer.progress import Progress
from octoserve.printer.snapshot import BusyFile, JobFile, JobInfo

log = logging.getLogger(__name__)

NOT_OPERATIONAL = "Printer is not operational"
ALREADY_PRINTING = "Printer already has an active print job, did you mean 'restart'?"
NO_ACTIVE_JOB = "Printer is neither printing nor paused"


class JobReader:
    """Reads the G-code file line by line as the send queue pulls; `position` is the byte offset consumed."""

    def __init__(self, path, start: int = 0):
        self._file = open(path, "rb")  # noqa: SIM115 - closed by close(), when the job ends
        self._file.seek(start)
        self.position = start
        self._readline = self._file.readline

    def next_line(self) -> str | None:
        readline = self._readline
        while True:
            raw = readline()
            if not raw:
                return None
            self.position += len(raw)
            line = raw.decode("utf-8", "replace")
            if ";" in line:
                line = strip_comment(line)
            else:
                line = line.strip()
            if line:
                return line

    def close(self) -> None:
        self._file.close()


class Job:
    """One selected file at a time; the connection streams it, this keeps the books."""

    def __init__(self, service, history=None):
        self.service = service
        self.history = history
        self.file = None
        self.reader = None
        self.progress = Progress()
        self.user = None
        self.pause_position = None
        self.awaiting_position = False  # the M114 answer after a pause is the pause position
        self._lock = threading.RLock()
        self._stats_cache = None  # ((origin, path, profile), stats)

    # -- selection ------------------------------------------------------------------------------
    def select(self, origin, path, abs_path, display=None, name=None, size=None, date=None,
               estimated_print_time=None, filament=None, print=False, user=None):
        with self._lock:
            if not self._ready():
                raise Conflict("Printer is already printing, cannot select a new file")
            if origin != "local":
                raise Invalid("only local files can be selected here")
            self.file = {
                "origin": origin, "path": path, "abs_path": abs_path, "name": name or path.rsplit("/", 1)[-1],
                "display": display or name or path.rsplit("/", 1)[-1], "size": size, "date": date,
                "estimatedPrintTime": estimated_print_time, "filament": filament,
            }
            self.user = user
            self.progress = Progress()
        self.service.event(events.FILE_SELECTED, {"name": self.file["name"], "path": path, "origin": origin,
                                                  "size": size})
        self.service.changed()
        if print:
            self.start(user=user)

    def analysed(self, path, estimated_print_time, filament):
        """A local file's analysis finished: the selected (or printing) file takes what it lacked."""
        with self._lock:
            file = self.file
            if file is None or file["origin"] != "local" or file["path"] != path:
                return
            if file["estimatedPrintTime"] is None:
                file["estimatedPrintTime"] = estimated_print_time
                if self.progress.estimate is None:
                    self.progress.estimate = estimated_print_time
            if file["filament"] is None:
                file["filament"] = filament
        self.service.changed()

    def select_sd(self, entry: dict):
        """A file on the printer's SD card (M23 was sent): the printer reads it, not us."""
        with self._lock:
            self.file = {"origin": "sdcard", "path": entry["name"], "abs_path": None, "name": entry["name"],
                         "display": entry["display"], "size": entry["size"], "date": entry["date"],
                         "estimatedPrintTime": None, "filament": None}
            self.progress = Progress()
        self.service.event(events.FILE_SELECTED, {"name": entry["name"], "path": entry["name"], "origin": "sdcard"})
        self.service.changed()

    def unselect(self):
        with self._lock:
            if not self._ready() or self.file is None:
                raise Conflict("Printer is not ready or no file is selected")
            self.file = None
            self.progress = Progress()
        self.service.event(events.FILE_DESELECTED, None)
        self.service.changed()

    # -- commands -------------------------------------------------------------------------------
    def start(self, user=None):
        connection = self._connection()
        with self._lock:
            if connection.machine.state in (State.PRINTING, State.PAUSED, State.PAUSING, State.RESUMING,
                                            State.STARTING, State.CANCELLING, State.FINISHING):
                raise Conflict(ALREADY_PRINTING)
            if self.file is None:
                return  # OctoPrint answers 204 and does nothing
            if self.file["origin"] == "sdcard":
                self.user = user or self.user
                self.service.sdcard.start()
                return
            self._begin(connection, user or self.user)

    def _begin(self, connection, user):
        try:
            self.reader = JobReader(self.file["abs_path"])
        except OSError as exc:
            raise Conflict(f"Cannot open {self.file['path']}: {exc.strerror}") from None
        self.user, self.pause_position = user, None
        self.progress = Progress(size=self.file["size"], estimate=self.file["estimatedPrintTime"])
        self.progress.start(time.time())
        reader = self.reader
        connection.start_job(self._pull(reader), lambda: self._finished(reader))
        self._run_script("beforePrintStarted")
        self.service.event(events.PRINT_STARTED, self._payload())
        self.service.mark("print", "Start")
        self.service.changed()

    def _pull(self, reader):
        progress = self.progress

        def next_line():
            line = reader.next_line()
            progress.filepos = reader.position
            return line
        return next_line

    def pause(self, action="toggle"):
        connection = self._connection()
        state = connection.machine.state
        if action not in ("pause", "resume", "toggle"):
            raise Invalid("Unknown action")
        if state not in (State.PRINTING, State.PAUSED, State.PAUSING, State.RESUMING):
            raise Conflict(NO_ACTIVE_JOB)
        paused = state in (State.PAUSED, State.PAUSING)
        if action == "toggle":
            action = "resume" if paused else "pause"
        if self._sd_job():
            self._pause_sd(connection, action, paused)
        elif action == "pause" and not paused:
            self.progress.pause(time.time())
            self.pause_position, self.awaiting_position = None, True
            connection.pause_job(self._paused)
            connection.send("M400")
            connection.send("M114")
        elif action == "resume" and paused and state is State.PAUSED:
            self._run_script("beforePrintResumed")
            self.progress.resume(time.time())
            connection.resume_job()
            self._resumed()
        self.service.changed()

    def _sd_job(self) -> bool:
        return self.file is not None and self.file["origin"] == "sdcard"

    def _pause_sd(self, connection, action, paused):
        if action == "pause" and not paused:
            connection.send("M25")
            connection.set_state(State.PAUSED, sd=True)
            self.service.event(events.PRINT_PAUSED, self._payload())
            self.service.mark("pause", "Pause")
        elif action == "resume" and paused:
            connection.send("M24")
            connection.set_state(State.RESUMING, sd=True)
            connection.set_state(State.PRINTING, sd=True)
            self._resumed()

    def _resumed(self):
        self.service.event(events.PRINT_RESUMED, self._payload())
        self.service.mark("resume", "Resume")

    def _paused(self):
        self._run_script("afterPrintPaused")
        self.service.event(events.PRINT_PAUSED, {**self._payload(), "position": self.pause_position,
                                                 "fileposition": self.progress.filepos,
                                                 "progress": _percent(self.progress.fraction())})
        self.service.mark("pause", "Pause")
        self.service.changed()

    def cancel(self):
        connection = self._connection()
        if connection.machine.state not in (State.PRINTING, State.PAUSED, State.PAUSING, State.RESUMING):
            raise Conflict(NO_ACTIVE_JOB)
        self.service.event(events.PRINT_CANCELLING, self._payload())
        connection.send("M108")  # break a heat-up wait the job started
        if self._sd_job():
            for command in ("M25", "M26 S0"):
                connection.send(command)
            self.service.sdcard.printing = None
        connection.cancel_job(self._cancelled)
        self.service.changed()

    def _cancelled(self):
        elapsed = self.progress.print_time(time.time())
        self._close_reader()
        self._record(False, elapsed)
        self._run_script("afterPrintCancelled")
        payload = {**self._payload(), "time": elapsed, "fileposition": self.progress.filepos,
                   "progress": _percent(self.progress.fraction())}
        self.service.event(events.PRINT_CANCELLED, payload)
        self.service.event(events.PRINT_FAILED, {**payload, "reason": "cancelled"})
        self.service.changed()

    def restart(self):
        connection = self._connection()
        if connection.machine.state is not State.PAUSED:
            raise Conflict("Printer does not have an active print job or is not paused")
        connection.cancel_job(lambda: self._begin(connection, self.user))

    def _finished(self, reader):
        elapsed = self.progress.print_time(time.time())
        self.progress.finish()
        self._close_reader()
        self._record(True, elapsed)
        self._run_script("afterPrintDone")
        self.service.event(events.PRINT_DONE, {**self._payload(), "time": elapsed})
        self.service.changed()

    def abandoned(self):
        """The printer reset or the connection failed mid-job."""
        if self.reader is None:
            return
        elapsed = self.progress.print_time(time.time())
        self._close_reader()
        self._record(False, elapsed)
        self.service.event(events.PRINT_FAILED, {**self._payload(), "time": elapsed, "reason": "error"})

    # -- helpers ----------------------------------------------------------------------------
    def _connection(self):
        connection = self.service.connection
        if connection is None or not connection.operational:
            raise Conflict(NOT_OPERATIONAL)
        return connection

    def _ready(self) -> bool:
        connection = self.service.connection
        return connection is not None and connection.machine.flags().ready

    def _close_reader(self):
        if self.reader is not None:
            self.reader.close()
            self.reader = None

    def _record(self, success, elapsed):
        """Record the print in the history: on the chores thread, since this runs on the comm thread."""
        if self.history is None or self.file is None:
            return
        origin, path, profile, now = self.file["origin"], self.file["path"], self.service.profile_id, time.time()

        def write():
            try:
                self.history.record(origin, path, success, elapsed, now, profile=profile or "_default")
            except Exception:  # the print happened; a history write must not turn that into an error
                log.exception("could not record the print in the history")
                return
            self._stats_cache = None
            self.service.event(events.METADATA_STATISTICS_UPDATED, {"storage": origin, "path": path})
            self.service.changed()
        self.service.chores.submit(write)

    def _run_script(self, name):
        """Send a G-code script (GcodeScript<Name>Running/Finished around it, when it has commands)."""
        commands = self._script(name)
        if not commands:
            return
        payload = self._payload()
        self.service.event(events.gcode_script_running(name), payload)
        for command in commands:
            self.service.connection.send(command)
        self.service.event(events.gcode_script_finished(name), payload)

    def _script(self, name):
        try:
            return self.service.scripts.render(name, self._script_context())
        except Exception as exc:
            log.error("G-code script %s failed: %s", name, exc)
            return []

    def _script_context(self):
        profile = self.service.profiles.get(self.service.profile_id or self.service.profiles.default_id())
        return {"printer_profile": profile, "pause_position": self.pause_position or {},
                "event": self._payload()}

    def _payload(self):
        file = self.file or {}
        payload = {"name": file.get("name"), "path": file.get("path"), "origin": file.get("origin"),
                   "size": file.get("size")}
        if self.user:
            payload["user"] = self.user
        return payload

    def busy_files(self) -> tuple:
        if self.file is None or (self.reader is None and not self.service.sdcard.printing):
            return ()
        return (BusyFile(self.file["origin"], self.file["path"]),)

    def snapshot(self) -> tuple:
        """(JobInfo, ProgressInfo) as GET /api/job shows them (SD prints: by the firmware's byte count)."""
        file = self.file
        stats = self._stats()
        job = JobInfo(
            file=JobFile(file["name"], file["path"], file["origin"], file["display"], file["size"], file["date"])
            if file else None,
            estimated_print_time=file["estimatedPrintTime"] if file else None,
            last_print_time=stats.get("last"), average_print_time=stats.get("average"),
            filament=file["filament"] if file else None, user=self.user)
        progress = (self.service.sdcard.progress() if self._sd_job() else None) or self.progress.snapshot(time.time())
        return job, progress

    def _stats(self) -> dict:
        """Last and average print time of the selected file: read once per file and print, not per snapshot."""
        if self.history is None or self.file is None:
            return {}
        profile = self.service.profile_id or "_default"
        key = (self.file["origin"], self.file["path"], profile)
        cached = self._stats_cache
        if cached is not None and cached[0] == key:
            return cached[1]
        try:
            statistics = self.history.stats(self.file["origin"], self.file["path"]).get("statistics", {})
        except Exception:
            return {}
        stats = {"last": statistics.get("lastPrintTime", {}).get(profile),
                 "average": statistics.get("averagePrintTime", {}).get(profile)}
        self._stats_cache = (key, stats)
        return stats


def _percent(fraction) -> int:
    """OctoPrint's ``progress`` in job event payloads: whole percent."""
    return int((fraction or 0) * 100)
