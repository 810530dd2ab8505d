"""Session tokens handed out at login, for clients that authenticate a socket with them."""
import secrets
import threading
import time

MAX_TOKENS = 10_000


class SessionTokens:
    """Token -> user name, kept in the web process; the oldest are dropped past MAX_TOKENS.

    ``listeners`` are told ``(token, name, reason)`` when a login ends or changes: a token
    revoked at logout (reason "logout"), every token of a user removed or deactivated
    (token None; "removed" or "stale"), or a user whose rights changed ("modified", the
    tokens stay valid). The push API uses it to send ``reauthRequired``.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._tokens = {}
        self.listeners = []

    def issue(self, name: str) -> str:
        token = secrets.token_hex(32)
        with self._lock:
            if len(self._tokens) >= MAX_TOKENS:
                oldest = min(self._tokens, key=lambda t: self._tokens[t][1])
                del self._tokens[oldest]
            self._tokens[token] = (name, time.time())
        return token

    def user_for(self, token: str) -> str | None:
        with self._lock:
            entry = self._tokens.get(token)
        return entry[0] if entry else None

    def revoke(self, token: str) -> None:
        with self._lock:
            entry = self._tokens.pop(token, None)
        if entry is not None:
            self._tell(token, entry[0], "logout")

    def revoke_user(self, name: str, reason: str = "removed") -> None:
        with self._lock:
            for token in [t for t, (n, _) in self._tokens.items() if n == name]:
                del self._tokens[token]
        self._tell(None, name, reason)

    def user_changed(self, name: str) -> None:
        self._tell(None, name, "modified")

    def _tell(self, token, name, reason) -> None:
        for listener in list(self.listeners):
            listener(token, name, reason)
