"""The buffers between the pty and the firmware: RX (limit, drain, emergency scan) and delayed TX."""
import collections
import re

# A host that keeps the port open but never reads would otherwise grow this without end.
MAX_UNSENT = 1 << 20

# Marlin's emergency parser looks at each line as it arrives, before the command queue sees it;
# the optional N<n> prefix is skipped the same way.
_EMERGENCY = re.compile(rb"^\s*(?:N-?\d+\s*)?(M108|M112|M410)(?![0-9])")
_EMERGENCY_HINTS = (b"M108", b"M112", b"M410")


class Inbox:
    """Received bytes cut into lines, with Marlin's RX ring semantics.

    `limit` models RX_BUFFER_SIZE: bytes arriving while more than that is still unprocessed are
    dropped like a UART overrun, which later shows up as a checksum or line-number error.
    """

    def __init__(self, limit=None):
        self.limit = limit
        self.lines = []
        self.pos = 0
        self.partial = b""
        self.pending_bytes = 0
        self.dropped = 0

    def feed(self, data: bytes, scan: bool = False) -> list:
        """Buffer `data`; returns the emergency codes (b"M112", ...) in the lines it completed."""
        if self.limit is not None:
            room = max(0, self.limit - self.pending_bytes)
            if len(data) > room:
                self.dropped += len(data) - room
                data = data[:room]
            self.pending_bytes += len(data)
        if not data:
            return []
        buffer = self.partial + data if self.partial else data
        if b"\r" in buffer:
            buffer = buffer.replace(b"\r", b"\n")
        parts = buffer.split(b"\n")
        self.partial = parts.pop()
        if not parts:
            return []
        if self.pos:
            del self.lines[:self.pos]
            self.pos = 0
        self.lines.extend(parts)
        if scan and any(hint in buffer for hint in _EMERGENCY_HINTS):
            return [m.group(1) for m in map(_EMERGENCY.match, parts) if m]
        return []

    def pop(self):
        """The next complete line (without its EOL), or None."""
        if self.pos < len(self.lines):
            line = self.lines[self.pos]
            self.pos += 1
            if self.limit is not None:
                self.pending_bytes -= len(line) + 1
            return line
        if self.pos:
            self.lines.clear()
            self.pos = 0
        return None

    def waiting(self) -> int:
        return len(self.lines) - self.pos

    def drain(self):
        """Throw away everything received but not processed (Marlin flushes RX on a line error)."""
        self.lines.clear()
        self.pos = 0
        self.partial = b""
        self.pending_bytes = 0


class Outbox:
    """Lines for the host: collected while commands run, written in one go, optionally delayed."""

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.muted = False
        self.batch = []
        self.queue = collections.deque()
        self.unsent = b""

    def emit(self, text: str):
        if not self.muted:
            self.batch.append(text.encode("utf-8", "replace") + b"\n")

    def emit_bytes(self, data: bytes):
        if not self.muted:
            self.batch.append(data)

    def schedule(self, data: bytes, due: float):
        self.queue.append((due, data))

    def clear(self):
        self.batch.clear()
        self.queue.clear()
        self.unsent = b""

    def flush(self, now: float, link) -> float:
        """Write what is due; returns when the next delayed chunk falls due (inf if none)."""
        if self.batch:
            data = b"".join(self.batch)
            self.batch.clear()
            if self.delay > 0 or self.queue:
                due = now + self.delay
                if self.queue and self.queue[-1][0] > due:
                    due = self.queue[-1][0]
                self.queue.append((due, data))
            else:
                self.unsent += data
        queue = self.queue
        while queue and queue[0][0] <= now:
            self.unsent += queue.popleft()[1]
        if self.unsent:
            written = link.write(self.unsent)
            self.unsent = self.unsent[written:][-MAX_UNSENT:]
        return queue[0][0] if queue else float("inf")
