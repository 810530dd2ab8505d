"""Event names (OctoPrint's) and a small in-process bus that fans events out to subscribers."""
import logging
import threading

log = logging.getLogger(__name__)

STARTUP = "Startup"
SHUTDOWN = "Shutdown"
USER_LOGGED_IN = "UserLoggedIn"
USER_LOGGED_OUT = "UserLoggedOut"


class EventBus:
    """Subscribers are called synchronously on the firing thread; one failing never stops the rest."""

    def __init__(self):
        self._lock = threading.Lock()
        self._subscribers = []

    def subscribe(self, callback) -> None:
        with self._lock:
            self._subscribers.append(callback)

    def unsubscribe(self, callback) -> None:
        with self._lock:
            self._subscribers.remove(callback)

    def fire(self, name: str, payload=None) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(name, payload)
            except Exception:
                log.exception("event subscriber %r failed on %s", callback, name)
