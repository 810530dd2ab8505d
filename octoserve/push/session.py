"""One push client: who it is, what it asked for, and the messages waiting for it.

Transports (push/websocket.py, push/sockjs.py) feed it what the client sends (``receive``)
and take what is due (``next_messages``); it never touches a socket itself. Messages are
plain JSON texts, one per message, which a transport frames as it needs.
"""
import collections
import json
import re
import threading
import time

from octoserve import events
from octoserve.access.users import AnonymousUser
from octoserve.push import messages
from octoserve.push.hub import TICK, fingerprint

MAX_QUEUED = 1000  # events waiting for a client; beyond that it is too far behind and is closed
PRE_AUTH_QUEUE = 100  # events kept for a socket that has not authenticated yet (as OctoPrint)
EARLY = 0.9  # a current due within a tenth of its interval goes out with this tick, not the next


class Subscription:
    """What the client asked for with ``subscribe`` (everything until it does)."""

    def __init__(self, state=True, logs=True, messages=True, plugins=True, events=True):
        self.state, self.logs, self.messages = state, logs, messages
        self.plugins, self.events = plugins, events

    @classmethod
    def parse(cls, data) -> "Subscription":
        """OctoPrint 1.8's rules: anything not asked for is off; ``state: true`` means logs on, messages off."""
        if not isinstance(data, dict):
            raise ValueError("subscribe takes an object")
        state = data.get("state", False)
        logs = messages = False
        if state is True:
            logs = True
        elif isinstance(state, dict):
            logs, messages = _rule(state.get("logs", False)), _rule(state.get("messages", False))
            state = True
        elif state is not False:
            raise ValueError("state must be a boolean or an object")
        return cls(state, logs, messages, _names(data.get("plugins", False)), _names(data.get("events", False)))

    def wants_event(self, name: str) -> bool:
        return self.events is True or (isinstance(self.events, list) and name in self.events)

    def wants_plugin(self, plugin_id: str) -> bool:
        return self.plugins is True or (isinstance(self.plugins, list) and plugin_id in self.plugins)


