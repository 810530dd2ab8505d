"""Failed-login limiting per remote address: 3 a minute, 5 in ten minutes, 10 an hour."""
import threading
import time
from collections import defaultdict, deque

WINDOWS = ((3, 60.0), (5, 600.0), (10, 3600.0))


class FailedLoginLimiter:
    """Counts failed logins only; a correct password never uses up an allowance."""

    def __init__(self, windows=WINDOWS, clock=time.monotonic):
        self._windows = windows
        self._longest = max(seconds for _, seconds in windows)
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = defaultdict(deque)

    def blocked(self, address: str) -> bool:
        now = self._clock()
        with self._lock:
            failures = self._failures.get(address)
            if not failures:
                return False
            while failures and now - failures[0] > self._longest:
                failures.popleft()
            return any(
                sum(1 for t in failures if now - t <= seconds) >= limit
                for limit, seconds in self._windows
            )

    def record_failure(self, address: str) -> None:
        with self._lock:
            self._failures[address].append(self._clock())
