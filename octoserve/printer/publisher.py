"""The daemon's publisher: snapshots, deltas and events to subscribers, never on the comm thread.

Whoever fires an event or marks a change (often the comm reader, holding the connection
lock) only appends to a deque and sets a flag. The publisher thread turns that into
messages, and each subscriber has a writer thread of its own draining a bounded queue, with
a send timeout. A subscriber that stops reading is dropped once its queue passes
``MAX_QUEUED_BYTES`` or a send takes longer than ``SEND_TIMEOUT``; the web process's
PrinterClient then reconnects and starts again from a full picture.

Messages (JSON lines, see printer/protocol.py): ``{"event": {"type", "payload"}}`` as fired,
and ``{"update": {"snapshot", "temps", "logs", "messages"}}`` at most every
``SNAPSHOT_INTERVAL`` when something changed, where ``temps``, ``logs`` and ``messages`` hold
what was recorded since the previous update (the first update a subscriber gets holds the
backlog instead: every temperature point within the cutoff and the last ``BACKLOG_LINES``).
"""
import collections
import logging
import socket
import threading
import time

from octoserve.printer import protocol

log = logging.getLogger(__name__)

SNAPSHOT_INTERVAL = 0.1  # at most ten updates a second; the push API throttles further
IDLE_CHECK = 0.25  # how often new terminal lines are looked for when nothing else wakes the publisher
BACKLOG_LINES = 300  # terminal lines and messages a new subscriber gets (OctoPrint's history holds 300)
BATCH_LINES = 300  # at most this many new lines per update; a terminal shows no more than that anyway
MAX_QUEUED_BYTES = 8 * 1024 * 1024
SEND_TIMEOUT = 5.0


class Subscriber:
    """One subscribed connection: a bounded queue of encoded messages and a thread writing them."""

    def __init__(self, sock, on_drop):
        self.sock = sock
        self._on_drop = on_drop
        self._queue = collections.deque()
        self._queued = 0
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self.alive = True
        self.needs_backlog = True
        self._thread = threading.Thread(target=self._run, name="subscriber-writer", daemon=True)

    def start(self) -> "Subscriber":
        self.sock.settimeout(SEND_TIMEOUT)
        self._thread.start()
        return self

    def offer(self, data: bytes) -> None:
        """Queue one message; never blocks. A subscriber too far behind is dropped instead."""
        with self._lock:
            if not self.alive:
                return
            if self._queued + len(data) > MAX_QUEUED_BYTES:
                overflow = True
            else:
                overflow = False
                self._queue.append(data)
                self._queued += len(data)
        if overflow:
            self.drop(f"more than {MAX_QUEUED_BYTES} bytes waiting")
        else:
            self._ready.set()

    def drop(self, reason: str, level: int = logging.WARNING) -> None:
        with self._lock:
            if not self.alive:
                return
            self.alive = False
            self._queue.clear()
        log.log(level, "dropping a printer subscriber: %s", reason)
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._ready.set()
        self._on_drop(self)

    def _run(self) -> None:
        while self.alive:
            self._ready.wait()
            with self._lock:
                batch, self._queued = b"".join(self._queue), 0
                self._queue.clear()
                self._ready.clear()
            if not batch:
                continue
            try:
                self._write(batch)
            except TimeoutError:
                self.drop(f"it read nothing for {SEND_TIMEOUT} s")
            except OSError as exc:
                self.drop(f"its socket failed ({exc})")

    def _write(self, data: bytes) -> None:
        self.sock.sendall(data)


