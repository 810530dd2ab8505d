"""The terminal log: the most recent lines sent to and received from the printer, kept in the daemon."""
import threading
from collections import deque

SIZE = 1000


class TerminalLog:
    """Appends cost one deque push: at ten thousand lines a second, formatting waits until someone reads."""

    def __init__(self, size: int = SIZE):
        self._lines = deque(maxlen=size)
        self._lock = threading.Lock()
        self._count = 0

    def sent(self, data: bytes) -> None:
        self._lines.append(("Send", data))
        self._count += 1

    def received(self, line: str) -> None:
        self._lines.append(("Recv", line))
        self._count += 1

    def note(self, text: str) -> None:
        self._lines.append(("", text))
        self._count += 1

    def lines(self, limit: int | None = None) -> list:
        with self._lock:
            items = list(self._lines)
        if limit:
            items = items[-limit:]
        return [self._format(direction, text) for direction, text in items]

    @property
    def count(self) -> int:
        """Lines logged since start; lets readers fetch only what is new."""
        return self._count

    @staticmethod
    def _format(direction, text) -> str:
        if isinstance(text, bytes):
            text = text.decode("ascii", "replace").rstrip("\n")
        return f"{direction}: {text}" if direction else text
