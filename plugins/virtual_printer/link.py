"""The pseudo-terminal the virtual printer listens on: raw mode, host presence, wakeups."""
import ctypes
import errno
import os
import select
import struct
import threading
import tty

READ_SIZE = 65536
# Without inotify a vanished host is looked for this often: a master fd stays readable (EIO)
# while no one holds the slave open, so it cannot simply be selected on.
PRESENCE_POLL = 0.01
IN_OPEN = 0x20
_EVENT = struct.Struct("iIII")


class OpenWatch:
    """inotify IN_OPEN on the slave device: tells a host opening the port, however quickly it
    closed and reopened it (polling for EIO can miss a fast reopen)."""

    def __init__(self, path: str):
        libc = ctypes.CDLL(None, use_errno=True)
        self.fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        if libc.inotify_add_watch(self.fd, os.fsencode(path), IN_OPEN) < 0:
            os.close(self.fd)
            raise OSError(ctypes.get_errno(), "inotify_add_watch failed")

    def opened(self) -> bool:
        try:
            data = os.read(self.fd, 4096)
        except BlockingIOError:
            return False
        offset, seen = 0, False
        while offset + _EVENT.size <= len(data):
            _, mask, _, name_length = _EVENT.unpack_from(data, offset)
            seen = seen or bool(mask & IN_OPEN)
            offset += _EVENT.size + name_length
        return seen

    def close(self):
        os.close(self.fd)


class PtyLink:
    """Master side of a pty; the host opens `slave_path` like any serial device.

    The slave is not held open here: Linux then reports EIO on the master while no host has it
    open, which is how a host closing the port is noticed.
    """

    def __init__(self):
        self.master, slave = os.openpty()
        try:
            # No echo and no CR/LF translation: the host must see exactly the firmware's bytes.
            tty.setraw(slave)
            self.slave_path = os.ttyname(slave)
        finally:
            os.close(slave)
        os.set_blocking(self.master, False)
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        try:
            self._watch = OpenWatch(self.slave_path)
        except (OSError, AttributeError):
            self._watch = None
        self.host_present = False
        self.closed = False
        self._lock = threading.Lock()

    def wake(self):
        """Interrupt a wait() from another thread."""
        with self._lock:
            if self._wake_w < 0:
                return
            try:
                os.write(self._wake_w, b"x")
            except BlockingIOError:
                pass  # a wakeup is pending already

    def wait(self, timeout: float, want_write: bool = False):
        """Block until input, writability, a wakeup or the timeout; returns (data, opened).

        `data` is what the host sent (b"" if nothing); `opened` is True when a host has just opened
        the port; a host closing it shows in `host_present`.
        """
        if self.closed:
            return b"", False
        readers = [self._wake_r]
        if self._watch is not None:
            readers.append(self._watch.fd)
        elif not self.host_present:
            timeout = min(timeout, PRESENCE_POLL)
        if self.host_present:
            readers.append(self.master)
        writers = [self.master] if want_write and self.host_present else []
        readable, _, _ = select.select(readers, writers, [], max(timeout, 0.0))
        if self._wake_r in readable:
            self._drain_wake()
        opened = False
        if self._watch is not None and self._watch.fd in readable and self._watch.opened():
            opened = self.host_present = True
        elif self._watch is None and not self.host_present:
            opened = self._probe_presence()
        data = self._read() if self.master in readable else b""
        return data, opened

    def _probe_presence(self) -> bool:
        ready, _, _ = select.select([self.master], [], [], 0)
        if ready:
            try:
                os.read(self.master, READ_SIZE)
            except OSError:
                return False
        self.host_present = True
        return True

    def _read(self) -> bytes:
        try:
            return os.read(self.master, READ_SIZE)
        except BlockingIOError:
            return b""
        except OSError as error:
            if error.errno != errno.EIO:
                raise
            self.host_present = False
            return b""

    def write(self, data: bytes) -> int:
        """Write what the pty takes now; returns the count. Output to an absent host is dropped."""
        if self.closed or not self.host_present:
            return len(data)
        try:
            return os.write(self.master, data)
        except BlockingIOError:
            return 0
        except OSError as error:
            if error.errno != errno.EIO:
                raise
            self.host_present = False
            return len(data)

    def _drain_wake(self):
        try:
            while os.read(self._wake_r, 4096):
                pass
        except BlockingIOError:
            pass

    def close_master(self):
        """Hang up the line: the host's reads and writes fail from now on (a USB unplug)."""
        if not self.closed:
            self.closed = True
            self.host_present = False
            os.close(self.master)
            if self._watch is not None:
                self._watch.close()
                self._watch = None

    def close(self):
        self.close_master()
        with self._lock:
            fds, (self._wake_r, self._wake_w) = (self._wake_r, self._wake_w), (-1, -1)
        for fd in fds:
            if fd >= 0:
                os.close(fd)
