"""The push hub: one per web process. It follows the printer daemon's updates and the web process's
events and hands every push session what it may see, encoding each message once for all the
sessions that see the same thing.

Time runs in ticks of ``TICK`` seconds. At a tick where anything changed, the temperature
points, terminal lines and messages that arrived since the last tick become one numbered
batch (the last ``RING`` are kept); a session's ``current`` carries the batches after the
last tick it was sent, so nothing is lost and nothing comes twice, whatever its throttle.
The history buffers (what a new session's ``history`` holds) are extended at the same
moment, so a history and the currents after it meet exactly.

Nothing here waits on a socket: sessions pull their messages from their own transports.
"""
import collections
import logging
import re
import threading
import time
from dataclasses import dataclass

from octoserve import events
from octoserve.printer.temperatures import CUTOFF_SECONDS
from octoserve.push import messages

log = logging.getLogger(__name__)

TICK = 0.5  # OctoPrint's base interval for current messages
RING = 40  # batches kept: a session this many changed ticks behind loses the oldest
HISTORY_LINES = 300  # terminal lines and messages in a history
TICK_LINES = 300  # at most this many new lines per tick (a terminal shows no more anyway)
USER_CHECK = 2.0  # seconds between looks at the authenticated users (changed by the CLI, say)


@dataclass(frozen=True)
class Batch:
    tick: int
    temps: tuple
    logs: tuple
    messages: tuple


