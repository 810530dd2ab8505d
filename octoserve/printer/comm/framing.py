"""Bytes to lines and lines to bytes: `N<n> <cmd>*<xor>` encoding, comment stripping, line splitting."""
import re

# A backslash escapes the next character (so `\;` is not a comment start and `\\;` is); only `\;` is
# unescaped afterwards, other backslashes (Windows paths in M117 text) are left as they are.
_ESCAPE_OR_SEMICOLON = re.compile(r"\\.|;")

# Longest "line" kept without a newline; the firmware's own limit is 96 bytes (MAX_CMD_SIZE), so
# anything near this is garbage (wrong baud rate) and must not grow memory without bound.
MAX_LINE_BYTES = 4096


def checksum(data: bytes) -> int:
    """XOR of every byte, as firmwares check the text before `*`."""
    # A plain loop measured faster than functools.reduce or int folding for lines of <100 bytes.
    value = 0
    for byte in data:
        value ^= byte
    return value


def encode_numbered(number: int, command: str) -> bytes:
    """`N<number> <command>*<checksum>\\n`, the checksum over exactly the bytes before `*`."""
    head = f"N{number} {command}".encode("ascii", "replace")
    return b"%s*%d\n" % (head, checksum(head))


def encode_plain(command: str) -> bytes:
    """`<command>\\n`; non-ASCII characters become `?` since firmwares only parse ASCII."""
    return command.encode("ascii", "replace") + b"\n"


def strip_comment(line: str) -> str:
    """The line without its `;` comment and surrounding whitespace; `\\;` stays as a literal `;`."""
    if ";" not in line:
        return line.strip()
    if "\\" not in line:
        return line[: line.index(";")].strip()
    for match in _ESCAPE_OR_SEMICOLON.finditer(line):
        if match.group() == ";":
            line = line[: match.start()]
            break
    return line.replace("\\;", ";").strip()


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8").rstrip()
    except UnicodeDecodeError:
        # Firmwares send latin-1 in LCD strings and garbage at a wrong baud rate; latin-1 never fails.
        return raw.decode("latin-1").rstrip()


class LineSplitter:
    """Turns the byte chunks a serial port hands out into complete, decoded, right-stripped lines.

    `\\n`, `\\r\\n` and a lone `\\r` all end a line; NUL bytes (line noise, some boards after a
    reset) are dropped; blank lines are dropped, since no firmware reply is empty, which also keeps
    a `\\r\\n` split across two reads from yielding a phantom line. A run of more than `max_line`
    bytes without a line end is cut into `max_line`-byte lines, cut at the same places however the
    bytes were chunked, so memory stays bounded whatever the port delivers.
    """

    __slots__ = ("_pending", "_max_line")

    def __init__(self, max_line: int = MAX_LINE_BYTES):
        if max_line < 1:
            raise ValueError("max_line must be positive")
        self._pending = b""
        self._max_line = max_line

    @property
    def pending(self) -> bytes:
        """Bytes received after the last line end, kept for the next `feed`."""
        return self._pending

    def reset(self) -> None:
        """Forget a partial line (after a reconnect or a baud rate change)."""
        self._pending = b""

    def feed(self, data: bytes) -> list[str]:
        """The lines completed by `data`, in order; a trailing partial line waits for the next feed."""
        if b"\0" in data:
            data = data.replace(b"\0", b"")
        if not data:
            return []
        buffer = self._pending + data if self._pending else data
        if b"\r" in buffer:
            # `\r\n` becomes two line ends with a blank line between, and blank lines are dropped.
            buffer = buffer.replace(b"\r", b"\n")
        head, newline, tail = buffer.rpartition(b"\n")
        limit = self._max_line
        if len(tail) >= limit:
            cut = len(tail) - len(tail) % limit
            head = head + newline + tail[:cut]
            newline, tail = b"\n", tail[cut:]
        self._pending = tail
        if not newline:
            return []
        return self._lines(head, limit)

    @staticmethod
    def _lines(head: bytes, limit: int) -> list[str]:
        if len(head) <= limit:
            # The usual read: a few short, valid lines; decode them in one go.
            try:
                text = head.decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                return [kept for line in text.split("\n") if (kept := line.rstrip())]
        lines = []
        for raw in head.split(b"\n"):
            if len(raw) > limit:
                pieces = [raw[i : i + limit] for i in range(0, len(raw), limit)]
            else:
                pieces = (raw,)
            for piece in pieces:
                text = _decode(piece)
                if text:
                    lines.append(text)
        return lines
