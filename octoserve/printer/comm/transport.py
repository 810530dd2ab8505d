"""The serial port: opening by device path or URL, reads, locked writes, close, port discovery."""
import glob
import os
import re
import select
import threading

import serial

from octoserve.errors import NotOperational

DEFAULT_PORT_GLOBS = ("/dev/ttyUSB*", "/dev/ttyACM*", "/dev/ttyAMA*", "/dev/serial/by-id/*")
BAUDRATES = (250000, 230400, 115200, 57600, 38400, 19200, 9600)


def _natural_key(text: str):
    return [int(part) if part.isdecimal() else part for part in re.split(r"(\d+)", text)]


def discover_ports(additional_globs=()) -> list:
    """Serial devices present now, natural-sorted: USB, ACM, Pi UART, by-id links, plus configured globs."""
    found = set()
    for pattern in (*DEFAULT_PORT_GLOBS, *additional_globs):
        found.update(path for path in glob.glob(pattern) if os.path.exists(path))
    return sorted(found, key=_natural_key)


class Transport:
    """One open serial port. Reads happen on one thread; writes may come from several, so they are locked."""

    def __init__(self, port: str, baudrate: int, *, read_timeout: float = 0.1, write_timeout: float = 10.0):
        self.port = port
        self.baudrate = baudrate
        self._write_lock = threading.Lock()
        try:
            if "://" in port:
                self._serial = serial.serial_for_url(
                    port, baudrate=baudrate, timeout=read_timeout, write_timeout=write_timeout)
            else:
                self._serial = serial.Serial(
                    port, baudrate=baudrate, timeout=read_timeout, write_timeout=write_timeout, exclusive=True)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise NotOperational(f"Could not open serial port {port}: {exc}") from None
        fileno = getattr(self._serial, "fileno", None)
        try:
            self._fd = fileno() if fileno and isinstance(self._serial, serial.Serial) else None
        except (serial.SerialException, OSError, AttributeError):
            self._fd = None

    def read(self, timeout: float | None = None) -> bytes:
        """Whatever has arrived, waiting at most the read timeout (or `timeout`) for the first byte; b"" on timeout.

        Raises OSError or serial.SerialException when the port is gone (USB unplugged).
        """
        if self._fd is None:
            handle = self._serial
            return handle.read(handle.in_waiting or 1)
        # One select and one read per wake-up: pyserial's read(n) loops until n bytes or the
        # timeout, which costs a round of system calls per reply at thousands of replies a second.
        ready, _, _ = select.select((self._fd,), (), (), self._serial.timeout if timeout is None else timeout)
        if not ready:
            return b""
        data = os.read(self._fd, 65536)
        if not data:
            raise OSError("the serial port was closed by the other side")
        return data

    def write(self, data: bytes) -> None:
        """Write all of it; OSError when the port is closed or gone."""
        with self._write_lock:
            if not self._serial.is_open:
                raise OSError("the serial port is closed")
            if self._fd is not None:
                # One system call in the common case; pyserial's write adds a select per call.
                try:
                    written = os.write(self._fd, data)
                except BlockingIOError:
                    written = 0
                if written == len(data):
                    return
                data = data[written:]  # the port's buffer is full: let pyserial wait for room
            try:
                self._serial.write(data)
            except (serial.SerialException, TypeError) as exc:  # TypeError: closed under our feet
                raise OSError(str(exc)) from None

    def set_read_timeout(self, seconds: float) -> None:
        self._serial.timeout = seconds

    def close(self) -> None:
        try:
            self._serial.close()
        except (serial.SerialException, OSError):
            pass  # already gone: closing is all we wanted
