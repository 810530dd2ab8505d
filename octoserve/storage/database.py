"""One TinyDB file: a cross-process lock, atomic replace-on-write, refusal of corrupt files."""
import contextlib
import fcntl
import json
import os
import threading
import time
from pathlib import Path

from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Table

from octoserve.errors import CorruptDatabase

# How long a look at the file's version stays good: a request asks for users, groups and
# settings several times; one stat serves them all.
RECHECK = 0.01


class AtomicJSONStorage(Storage):
    """TinyDB storage that never writes in place.

    TinyDB's own JSONStorage truncates and rewrites the file, so a crash or power cut
    mid-write leaves half a file. Here every write goes to a temporary file in the same
    directory, is fsynced and renamed over the old one: readers and survivors see the
    old document or the new one, never a mix.
    """

    def __init__(self, path):
        self.path = Path(path)
        self.writes = 0  # writes by this process: part of the file's signature (see Database.cached)

    def read(self):
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CorruptDatabase(self.path, f"not valid JSON: {exc}") from None
        except RecursionError:
            raise CorruptDatabase(self.path, "nested too deeply") from None
        if not _is_tinydb_document(data):
            raise CorruptDatabase(self.path, "not a TinyDB document")
        return data

    def write(self, data):
        payload = json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")
        directory = self.path.parent
        tmp = directory / f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
            self.writes += 1
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        _fsync_directory(directory)

    def close(self):
        pass


def _is_tinydb_document(data) -> bool:
    """{table: {"<id>": {document}}}: anything else would crash a later query, so refuse it now."""
    return isinstance(data, dict) and all(
        isinstance(table, dict) and all(key.isdecimal() and isinstance(doc, dict) for key, doc in table.items())
        for table in data.values()
    )


class _FreshIdTable(Table):
    """TinyDB remembers the next document id in memory; other processes insert too, so recount each time."""

    def _get_next_id(self):
        self._next_id = None
        return super()._get_next_id()


class _TinyDB(TinyDB):
    table_class = _FreshIdTable


def _fsync_directory(directory: Path) -> None:
    # The rename is only durable once the directory entry itself reaches the disk.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Database:
    """A TinyDB file whose every use happens under one lock shared by threads and processes.

    TinyDB reads the whole file, changes it and writes it back; two writers interleaving
    those steps lose one another's change. ``locked()`` serializes the whole
    read-modify-write: a thread lock inside the process and ``flock`` on a side file
    across processes (the CLI writes while the server runs).
    """

    def __init__(self, path):
        self.path = Path(path)
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._lock_fd = None
        self._db = _TinyDB(self.path, storage=AtomicJSONStorage)
        self._cache = {}  # key -> (signature, value)
        self._last_stat = None  # (when, own writes then, signature)

    def check(self) -> None:
        """Read the file once, raising CorruptDatabase if it cannot be used.

        Also removes temporary files left by writers that were killed mid-write: under the
        lock nobody else is writing, so every one of them is stale.
        """
        with self.locked():
            for leftover in self.path.parent.glob(f".{self.path.name}.*.tmp"):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()
            self._db.storage.read()

    @contextlib.contextmanager
    def locked(self):
        with self._thread_lock:
            if self._depth == 0:
                fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(fd, fcntl.LOCK_EX)
                self._lock_fd = fd
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
                if self._depth == 0:
                    fd, self._lock_fd = self._lock_fd, None
                    fcntl.flock(fd, fcntl.LOCK_UN)
                    os.close(fd)

    def cached(self, key: str, compute):
        """``compute()`` (run under the lock) once per version of the file, whichever process wrote it.

        Requests read users, groups, settings and profiles many times a second; parsing the
        file each time was most of a request's cost. A version is the file's inode, times and
        size (every write renames a new file into place) plus this process's own write count.
        The value is shared by every caller until the file changes: callers must not mutate it.
        """
        signature = self._signature()
        entry = self._cache.get(key)
        if entry is not None and entry[0] == signature:
            return entry[1]
        with self.locked():
            signature = self._signature()
            value = compute()
        self._cache[key] = (signature, value)
        return value

    def _signature(self):
        """The file's version. Another process's write is seen within ``RECHECK`` seconds; our own at once."""
        writes, now = self._db.storage.writes, time.monotonic()
        last = self._last_stat
        if last is not None and last[1] == writes and now - last[0] < RECHECK:
            return last[2]
        try:
            st = os.stat(self.path)
            signature = st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size, writes
        except FileNotFoundError:
            signature = None, writes
        self._last_stat = (now, writes, signature)
        return signature

    def table(self, name: str):
        """A table that reads the file on every query (no cache: other processes write too).

        Use it only inside ``locked()``.
        """
        return self._db.table(name, cache_size=0)
