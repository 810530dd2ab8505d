"""What the commands the host sends say about the printer: the Z height, the tool, and OctoPrint's
G-code events (ZChange, ToolChange, Home, Dwelling, Waiting, ...), fired as each line is sent.

Runs on the comm thread for every line sent, so the common case (a move without Z) is decided
by a few byte searches before anything is decoded.
"""
import re

from octoserve import events

_INTERESTING = (b"Z", b"M", b"T", b"G28", b"G4")
_NUMBER_PREFIX = re.compile(r"^N-?\d+\s*")
_Z = re.compile(r"[Zz]\s*(-?\d+(?:\.\d*)?|-?\.\d+)")
_TOOL = re.compile(r"^T(\d+)")


def command_of(data: bytes) -> str:
    """The command in a sent line: no line number, no checksum, no newline."""
    text = data.decode("ascii", "replace").strip()
    star = text.rfind("*")
    if star > 0:
        text = text[:star]
    return _NUMBER_PREFIX.sub("", text).strip()


class SentCommands:
    """Follows the sent commands; ``fire(name, payload)`` is the daemon's (non-blocking) event call."""

    def __init__(self, fire):
        self.fire = fire
        self.current_z = None
        self.tool = 0

    def reset(self) -> None:
        self.current_z = None
        self.tool = 0

    def sent(self, data: bytes) -> None:
        if not any(marker in data for marker in _INTERESTING):
            return
        command = command_of(data)
        code = command.split(" ", 1)[0].upper()
        if code in ("G0", "G1"):
            self._move(command)
        elif code[:1] == "T":
            self._tool(code)
        elif code in events.GCODE_EVENTS:
            self.fire(events.GCODE_EVENTS[code], None)

    def _move(self, command: str) -> None:
        match = _Z.search(command, 2)
        if not match:
            return
        try:
            z = float(match.group(1))
        except ValueError:
            return
        if z != self.current_z:
            old, self.current_z = self.current_z, z
            self.fire(events.Z_CHANGE, {"new": z, "old": old})

    def _tool(self, code: str) -> None:
        match = _TOOL.match(code)
        if match:
            old, self.tool = self.tool, int(match.group(1))
            self.fire(events.TOOL_CHANGE, {"old": old, "new": self.tool})
