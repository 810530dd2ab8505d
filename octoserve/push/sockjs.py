"""SockJS's HTTP transports: xhr-streaming and xhr-polling, with xhr_send for what the client says.

For clients (sockjs-client) behind proxies that refuse WebSocket. The session outlives each
request: a receiving request attaches to it, takes frames and detaches; a session without a
receiver for ``DISCONNECT_DELAY`` seconds is closed, as SockJS servers do.
"""
import threading
import time

from octoserve.push.session import PushSession
from octoserve.push.transports import GO_AWAY, HEARTBEAT, Heartbeat, receive_sockjs, sockjs_frame

DISCONNECT_DELAY = 5.0
STREAM_LIMIT = 128 * 1024  # bytes an xhr-streaming response carries before the client opens a new one
PRELUDE = "h" * 2048 + "\n"  # lets browsers start delivering a streamed response at once
ANOTHER = 'c[2010,"Another connection still open"]\n'
MAX_BODY = 64 * 1024


class XhrSession:
    """A SockJS session on HTTP requests: at most one receiving request attached at a time."""

    def __init__(self, session: PushSession):
        self.session = session
        self.opened = False
        self.receiving = False
        self.detached_at = time.monotonic()
        self._lock = threading.Lock()

    def attach(self) -> bool:
        with self._lock:
            if self.receiving:
                return False
            self.receiving = True
            return True

    def detach(self) -> None:
        with self._lock:
            self.receiving = False
            self.detached_at = time.monotonic()

    def expired(self, now: float) -> bool:
        return self.session.closed or (not self.receiving and now - self.detached_at > DISCONNECT_DELAY)


class XhrSessions:
    """The registry of live SockJS HTTP sessions, swept of expired ones on every request."""

    def __init__(self, hub):
        self.hub = hub
        self._sessions = {}
        self._lock = threading.Lock()

    def get(self, session_id: str, remote_address: str, create: bool):
        self.sweep()
        with self._lock:
            found = self._sessions.get(session_id)
            if found is None and create:
                found = self._sessions[session_id] = XhrSession(PushSession(self.hub, remote_address))
        return found

    def sweep(self) -> None:
        now = time.monotonic()
        with self._lock:
            expired = [key for key, value in self._sessions.items() if value.expired(now)]
            gone = [self._sessions.pop(key) for key in expired]
        for xhr in gone:
            xhr.session.close()

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)


def _opening(xhr: XhrSession) -> str | None:
    if xhr.opened:
        return None
    xhr.opened = True
    xhr.session.open()
    return "o\n"


def polling(xhr: XhrSession) -> bytes:
    """One xhr-polling request: ``o`` the first time, else the messages due (or ``h`` after a heartbeat's wait)."""
    if not xhr.attach():
        return ANOTHER.encode()
    try:
        opening = _opening(xhr)
        if opening:
            return opening.encode()
        texts = xhr.session.next_messages(HEARTBEAT)
        if xhr.session.closed:
            return (GO_AWAY + "\n").encode()
        return (sockjs_frame(texts) + "\n" if texts else "h\n").encode()
    finally:
        xhr.detach()


def streaming(xhr: XhrSession):
    """One xhr-streaming response: the prelude, then frames as they come, until ``STREAM_LIMIT`` bytes."""
    if not xhr.attach():
        yield ANOTHER.encode()
        return
    try:
        yield PRELUDE.encode()
        opening = _opening(xhr)
        if opening:
            yield opening.encode()
        sent, heartbeat = 0, Heartbeat()
        while sent < STREAM_LIMIT and not xhr.session.closed:
            texts = xhr.session.next_messages(heartbeat.remaining())
            if xhr.session.closed:
                yield (GO_AWAY + "\n").encode()
                return
            frame = (sockjs_frame(texts) + "\n" if texts else "") + ("h\n" if heartbeat.due() else "")
            if frame:
                sent += len(frame)
                yield frame.encode()
    finally:
        xhr.detach()


def send(xhr: XhrSession, body: bytes) -> None:
    receive_sockjs(xhr.session, body.decode("utf-8", "replace"))
