"""Progress of a print: completion by file position, print time without pauses, and the time left."""
from octoserve.printer.snapshot import ProgressInfo

# Until this share of the file, the analysis' estimate weighs more than the measured rate.
BLEND_UNTIL = 0.5
MIN_PROGRESS_FOR_RATE = 0.01


class Progress:
    """Time left blends the G-code analysis' estimate with the rate measured so far."""

    def __init__(self, size=None, estimate=None):
        self.size = size
        self.estimate = estimate
        self.filepos = 0
        self._started = None
        self._paused_at = None
        self._paused_total = 0.0
        self._ended_time = None

    def start(self, now):
        self._started = now

    def pause(self, now):
        if self._paused_at is None:
            self._paused_at = now

    def resume(self, now):
        if self._paused_at is not None:
            self._paused_total += now - self._paused_at
            self._paused_at = None

    def finish(self):
        self.filepos = self.size or self.filepos

    def print_time(self, now) -> float:
        if self._started is None:
            return 0.0
        until = self._paused_at if self._paused_at is not None else now
        return max(0.0, until - self._started - self._paused_total)

    def fraction(self) -> float | None:
        if not self.size:
            return None
        return min(1.0, self.filepos / self.size)

    def time_left(self, now):
        """(seconds, origin): OctoPrint's origins "analysis", "mixed-analysis", "linear"."""
        done = self.fraction()
        if done is None or self._started is None:
            return None, None
        if done >= 1.0:
            return 0, "linear"
        elapsed = self.print_time(now)
        measured = elapsed * (1 - done) / done if done >= MIN_PROGRESS_FOR_RATE else None
        if self.estimate:
            from_estimate = max(0.0, self.estimate * (1 - done))
            if measured is None:
                return int(from_estimate), "analysis"
            weight = min(1.0, done / BLEND_UNTIL)
            if weight < 1.0:
                return int((1 - weight) * from_estimate + weight * measured), "mixed-analysis"
        if measured is None:
            return None, None
        return int(measured), "linear"

    def snapshot(self, now) -> ProgressInfo:
        done = self.fraction()
        left, origin = self.time_left(now)
        running = self._started is not None
        return ProgressInfo(
            completion=None if done is None or not running else done * 100,
            filepos=self.filepos if running else None,
            print_time=int(self.print_time(now)) if running else None,
            print_time_left=left,
            print_time_left_origin=origin,
        )
