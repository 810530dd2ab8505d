"""Output nobody asked for in that moment: M155/M27 auto-reports and the M113 busy keepalive."""
import contextlib
import math
import time

BUSY_PROCESSING = "echo:busy: processing"


class Reports:
    """Timers serviced from idle(), so they keep running while a command blocks (as in Marlin)."""

    def __init__(self, fw, keepalive: int):
        self.fw = fw
        self.keepalive = keepalive
        self.temp_interval = 0
        self.sd_interval = 0
        self.busy_state = None
        self._next_temp = math.inf
        self._next_sd = math.inf
        self._next_busy = math.inf

    def set_temp_interval(self, seconds: int):
        self.temp_interval = seconds
        self._next_temp = time.monotonic() + seconds if seconds else math.inf

    def set_sd_interval(self, seconds: int):
        self.sd_interval = seconds
        self._next_sd = time.monotonic() + seconds if seconds else math.inf

    @contextlib.contextmanager
    def busy(self, state: str = BUSY_PROCESSING):
        """Mark a blocking command; Marlin's first keepalive comes one interval after it starts."""
        outer = self.busy_state
        if outer is None:
            self._next_busy = time.monotonic() + self.keepalive if self.keepalive else math.inf
        self.busy_state = outer or state
        try:
            yield
        finally:
            self.busy_state = outer
            if outer is None:
                self._next_busy = math.inf

    def set_keepalive(self, seconds: int):
        self.keepalive = seconds
        if self.busy_state is not None:
            self._next_busy = time.monotonic() + seconds if seconds else math.inf

    def tick(self, now: float) -> float:
        """Emit whatever is due at `now`; returns the time the next report falls due."""
        out = self.fw.out
        if now >= self._next_temp:
            out.emit(self.fw.thermals.report())
            self._next_temp = _next(self._next_temp, self.temp_interval, now)
        if now >= self._next_sd:
            out.emit(self.fw.sd.status())
            self._next_sd = _next(self._next_sd, self.sd_interval, now)
        if now >= self._next_busy:
            out.emit(self.busy_state)
            self._next_busy = _next(self._next_busy, self.keepalive, now)
        return min(self._next_temp, self._next_sd, self._next_busy)


def _next(previous: float, interval: float, now: float) -> float:
    # Keep the cadence, but never try to catch up on reports missed while the host was away.
    following = previous + interval
    return following if following > now else now + interval
