"""PrinterClient: the web process's handle on the printer daemon (requests, and the latest snapshot)."""
import logging
import socket
import threading

from octoserve import events
from octoserve.errors import NotOperational
from octoserve.printer import protocol
from octoserve.printer.snapshot import DAEMON_DOWN, Snapshot

log = logging.getLogger(__name__)


class _Channel:
    """One socket to the daemon, used by one thread at a time."""

    def __init__(self, path, timeout):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self.reader = self.sock.makefile("rb")
        self.next_id = 0

    def call(self, method, params):
        self.next_id += 1
        self.sock.sendall(protocol.encode({"id": self.next_id, "method": method, "params": params}))
        line = self.reader.readline(protocol.MAX_LINE)
        if not line:
            raise ConnectionError("the printer daemon closed the connection")
        return protocol.decode(line)

    def close(self):
        try:
            self.reader.close()
            self.sock.close()
        except OSError:
            pass


class PrinterClient:
    """Request/response calls to the daemon, plus one subscription thread keeping the latest snapshot.

    ``GET /api/printer`` reads ``snapshot`` from memory: no round trip to the daemon. Each
    request thread keeps its own socket, so a slow call never blocks another thread's.
    Events are fired on ``events`` (the web process's bus); every update (a snapshot with the
    temperature points, terminal lines and messages recorded since the last one) goes to the
    callables in ``update_listeners``, called on the subscription thread: they must not block.
    """

    def __init__(self, basedir, events=None, *, timeout: float = 15.0, retry_interval: float = 0.2,
                 max_retry_interval: float = 2.0):
        self.path = protocol.socket_path(basedir)
        self.events = events
        self.timeout = timeout
        self.retry_interval = retry_interval
        self.max_retry_interval = max_retry_interval
        self._local = threading.local()
        self._snapshot = Snapshot.unavailable()
        self._snapshot_lock = threading.Lock()
        self.update_listeners = []
        self._stopping = threading.Event()
        self._thread = None
        self._connected = threading.Event()
        self._wakeup = threading.Event()

    # -- requests -------------------------------------------------------------------------
    def call(self, method: str, **params):
        """Run one request in the daemon and return its result, re-raising its domain errors."""
        for attempt in (1, 2):
            channel = self._channel()
            try:
                reply = channel.call(method, params)
                break
            except (OSError, ConnectionError, ValueError) as exc:
                channel.close()
                self._local.channel = None
                if attempt == 2 or isinstance(exc, TimeoutError):
                    raise NotOperational(f"{DAEMON_DOWN} ({exc})") from None
        if "snapshot" in reply:
            self._take(Snapshot.from_wire(reply["snapshot"]))
        if "error" in reply:
            protocol.raise_error(reply["error"])
        if method == "snapshot":
            return Snapshot.from_wire(reply["result"])
        return reply.get("result")

    def _take(self, snapshot: Snapshot) -> None:
        """Keep the newest picture, whichever way it came (a reply or the subscription)."""
        with self._snapshot_lock:
            if snapshot.seq >= self._snapshot.seq or not self._snapshot.available:
                self._snapshot = snapshot

    def _channel(self) -> _Channel:
        channel = getattr(self._local, "channel", None)
        if channel is None:
            try:
                channel = _Channel(self.path, self.timeout)
            except OSError as exc:
                raise NotOperational(f"{DAEMON_DOWN} ({exc.strerror or exc})") from None
            self._local.channel = channel
        return channel

    # -- the subscription -----------------------------------------------------------------
    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    def start(self) -> "PrinterClient":
        self._thread = threading.Thread(target=self._follow, name="printer-subscription", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._wakeup.set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def _follow(self) -> None:
        delay = self.retry_interval
        while not self._stopping.is_set():
            try:
                self._read_subscription()
                delay = self.retry_interval  # it was up: retry quickly once it is back
            except (OSError, ValueError) as exc:
                log.debug("printer subscription lost: %s", exc)
            self._connected.clear()
            if not self._stopping.is_set():
                if self._snapshot.available:
                    self._snapshot = lost = Snapshot.unavailable()
                    self._fire(events.PRINTER_STATE_CHANGED, {"state_id": "ERROR", "state_string": "Error"})
                    self._tell(lost, {})
                self._wakeup.wait(delay)
                delay = min(delay * 2, self.max_retry_interval)

    def _read_subscription(self) -> None:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(str(self.path))
            sock.sendall(protocol.encode({"id": 0, "method": "subscribe", "params": {}}))
            reader = sock.makefile("rb")
            while not self._stopping.is_set():
                line = reader.readline(protocol.MAX_LINE)
                if not line:
                    return
                message = protocol.decode(line)
                if "update" in message:
                    update = message["update"]
                    snapshot = Snapshot.from_wire(update["snapshot"])
                    self._take(snapshot)
                    self._connected.set()
                    self._tell(snapshot, update)
                elif "event" in message:
                    event = message["event"]
                    self._fire(event.get("type"), event.get("payload"))

    def _fire(self, name, payload) -> None:
        if self.events is not None and name:
            self.events.fire(name, payload)

    def _tell(self, snapshot: Snapshot, update: dict) -> None:
        for listener in list(self.update_listeners):
            try:
                listener(snapshot, update)
            except Exception:
                log.exception("printer update listener %r failed", listener)
