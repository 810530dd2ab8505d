"""Upload spools: a body part streamed to a hidden temporary file, hashed on the way, then renamed into place."""
import contextlib
import errno
import fcntl
import hashlib
import io
import os
import secrets
from pathlib import Path

from octoserve.errors import Conflict

PREFIX = ".upload-"
SUFFIX = ".part"


class UploadSpool(io.RawIOBase):
    """A temporary file in the uploads folder that an upload is written to as it arrives.

    The SHA-1 and size are computed while writing, so the body is never read twice or held
    in memory. The file is flocked while open: a sweep after a crash can tell a spool whose
    writer died (lock gone) from one being written right now. Closing an uncommitted
    spool deletes it, so an aborted or refused upload leaves nothing behind.
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.name = f"{PREFIX}{secrets.token_hex(8)}{SUFFIX}"
        self.path = self.folder / self.name
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._fd = fd
        self._sha1 = hashlib.sha1()
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
        self._sha1.update(view)
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
        return self._sha1.hexdigest()

    # -- ending ------------------------------------------------------------------------------
    def commit(self, target_dir_fd: int, name: str) -> None:
        """fsync the data, then rename it to ``name`` in the folder open as ``target_dir_fd``.

        Replacing an existing file is atomic: readers see the old content or the new, whole.
        """
        os.fsync(self._fd)
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
            if not self.committed:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.path)
            os.close(self._fd)
        finally:
            super().close()


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
