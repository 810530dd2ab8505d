"""Temperatures in the daemon: the latest reading per heater, targets, offsets, and 30 minutes of history."""
import threading
import time
from collections import deque

from octoserve.printer.snapshot import Heater

CUTOFF_SECONDS = 30 * 60


class Temperatures:
    """Readings come from the comm reader thread; the API reads copies from request threads."""

    def __init__(self, cutoff: float = CUTOFF_SECONDS, clock=time.time):
        self._lock = threading.Lock()
        self._current = {}
        self._offsets = {}
        self._history = deque()  # (number, point)
        self._cutoff = cutoff
        self._clock = clock
        self.count = 0  # the number of the newest point
        self._markings = deque()  # chart marks: {"type", "label", "time"}

    def record(self, readings: dict) -> None:
        """One report from the firmware: {"tool0": (actual, target|None), ...}."""
        now = self._clock()
        with self._lock:
            point = {"time": int(now)}
            for heater, (actual, target) in readings.items():
                previous = self._current.get(heater, {})
                if target is None:
                    target = previous.get("target")  # reports without targets keep the last one
                if actual is None:
                    actual = previous.get("actual")  # a target echo (Repetier) carries no reading
                self._current[heater] = {"actual": actual, "target": target}
                point[heater] = {"actual": actual, "target": target}
            self.count += 1
            self._history.append((self.count, point))
            while self._history and now - self._history[0][1]["time"] > self._cutoff:
                self._history.popleft()

    def set_target(self, heater: str, target: float) -> None:
        """A target the host set: shown at once, before the firmware's next report."""
        with self._lock:
            entry = self._current.setdefault(heater, {"actual": None, "target": None})
            entry["target"] = target

    def set_offsets(self, offsets: dict) -> None:
        with self._lock:
            self._offsets.update(offsets)

    def current(self) -> dict:
        """Heater name -> Heater (actual, target, offset)."""
        with self._lock:
            return {heater: Heater(values["actual"], values["target"], self._offsets.get(heater, 0))
                    for heater, values in self._current.items()}

    def targets(self):
        with self._lock:
            return [(heater, values["target"]) for heater, values in self._current.items()]

    def history(self, limit: int | None = None) -> list:
        return self.history_between(0, self.count, limit)

    def history_between(self, after: int, upto: int, limit: int | None = None) -> list:
        """The points numbered after < n <= upto (within the cutoff), oldest first."""
        with self._lock:
            points = [point for number, point in self._history if after < number <= upto]
        return points[-limit:] if limit else points

    def mark(self, kind: str, label: str) -> dict:
        """A mark on the temperature chart (print started, paused...), kept as long as the points."""
        now = self._clock()
        marking = {"type": kind, "label": label, "time": now}
        with self._lock:
            self._markings.append(marking)
            while self._markings and now - self._markings[0]["time"] > self._cutoff:
                self._markings.popleft()
        return marking

    def markings(self) -> tuple:
        with self._lock:
            return tuple(dict(m) for m in self._markings)

    def offsets(self) -> dict:
        with self._lock:
            return dict(self._offsets)

    def clear(self) -> None:
        with self._lock:
            self._current.clear()
