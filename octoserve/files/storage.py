"""LocalStorage: the uploads folder on disk, kept in step with its metadata and print history.

Every path comes in as a tuple of names already checked by octoserve.files.names (no ``..``,
no absolute paths, no separators inside a name). Beyond that, nothing here follows a symbolic
link: lookups lstat each component and refuse links, and writes walk folder by folder with
O_NOFOLLOW from an open handle on the uploads folder, so a link planted inside it (pointing
anywhere) is never written through.
"""
import contextlib
import logging
import os
import shutil
import stat
import threading
from pathlib import Path

from octoserve import events
from octoserve.errors import Conflict, Invalid, NotFound
from octoserve.files import listing, names, spool
from octoserve.files.metadata import FileMetadata
from octoserve.storage.history import PrintHistory

log = logging.getLogger(__name__)

ORIGIN = listing.ORIGIN
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
EXISTS = "File or folder does already exist"


class LocalStorage:
    """Files and folders under <basedir>/uploads; one lock serializes changes within the process."""

    def __init__(self, basedir, metadata: FileMetadata, history: PrintHistory, events=None):
        root = Path(basedir) / "uploads"
        root.mkdir(mode=0o755, exist_ok=True)
        self.root = root.resolve()
        self.metadata = metadata
        self.history = history
        self.events = events
        self._lock = threading.RLock()
        removed = spool.sweep(self.root)
        if removed:
            log.info("removed %d upload(s) left unfinished by a previous run", removed)

    # -- looking things up ---------------------------------------------------------------------
    def locate(self, parts) -> Path:
        """The absolute path of an existing item; NotFound if missing or if any component is a link."""
        current = self.root
        for part in parts:
            current = current / part
            try:
                mode = os.lstat(current).st_mode
            except (FileNotFoundError, NotADirectoryError):
                raise NotFound("File not found") from None
            if stat.S_ISLNK(mode):
                raise NotFound("File not found")
        real = os.path.realpath(current)
        if parts and not real.startswith(str(self.root) + os.sep):
            raise NotFound("File not found")
        return current

    def kind(self, parts) -> str | None:
        """What is at ``parts``: "file", "folder", "other" (a link, a device...) or None."""
        try:
            path = self.locate(parts[:-1]) / parts[-1] if parts else self.root
            mode = os.lstat(path).st_mode
        except (NotFound, FileNotFoundError, NotADirectoryError):
            return None
        if stat.S_ISDIR(mode):
            return "folder"
        return "file" if stat.S_ISREG(mode) else "other"

    def entry(self, parts, depth: int | None = 1) -> dict:
        """The API entry of one file or folder (folders with children ``depth`` levels down)."""
        path = self.locate(parts)
        if path.is_dir():
            found = listing.scan_folder(self, path, tuple(parts), depth)
        else:
            found = listing.file_entry(self, path, tuple(parts))
        if found is None:
            raise NotFound("File not found")
        return found

    def tree(self, depth: int | None = None) -> list:
        return listing.scan_folder(self, self.root, (), depth)["children"]

    def usage(self) -> dict:
        usage = shutil.disk_usage(self.root)
        return {"free": int(usage.free), "total": int(usage.total)}

    def open_file(self, parts):
        """A binary file object on an existing file, opened without following any link (caller closes)."""
        try:
            with self._folder_fd(parts[:-1]) as fd:
                file_fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                                  dir_fd=fd)
        except (OSError, Conflict, Invalid):
            raise NotFound("File not found") from None
        if not stat.S_ISREG(os.fstat(file_fd).st_mode):
            os.close(file_fd)
            raise NotFound("File not found")
        return os.fdopen(file_fd, "rb")

    # -- adding --------------------------------------------------------------------------------
    def new_spool(self) -> spool.UploadSpool:
        return spool.UploadSpool(self.root)

    def add_file(self, folder, name: str, upload: spool.UploadSpool, *, display=None, user=None,
                 userdata=None, folder_displays=None) -> str:
        """Rename a finished spool to ``folder/name`` (replacing a file there); returns its path."""
        path = names.join((*folder, name))
        with self._lock:
            with self._folder_fd(folder, create=True, displays=folder_displays) as fd:
                if self.kind((*folder, name)) not in (None, "file"):
                    raise Conflict(EXISTS)
                upload.commit(fd, name)
            data = {"display": display or name, "hash": upload.sha1}
            if user:
                data["user"] = user
            if userdata is not None:
                data["userdata"] = userdata
            self.metadata.put(path, data)
        self._fire(events.FILE_ADDED, {"storage": ORIGIN, "path": path, "name": name,
                                 "type": names.MACHINECODE_TYPE_PATH, "operation": "add"})
        return path

    def add_folder(self, parts, displays=None) -> bool:
        """Create a folder (and missing parents); False when it was already there."""
        if self.kind(parts) == "folder":
            return False
        with self._lock, self._folder_fd(parts, create=True, displays=displays):
            pass
        return True

    # -- changing ------------------------------------------------------------------------------
    def remove(self, parts) -> None:
        path = self.locate(parts)
        key = names.join(parts)
        with self._lock:
            folder = path.is_dir()
            if folder:
                shutil.rmtree(path)
            else:
                path.unlink()
            self.metadata.remove_tree(key)
            self.history.remove(ORIGIN, key)
        self._fire(events.FOLDER_REMOVED if folder else events.FILE_REMOVED,
                   {"storage": ORIGIN, "path": key, "name": parts[-1]})

    def move(self, source, target) -> None:
        with self._lock:
            src, dst = self._transfer_paths(source, target)
            os.rename(src, dst)
            self.metadata.move_tree(names.join(source), names.join(target))
            self.history.move(ORIGIN, names.join(source), names.join(target))
            self._renamed(source, target)
        self._fire(events.FOLDER_MOVED if dst.is_dir() else events.FILE_MOVED, {
            "storage": ORIGIN, "source_storage": ORIGIN, "source_path": names.join(source), "source_name": source[-1],
            "destination_storage": ORIGIN, "destination_path": names.join(target), "destination_name": target[-1]})

    def copy(self, source, target) -> None:
        with self._lock:
            src, dst = self._transfer_paths(source, target)
            temporary = dst.parent / f".copy-{os.getpid()}-{threading.get_ident()}"
            try:
                if src.is_dir():
                    shutil.copytree(src, temporary, symlinks=True, ignore=_links_and_hidden)
                else:
                    shutil.copyfile(src, temporary, follow_symlinks=False)
                    _fsync_file(temporary)
                os.rename(temporary, dst)
            finally:
                if os.path.lexists(temporary):
                    _delete(temporary)
            self.metadata.copy_tree(names.join(source), names.join(target))
            self._renamed(source, target)
        self._fire(events.FOLDER_ADDED if dst.is_dir() else events.FILE_ADDED,
                   {"storage": ORIGIN, "path": names.join(target), "name": target[-1], "operation": "copy"})

    def _renamed(self, source, target) -> None:
        # A new name makes the old display name wrong; kept when only the folder changes.
        if source[-1] != target[-1]:
            self.metadata.update(names.join(target), {"display": target[-1]})

    def _transfer_paths(self, source, target):
        src = self.locate(source)
        try:
            parent = self.locate(target[:-1])
        except NotFound:
            raise NotFound("Destination folder does not exist") from None
        if not parent.is_dir():
            raise NotFound("Destination folder does not exist")
        dst = parent / target[-1]
        if tuple(target) == tuple(source):
            raise Invalid("Source and destination are the same")
        if tuple(target[:len(source)]) == tuple(source):
            raise Invalid("Cannot move or copy a folder into itself")
        if os.path.lexists(dst):
            raise Conflict(EXISTS)
        return src, dst

    # -- helpers -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _folder_fd(self, parts, create=False, displays=None):
        """An open handle on a folder, reached without following links; optionally created."""
        fd = os.open(self.root, _DIR_FLAGS)
        try:
            for index in range(len(parts)):
                child = self._step(fd, parts, index, create, displays)
                os.close(fd)
                fd = child
            yield fd
        finally:
            os.close(fd)

    def _step(self, fd, parts, index, create, displays):
        part = parts[index]
        try:
            child = os.open(part, _DIR_FLAGS, dir_fd=fd)
        except FileNotFoundError:
            if not create:
                raise NotFound("Folder not found") from None
            os.mkdir(part, 0o755, dir_fd=fd)
            os.fsync(fd)
            child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            path = names.join(parts[:index + 1])
            display = displays[index] if displays and index < len(displays) else part
            self.metadata.put(path, {"display": display})
            self._fire(events.FOLDER_ADDED, {"storage": ORIGIN, "path": path, "name": part})
        except OSError:
            # A link (never followed) or a file where the folder should be.
            where = names.join(parts[:index + 1])
            if stat.S_ISLNK(os.stat(part, dir_fd=fd, follow_symlinks=False).st_mode):
                raise Invalid(f"{where} is a link; links are not followed") from None
            raise Conflict(f"{where} is not a folder") from None
        return child

    def _fire(self, name, payload) -> None:
        if self.events is not None:
            self.events.fire(name, payload)
            self.events.fire(events.UPDATED_FILES, {"type": "printables"})


def _links_and_hidden(_directory, entries):
    return [name for name in entries if name.startswith(".") or os.path.islink(os.path.join(_directory, name))]


def _fsync_file(path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _delete(path) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
