"""Upload spools: a body part streamed to a hidden temporary file, hashed on the way, then renamed into place."""
import contextlib
import errno
import fcntl
import hashlib
import io
import os
import secrets
import threading
from pathlib import Path

from octoserve.errors import Conflict

PREFIX = ".upload-"
SUFFIX = ".part"
# Past this size the SHA-1 is computed by a thread that reads back what was written (from the
# page cache), so hashing runs beside receiving on a second core instead of after it.
BACKGROUND_HASH_FROM = 4 * 1024 * 1024
HASH_STEP = 1024 * 1024


class UploadSpool(io.RawIOBase):
    """A temporary file in the uploads folder that an upload is written to as it arrives.

    The SHA-1 and size are computed while writing, so the body is never read twice or held in
    memory (past a few MB a helper thread hashes what was written while the next bytes arrive).
    The file is flocked while open: a sweep after a crash can tell a spool whose writer died
    (lock gone) from one being written right now. Closing an uncommitted spool deletes it, so
    an aborted or refused upload leaves nothing behind.
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.name = f"{PREFIX}{secrets.token_hex(8)}{SUFFIX}"
        self.path = self.folder / self.name
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._fd = fd
        self._sha1 = hashlib.sha1()
        self._hasher = None
        self.size = 0
        self.committed = False

    # -- the file interface werkzeug's multipart parser writes to -----------------------------
    def readable(self):
        return True

    def writable(self):
        return True

    def seekable(self):
        return True

    def fileno(self):
        return self._fd

    def write(self, data) -> int:
        view = memoryview(data)
        try:
            written = 0
            while written < len(view):
                written += os.write(self._fd, view[written:])
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise Conflict("Not enough free disk space for the upload") from None
            raise
        if self._hasher is None and self.size + written >= BACKGROUND_HASH_FROM:
            self._hasher = _BackgroundSha1(self._fd, self._sha1, self.size)
        if self._hasher is None:
            self._sha1.update(view)
        else:
            self._hasher.advance(written)
        self.size += written
        return written

    def readinto(self, buffer) -> int:
        return os.readv(self._fd, [buffer])

    def seek(self, offset, whence=os.SEEK_SET) -> int:
        return os.lseek(self._fd, offset, whence)

    def tell(self) -> int:
        return os.lseek(self._fd, 0, os.SEEK_CUR)

    @property
    def sha1(self) -> str:
        """The hex SHA-1 of everything written (waits for the hashing thread to catch up)."""
        self._catch_up()
        return self._sha1.hexdigest()

    def _catch_up(self) -> None:
        """Wait until the hashing thread, if any, has hashed all that was written (a later write starts another)."""
        if self._hasher is not None:
            self._hasher, hasher = None, self._hasher
            hasher.finish()

    # -- ending ------------------------------------------------------------------------------
    def commit(self, target_dir_fd: int, name: str) -> None:
        """fsync the data, then rename it to ``name`` in the folder open as ``target_dir_fd``.

        Replacing an existing file is atomic: readers see the old content or the new, whole.
        """
        os.fsync(self._fd)
        self._catch_up()  # the hashing thread finishes during the fsync; if it failed, nothing is renamed
        source_fd = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.rename(self.name, name, src_dir_fd=source_fd, dst_dir_fd=target_dir_fd)
            self.committed = True
            os.fsync(target_dir_fd)
        finally:
            os.close(source_fd)

    def close(self) -> None:
        if self.closed:
            return
        try:
            if self._hasher is not None:
                self._hasher.finish(abandon=not self.committed)  # no thread may read a closed (reused) fd
            if not self.committed:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.path)
            os.close(self._fd)
        finally:
            super().close()


class _BackgroundSha1:
    """Feeds a SHA-1 from a thread that reads back the file's bytes as they are written.

    The writer reports how far it has written; the thread preads from where it stopped up to
    there (the page cache serves it) and updates the hash. ``finish`` waits until all is hashed.
    """

    def __init__(self, fd: int, sha1, offset: int):
        self._fd, self._sha1, self._offset = fd, sha1, offset
        self._written = offset
        self._finishing = self._abandoned = False
        self._error = None
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="upload-sha1", daemon=True)
        self._thread.start()

    def advance(self, count: int) -> None:
        with self._changed:
            self._written += count
            self._changed.notify()

    def finish(self, abandon: bool = False) -> None:
        """Wait until everything written is hashed (``abandon``: only until the thread has stopped)."""
        with self._changed:
            self._finishing = True
            self._abandoned = self._abandoned or abandon
            self._changed.notify()
        self._thread.join()
        if self._error is not None and not abandon:
            raise self._error

    def _run(self) -> None:
        buffer = memoryview(bytearray(HASH_STEP))
        try:
            while True:
                with self._changed:
                    self._changed.wait_for(lambda: self._written > self._offset or self._finishing)
                    target = self._written
                if self._offset >= target or self._abandoned:
                    return
                while self._offset < target and not self._abandoned:
                    count = os.preadv(self._fd, [buffer[:min(HASH_STEP, target - self._offset)]], self._offset)
                    if not count:
                        raise OSError(errno.EIO, "the upload spool is shorter than what was written")
                    self._sha1.update(buffer[:count])
                    self._offset += count
        except Exception as exc:  # noqa: BLE001 - handed to the writer, who asks for the hash
            self._error = exc


def sweep(folder: Path) -> int:
    """Delete spools whose writer is gone (killed mid-upload); returns how many."""
    removed = 0
    for path in Path(folder).glob(f"{PREFIX}*{SUFFIX}"):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a live upload holds the lock
        finally:
            os.close(fd)  # closing also drops a lock we took
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed += 1
    return removed
