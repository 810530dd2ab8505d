"""The G-code analysis queue: one background thread running the analyser as a child process, one file at a time.

The analyser is CPU-heavy Python; in a child process (and niced) it neither holds the web
process's GIL nor competes with the printer daemon for the CPU.
"""
import atexit
import json
import logging
import os
import queue
import subprocess
import sys
import threading

from octoserve import events
from octoserve.errors import NotFound
from octoserve.files import names

log = logging.getLogger(__name__)

COMMAND = (sys.executable, "-m", "octoserve.files.analysis")
TIMEOUT = 30 * 60  # seconds; a 100 MB file on a slow board takes minutes, a hang must end
QUEUE_SIZE = 100
NICENESS = 10
FAILED = "_analysisFailed"  # metadata flag: the analyser gave up on this content


class AnalysisQueue:
    """Paths wait in a bounded queue; results are stored as ``gcodeAnalysis`` if the file did not change meanwhile."""

    def __init__(self, storage, *, command=COMMAND, timeout: float = TIMEOUT, size: int = QUEUE_SIZE):
        self.storage = storage
        self.command = tuple(command)
        self.timeout = timeout
        self._queue = queue.Queue(maxsize=size)
        self._waiting = set()  # queued, not started: a second request for one of these adds nothing
        self._running = None
        self._lock = threading.Lock()
        self._thread = None
        self._process = None
        self._stopping = threading.Event()
        self._idle = threading.Condition(self._lock)

    def enqueue(self, path: str) -> bool:
        """Ask for an analysis of a local file; False when it is queued already or the queue is full."""
        with self._lock:
            if path in self._waiting or self._stopping.is_set():
                return False
            try:
                self._queue.put_nowait(path)
            except queue.Full:
                log.warning("analysis queue full, not analysing %s", path)
                return False
            self._waiting.add(path)
            self._start()
        return True

    def _start(self) -> None:
        # Started on first use: most app instances (tests, CLI) never analyse anything.
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="analysis-queue", daemon=True)
            self._thread.start()
            atexit.register(self.stop)

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing is queued or running (for tests and orderly shutdowns)."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._waiting and self._running is None, timeout)

    def stop(self) -> None:
        self._stopping.set()
        with self._idle:
            self._waiting.clear()  # never to be analysed now; wait_idle() must not wait for them
            self._idle.notify_all()
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
        with self._lock:
            if self._thread is not None:
                try:
                    self._queue.put_nowait(None)
                except queue.Full:
                    pass  # the thread is not waiting then: it sees _stopping after the current file

    def _run(self) -> None:
        while not self._stopping.is_set():
            path = self._queue.get()
            if path is None:
                return
            with self._lock:
                self._waiting.discard(path)
                self._running = path
            try:
                self._analyse(path)
            except Exception:
                log.exception("analysis of %s failed", path)
            finally:
                with self._idle:
                    self._running = None
                    self._idle.notify_all()

    def _analyse(self, path: str) -> None:
        parts = tuple(path.split("/"))
        try:
            before = _identity(self.storage.locate(parts))
        except (NotFound, OSError):
            return  # deleted or moved while it waited
        self._fire(events.METADATA_ANALYSIS_STARTED, path)
        result = self._run_analyser(self.storage.locate(parts))
        if self._stopping.is_set():
            return
        try:
            unchanged = _identity(self.storage.locate(parts)) == before
        except (NotFound, OSError):
            unchanged = False
        if not unchanged:
            log.info("%s changed during its analysis; result dropped", path)
        elif result is None:
            # Remembered so that catch_up() does not retry it at every start; "analyse" still does.
            self.storage.metadata.update(path, {FAILED: True})
        else:
            self.storage.metadata.update(path, {"gcodeAnalysis": result}, remove=(FAILED,))
            self._fire(events.METADATA_ANALYSIS_FINISHED, path, result=result)

    def catch_up(self) -> None:
        """Queue every file that has no analysis yet (dropped into the folder, or left by a crash).

        Runs in a short-lived thread of its own: the tree walk stays out of the caller's way.
        """
        threading.Thread(target=self._catch_up, name="analysis-catch-up", daemon=True).start()

    def _catch_up(self) -> None:
        try:
            known = self.storage.metadata.all()
            pending = [path for path in _file_paths(self.storage.tree())
                       if "gcodeAnalysis" not in known.get(path, {}) and FAILED not in known.get(path, {})]
        except Exception:
            log.exception("could not look for files without analysis")
            return
        for path in pending:
            if not self.enqueue(path):
                break  # full (or stopping): the rest wait for the next start

    def _run_analyser(self, absolute) -> dict | None:
        try:
            process = subprocess.Popen([*self.command, str(absolute)], stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        except OSError as exc:
            log.error("cannot start the analyser: %s", exc)
            return None
        self._process = process
        try:
            os.setpriority(os.PRIO_PROCESS, process.pid, NICENESS)
        except OSError:
            pass  # it exited already, or we may not: it runs at normal priority then
        try:
            stdout, stderr = process.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            log.error("analysis of %s took longer than %ss and was stopped", absolute, self.timeout)
            return None
        finally:
            self._process = None
        if process.returncode != 0:
            if self._stopping.is_set():
                return None  # killed by stop(): not the file's fault, and not recorded as failed
            message = stderr.decode("utf-8", "replace").strip().splitlines()
            log.error("analysis of %s failed: %s", absolute, message[-1] if message else f"exit {process.returncode}")
            return None
        try:
            result = json.loads(stdout)
        except ValueError:
            log.error("the analyser printed no JSON for %s", absolute)
            return None
        return result if isinstance(result, dict) else None

    def _fire(self, name, path, **extra) -> None:
        bus = self.storage.events
        if bus is not None:
            bus.fire(name, {"name": path.rsplit("/", 1)[-1], "path": path, "origin": "local",
                               "type": names.MACHINECODE_TYPE_PATH, **extra})


def _file_paths(entries):
    for entry in entries:
        if entry["type"] == "folder":
            yield from _file_paths(entry["children"])
        else:
            yield entry["path"]


def _identity(path) -> tuple:
    info = os.stat(path, follow_symlinks=False)
    return info.st_ino, info.st_size, info.st_mtime_ns