class Publisher:
    """Turns changes and events into messages for every subscriber, on a thread of its own."""

    def __init__(self, service):
        self.service = service
        self._outbox = collections.deque()  # ("event", name, payload) or ("join", subscriber)
        self._wake = threading.Event()
        self._dirty = False
        self._stopping = threading.Event()
        self._subscribers = []
        self._lock = threading.Lock()
        self._last = None  # the last snapshot published, and the counts the deltas start after
        self._counts = (0, 0, 0)
        self._thread = threading.Thread(target=self._run, name="publisher", daemon=True)

    def start(self) -> None:
        self._counts = self._current_counts()
        self._thread.start()

    def stop(self) -> None:
        """Stop publishing and hang up on every subscriber, so clients notice at once."""
        self._stopping.set()
        self._wake.set()
        with self._lock:
            subscribers, self._subscribers = self._subscribers, []
        for subscriber in subscribers:
            subscriber.drop("the daemon stops")

    # -- called from any thread, the comm threads included: never blocks ---------------------
    def changed(self) -> None:
        self._dirty = True
        self._wake.set()

    def event(self, name: str, payload=None) -> None:
        self._outbox.append(("event", name, payload))
        self._dirty = True
        self._wake.set()

    def add(self, sock) -> Subscriber:
        subscriber = Subscriber(sock, self._remove).start()
        self._outbox.append(("join", subscriber))
        self._wake.set()
        return subscriber

    @property
    def subscribers(self) -> list:
        with self._lock:
            return list(self._subscribers)

    # -- the publisher thread ---------------------------------------------------------------
    def _remove(self, subscriber) -> None:
        with self._lock:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

    def _run(self) -> None:
        next_update = 0.0
        while not self._stopping.is_set():
            wait = IDLE_CHECK if not self._dirty else max(0.0, next_update - time.monotonic())
            self._wake.wait(wait)
            self._wake.clear()
            if self._stopping.is_set():
                return
            try:
                self._drain_outbox()
                if time.monotonic() >= next_update and (self._dirty or self._current_counts() != self._counts):
                    self._dirty = False
                    self._publish_update()
                    next_update = time.monotonic() + SNAPSHOT_INTERVAL
            except Exception:  # the publisher must outlive any one bad message
                log.exception("publishing failed")

    def _drain_outbox(self) -> None:
        outbox = self._outbox
        while outbox:
            item = outbox.popleft()
            if item[0] == "event":
                self._broadcast(protocol.encode({"event": {"type": item[1], "payload": item[2]}}))
            else:
                self._join(item[1])

    def _join(self, subscriber) -> None:
        """A new subscriber: the current picture with the backlog, then whatever follows.

        Pending news goes out to the others first, so the backlog ends exactly where the next
        update's deltas begin.
        """
        self._publish_update()
        service, (temps, logs, messages) = self.service, self._counts
        message = {"update": {"snapshot": self._last.to_wire(),
                              "temps": service.temperatures.history_between(0, temps),
                              "logs": service.terminal.lines_between(0, logs, BACKLOG_LINES),
                              "messages": service.terminal.messages_between(0, messages, BACKLOG_LINES),
                              "backlog": True}}
        subscriber.offer(protocol.encode(message))
        with self._lock:
            if subscriber.alive:
                self._subscribers.append(subscriber)

    def _publish_update(self) -> None:
        service = self.service
        snapshot = service.snapshot()
        (temps_seen, logs_seen, messages_seen), counts = self._counts, self._current_counts()
        temps = service.temperatures.history_between(temps_seen, counts[0])
        logs = service.terminal.lines_between(logs_seen, counts[1], BATCH_LINES)
        messages = service.terminal.messages_between(messages_seen, counts[2], BATCH_LINES)
        self._counts = counts
        same = self._last is not None and snapshot.with_changes(seq=self._last.seq) == self._last
        if same and not (temps or logs or messages):
            return
        if self._last is None or not same:
            self._last = snapshot
        if not self.subscribers:
            return
        self._broadcast(protocol.encode({"update": {"snapshot": self._last.to_wire(), "temps": temps,
                                                    "logs": logs, "messages": messages}}))

    def _current_counts(self) -> tuple:
        service = self.service
        return service.temperatures.count, service.terminal.count, service.terminal.message_count

    def _broadcast(self, data: bytes) -> None:
        for subscriber in self.subscribers:
            subscriber.offer(data)