def _rule(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        re.compile(value)  # a bad pattern is the client's error: the whole subscribe is ignored
        return value
    raise ValueError("logs and messages take a boolean or a regular expression")


def _names(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    raise ValueError("plugins and events take a boolean or a list of names")


class PushSession:
    """A client of the push API, whatever carries it."""

    def __init__(self, hub, remote_address: str):
        self.hub = hub
        self.remote_address = remote_address
        self.user, self.token, self.fingerprint = AnonymousUser(), None, None
        self.permissions = frozenset(self._permissions_of(self.user))
        self.throttle = 1
        self.subscription = Subscription()
        self.streaming = False
        self.last_tick = 0
        self._last_current = 0.0
        self._outbox = collections.deque()
        self._pre_auth = collections.deque(maxlen=PRE_AUTH_QUEUE)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._flush = False  # the transport has bytes to write though no message is due
        self._taken = False  # the writer holds messages it took and has not sent yet
        self.direct = None  # a transport's way to send a message at once, never waiting (or None)
        self.closed = False

    # -- lifecycle ----------------------------------------------------------------------------
    def open(self) -> None:
        self._queue(messages.encode(messages.connected(self.hub.services, self.hub.plugin_names)))
        self.hub.add(self)
        self.hub.services.events.fire(events.CLIENT_OPENED, {"remoteAddress": self.remote_address})
        if "STATUS" in self.permissions:  # guests were given STATUS: no auth needed
            self._start_streaming()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.hub.remove(self)
        self._wake.set()
        self.hub.services.events.fire(events.CLIENT_CLOSED, {"remoteAddress": self.remote_address})

    # -- what the client says ------------------------------------------------------------------
    def receive(self, text: str) -> None:
        """One message from the client. Anything malformed or unknown is ignored (OctoPod sends "{}")."""
        try:
            message = json.loads(text)
        except (ValueError, TypeError, RecursionError):
            return
        if not isinstance(message, dict):
            return
        if "auth" in message:
            self._authenticate(message["auth"])
        if "throttle" in message:
            value = message["throttle"]
            if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
                self.throttle = value
        if "subscribe" in message:
            self._subscribe(message["subscribe"])

    def _authenticate(self, value) -> None:
        if not isinstance(value, str):
            return  # malformed: ignored like any other
        parts = value.split(":")
        services = self.hub.services
        user = None
        if len(parts) == 2 and services.tokens.user_for(parts[1]) == parts[0]:
            user = services.users.find(parts[0])
        if user is None or not user.active:
            self._queue(messages.encode({"reauthRequired": {"reason": "stale"}}))
            self._become(AnonymousUser(), None)
            return
        self._become(user, parts[1])
        services.events.fire(events.CLIENT_AUTHED, {"username": user.name, "remoteAddress": self.remote_address})
        if "STATUS" in self.permissions:
            self._start_streaming()

    def _subscribe(self, data) -> None:
        try:
            subscription = Subscription.parse(data)
        except (ValueError, re.error):
            return
        turned_on = subscription.state and not self.subscription.state
        self.subscription = subscription
        if turned_on and self.streaming:
            self._send_history()

    def deauthenticate(self, reason: str) -> None:
        """The login behind this socket ended (logout, user removed or changed)."""
        name = self.user_name
        if name is None:
            return
        self._queue(messages.encode({"reauthRequired": {"reason": reason}}))
        self._become(AnonymousUser(), None)
        self.hub.services.events.fire(events.CLIENT_DEAUTHED, {"username": name, "remoteAddress": self.remote_address})

    def _become(self, user, token) -> None:
        self.user, self.token = user, token
        self.fingerprint = None if user.is_anonymous else fingerprint(user)
        self.permissions = frozenset(self._permissions_of(user))
        if "STATUS" not in self.permissions:
            self.streaming = False

    def _permissions_of(self, user) -> list:
        return self.hub.services.users.permissions_of(user)

    # -- what the hub offers --------------------------------------------------------------------
    @property
    def user_name(self):
        return None if self.user.is_anonymous else self.user.name

    @property
    def is_admin(self) -> bool:
        return "ADMIN" in self.permissions

    @property
    def terminal_view(self):
        """(logs rule, messages rule) for this client, or None when it may not watch the terminal."""
        if "MONITOR_TERMINAL" not in self.permissions or not self.subscription.state:
            return None
        return self.subscription.logs, self.subscription.messages

    def offer_event(self, name: str, encoded: str) -> None:
        if self.streaming:
            if self.subscription.wants_event(name):
                self._deliver(encoded)
        elif not self.closed:
            self._pre_auth.append(encoded)

    def _deliver(self, encoded: str) -> None:
        """At once through the transport when nothing is waiting before it, else in order through the queue."""
        with self._lock:
            sent = (self.direct is not None and not self._outbox and not self._taken
                    and self.direct(encoded))
        if not sent:
            self._queue(encoded)

    def flush_wanted(self) -> None:
        """The transport holds bytes a direct send could not write: let the writer come for them."""
        self._flush = True
        self._wake.set()

    def offer_plugin(self, plugin_id: str, encoded: str) -> None:
        if self.streaming and self.subscription.wants_plugin(plugin_id):
            self._queue(encoded)

    def wake(self) -> None:
        self._wake.set()

    # -- what the transport takes ---------------------------------------------------------------
    def next_messages(self, timeout: float) -> list:
        """The messages due now, waiting up to ``timeout`` for some; [] when none came (or it closed,
        or the transport has bytes to flush). Call ``sent()`` once they are written."""
        deadline = time.monotonic() + timeout
        while not self.closed:
            due = self._due()
            if due or self._flush:
                self._flush = False
                return due
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            self._wake.wait(min(remaining, self._until_current()))
            self._wake.clear()
        return []

    def sent(self) -> None:
        """The writer has written what it took: direct sends may go again."""
        with self._lock:
            self._taken = False

    def _due(self) -> list:
        with self._lock:
            due = list(self._outbox)
            self._outbox.clear()
            self._taken = bool(due)
        if self.streaming and self.subscription.state and self.hub.tick > self.last_tick:
            if time.monotonic() - self._last_current >= TICK * self.throttle * EARLY:
                encoded, self.last_tick = self.hub.current_for(self)
                self._last_current = time.monotonic()
                due.append(encoded)
                self._taken = True
        return due

    def _until_current(self) -> float:
        if not self.streaming or self.hub.tick <= self.last_tick:
            return 3600.0
        return max(0.01, self._last_current + TICK * self.throttle * EARLY - time.monotonic())

    def _queue(self, encoded: str) -> None:
        with self._lock:
            overflow = len(self._outbox) >= MAX_QUEUED
            if not overflow:
                self._outbox.append(encoded)
        if overflow:
            self.close()  # the client reads nothing: it reconnects and starts afresh
        else:
            self._wake.set()

    def _start_streaming(self) -> None:
        backlog = list(self._pre_auth)
        self._pre_auth.clear()
        for encoded in backlog:
            self._queue(encoded)
        self.streaming = True
        self._send_history()
        self._queue(messages.encode({"timelapse": None}))

    def _send_history(self) -> None:
        if not self.subscription.state:
            return
        encoded, self.last_tick = self.hub.history_for(self)
        self._last_current = time.monotonic()
        self._queue(encoded)
