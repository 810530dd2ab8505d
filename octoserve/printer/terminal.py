"""The terminal log: the most recent lines sent to and received from the printer, kept in the daemon.

Two views, as OctoPrint's push API has them: ``logs`` (every line, ``Send: ``/``Recv: ``
prefixed, and notes) and ``messages`` (what the printer said, without its acks). Each entry
carries a sequence number, so the publisher can hand out exactly what is new since the last
update without a lock on the comm thread's path.
"""
import itertools
from collections import deque

SIZE = 1000


def _is_ack(line: str) -> bool:
    return line[:2] == "ok" and (len(line) == 2 or line[2] == " ")


class TerminalLog:
    """Appends cost one counter step and one deque push: formatting waits until someone reads."""

    def __init__(self, size: int = SIZE):
        self._lines = deque(maxlen=size)
        self._messages = deque(maxlen=size)
        self._numbers = itertools.count(1)  # next() is atomic: the reader and the poller both append
        self._message_numbers = itertools.count(1)
        self.count = 0  # the number of the newest line: lines logged since start
        self.message_count = 0

    def sent(self, data: bytes) -> None:
        self.count = number = next(self._numbers)
        self._lines.append((number, "Send", data))

    def received(self, line: str) -> None:
        self.count = number = next(self._numbers)
        self._lines.append((number, "Recv", line))
        if not _is_ack(line):
            self.message_count = number = next(self._message_numbers)
            self._messages.append((number, "", line))

    def note(self, text: str) -> None:
        self.count = number = next(self._numbers)
        self._lines.append((number, "", text))

    def lines(self, limit: int | None = None) -> list:
        return self.lines_between(0, self.count, limit)

    def messages(self, limit: int | None = None) -> list:
        return self.messages_between(0, self.message_count, limit)

    def lines_between(self, after: int, upto: int, limit: int | None = None) -> list:
        """The lines numbered after < n <= upto, formatted; the newest ``limit`` of them."""
        return _between(self._lines, after, upto, limit)

    def messages_between(self, after: int, upto: int, limit: int | None = None) -> list:
        return _between(self._messages, after, upto, limit)


def _between(entries: deque, after: int, upto: int, limit: int | None) -> list:
    chosen = [entry for entry in list(entries) if after < entry[0] <= upto]
    if limit:
        chosen = chosen[-limit:]
    return [_format(direction, text) for _number, direction, text in chosen]


def _format(direction, text) -> str:
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace").rstrip("\n")
    return f"{direction}: {text}" if direction else text
