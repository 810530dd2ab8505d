"""Session tokens handed out at login, for clients that authenticate a socket with them."""
import secrets
import threading
import time

MAX_TOKENS = 10_000


class SessionTokens:
    """Token -> user name, kept in the web process; the oldest are dropped past MAX_TOKENS."""

    def __init__(self):
        self._lock = threading.Lock()
        self._tokens = {}

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
            self._tokens.pop(token, None)

    def revoke_user(self, name: str) -> None:
        with self._lock:
            for token in [t for t, (n, _) in self._tokens.items() if n == name]:
                del self._tokens[token]
