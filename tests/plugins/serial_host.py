"""A minimal host for tests: real pyserial on the pty, numbered lines, reading until a marker."""
import time

import serial

BANNER_END = (b"echo:SD card ok", b"echo:No SD card")


def checksum(data: bytes) -> int:
    result = 0
    for byte in data:
        result ^= byte
    return result


def numbered(n: int, command: str) -> bytes:
    body = f"N{n} {command}".encode()
    return body + b"*" + str(checksum(body)).encode()


class Host:
    """The host side of the wire, as a comm layer would hold it."""

    def __init__(self, path: str, timeout: float = 2.0):
        self.port = serial.Serial(path, 250000, timeout=timeout)

    @classmethod
    def connect(cls, printer, timeout: float = 2.0, banner: bool = True) -> "Host":
        host = cls(printer.slave_path, timeout)
        if banner:
            host.read_until(lambda line: line.rstrip() in BANNER_END)
        return host

    def close(self):
        self.port.close()

    def write(self, data: bytes):
        self.port.write(data if data.endswith(b"\n") else data + b"\n")

    def send(self, command: str, n: int = None):
        self.write(numbered(n, command) if n is not None else command.encode())

    def readline(self) -> bytes:
        return self.port.readline()

    def read_until(self, done, deadline: float = 5.0) -> list:
        """Lines (bytes, EOL stripped) up to and including the first for which done(line)."""
        lines, end = [], time.monotonic() + deadline
        while time.monotonic() < end:
            raw = self.port.readline()
            if not raw:
                continue
            line = raw.rstrip(b"\r\n")
            lines.append(line)
            if done(line):
                return lines
        raise AssertionError(f"no matching line within {deadline} s; got {lines!r}")

    def until_ok(self, deadline: float = 5.0) -> list:
        return self.read_until(lambda line: line == b"ok" or line.startswith(b"ok "), deadline)

    def ask(self, command: str, n: int = None, deadline: float = 5.0) -> list:
        """Send one command and return every line up to its ok, as text."""
        self.send(command, n)
        return [line.decode("latin-1") for line in self.until_ok(deadline)]

    def quiet_for(self, seconds: float) -> bytes:
        """Everything that arrives in `seconds` (b"" when the printer keeps silent)."""
        end, data, timeout = time.monotonic() + seconds, b"", self.port.timeout
        self.port.timeout = 0.02
        try:
            while time.monotonic() < end:
                data += self.port.read(self.port.in_waiting or 1)
        finally:
            self.port.timeout = timeout
        return data