class PushHub:
    """The fan-out of printer state and events to every push session of this process."""

    def __init__(self, services, printer, plugin_names=()):
        self.services = services
        self.printer = printer
        self.plugin_names = tuple(plugin_names)
        self.snapshot = printer.snapshot
        self.tick = 0
        self.batches = collections.deque(maxlen=RING)
        self._pending = ([], [], [])
        self._changed = False
        self._temps = collections.deque()
        self._logs = collections.deque(maxlen=HISTORY_LINES)
        self._messages = collections.deque(maxlen=HISTORY_LINES)
        self._lock = threading.Lock()
        self._sessions = set()
        self._cache = {}
        self._stopping = threading.Event()
        printer.update_listeners.append(self._on_update)
        services.events.subscribe(self._on_event)
        services.tokens.listeners.append(self._on_token)
        self._thread = threading.Thread(target=self._run, name="push-ticker", daemon=True)

    def start(self) -> "PushHub":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()

    def shut_down(self, linger: float = 0.3) -> None:
        """The server stops: every session hears Shutdown, then is closed (its client reconnects later)."""
        self.services.events.fire(events.SHUTDOWN, None)
        time.sleep(linger)  # the event's frames go out first
        for session in self.sessions:
            session.close()
        self.stop()

    # -- sessions ---------------------------------------------------------------------------
    def add(self, session) -> None:
        with self._lock:
            self._sessions.add(session)

    def remove(self, session) -> None:
        with self._lock:
            self._sessions.discard(session)

    @property
    def sessions(self) -> list:
        with self._lock:
            return list(self._sessions)

    # -- what the daemon and the web process say ----------------------------------------------
    def _on_update(self, snapshot, update: dict) -> None:
        """On the printer subscription thread: keep the news for the next tick, never block."""
        with self._lock:
            self.snapshot = snapshot
            if update.get("backlog"):  # a fresh subscription: the daemon's own history replaces ours
                self._temps = collections.deque(update.get("temps") or ())
                self._logs = collections.deque(update.get("logs") or (), maxlen=HISTORY_LINES)
                self._messages = collections.deque(update.get("messages") or (), maxlen=HISTORY_LINES)
            else:
                for pending, key in zip(self._pending, ("temps", "logs", "messages"), strict=True):
                    pending.extend(update.get(key) or ())
            self._changed = True

    def _on_event(self, name: str, payload) -> None:
        """Any thread: an event for every session that may see it, encoded once per audience."""
        plain = {"event": {"type": name, "payload": payload}}
        encoded = {True: messages.encode(plain)}
        if name in events.BLANKED_FOR_OTHERS:
            encoded[False] = messages.encode({"event": {"type": name, "payload": {}}})
        else:
            encoded[False] = encoded[True]
        for session in self.sessions:
            if name in events.ADMIN_ONLY and not session.is_admin:
                continue
            session.offer_event(name, encoded[session.is_admin])

    def send_plugin_message(self, plugin_id: str, data) -> None:
        """The seam for plugins: ``{"plugin": {"plugin": id, "data": data}}`` to every session that takes them."""
        encoded = messages.encode({"plugin": {"plugin": plugin_id, "data": data}})
        for session in self.sessions:
            session.offer_plugin(plugin_id, encoded)

    def _on_token(self, token, name, reason) -> None:
        for session in self.sessions:
            if session.user_name == name and (token is None or session.token == token):
                session.deauthenticate(reason)

    # -- ticks ------------------------------------------------------------------------------
    def _run(self) -> None:
        next_check = time.monotonic() + USER_CHECK
        while not self._stopping.wait(TICK):
            try:
                if self.cut_batch():
                    for session in self.sessions:
                        session.wake()
                if time.monotonic() >= next_check:
                    next_check = time.monotonic() + USER_CHECK
                    self._check_users()
            except Exception:
                log.exception("the push ticker failed")

    def cut_batch(self) -> bool:
        """End a tick: what arrived since the last becomes a batch (False: nothing did). The ticker calls it."""
        with self._lock:
            if not self._changed:
                return False
            temps, logs, found = self._pending
            self._pending, self._changed = ([], [], []), False
            self.tick += 1
            batch = Batch(self.tick, tuple(temps), tuple(logs[-TICK_LINES:]), tuple(found[-TICK_LINES:]))
            self.batches.append(batch)
            self._temps.extend(temps)
            cutoff = time.time() - CUTOFF_SECONDS
            while self._temps and self._temps[0].get("time", 0) < cutoff:
                self._temps.popleft()
            self._logs.extend(batch.logs)
            self._messages.extend(batch.messages)
            self._cache = {}
        return True

    def _check_users(self) -> None:
        users = self.services.users
        for session in self.sessions:
            if session.user_name is not None:
                user = users.find(session.user_name)
                if user is None:
                    session.deauthenticate("removed")
                elif not user.active:
                    session.deauthenticate("stale")
                elif session.fingerprint != fingerprint(user):
                    session.deauthenticate("modified")

    # -- messages ---------------------------------------------------------------------------
    def history_for(self, session) -> tuple:
        """(the ``history`` message for this session, encoded; the tick it ends at)."""
        with self._lock:
            snapshot, tick = self.snapshot, self.tick
            temps, logs, found = list(self._temps), list(self._logs), list(self._messages)
        logs_filter, messages_filter = session.terminal_view or (False, False)
        message = messages.history(snapshot, temps, _filtered(logs, logs_filter), _filtered(found, messages_filter))
        return messages.encode(message), tick

    def current_for(self, session) -> tuple:
        """(the ``current`` message for what happened after this session's last tick; the tick it ends at)."""
        view = session.terminal_view
        with self._lock:
            tick, snapshot = self.tick, self.snapshot
            key = (tick, session.last_tick, view)
            encoded = self._cache.get(key)
            if encoded is not None:
                return encoded, tick
            batches = [batch for batch in self.batches if session.last_tick < batch.tick <= tick]
        temps = [point for batch in batches for point in batch.temps]
        logs = found = None
        if view is not None:
            logs = _filtered([line for batch in batches for line in batch.logs], view[0])
            found = _filtered([line for batch in batches for line in batch.messages], view[1])
        encoded = messages.encode(messages.current(snapshot, temps, logs, found))
        with self._lock:
            if self.tick == tick:
                self._cache[key] = encoded
        return encoded, tick


def _filtered(lines: list, rule) -> list:
    """``rule``: False (none), True (all) or a regular expression a line must match somewhere."""
    if rule is True:
        return lines
    if not rule:
        return []
    pattern = re.compile(rule)
    return [line for line in lines if pattern.search(line)]


def fingerprint(user) -> tuple:
    """What a socket login depends on: a change of any of it asks the client to authenticate again."""
    return tuple(user.groups), tuple(user.permissions), user.active
