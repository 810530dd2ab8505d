"""The thermal model: heaters that lag toward their targets, and Marlin's temperature report."""
import math
import time

# Per heater: full-speed heating and cooling rates (degC/s) and the proportional gain (1/s) that
# takes over near the goal, so a heater slows down as it closes in like a real PID loop.
PROFILES = {
    "T": (4.0, 2.0, 0.4),
    "B": (1.0, 0.5, 0.3),
    "C": (0.5, 0.3, 0.2),
}


class Heater:
    """One heater whose temperature is computed lazily from the time elapsed."""

    def __init__(self, key: str, ambient: float, speed: float, clock=time.monotonic):
        self.key = key
        self.ambient = ambient
        self.speed = speed
        self.clock = clock
        self.heat_rate, self.cool_rate, self.gain = PROFILES[key]
        self._actual = ambient
        self._target = 0.0
        self._stamp = clock()

    @property
    def actual(self) -> float:
        self._settle()
        return self._actual

    def _settle(self) -> None:
        """Move the curve up to now."""
        now = self.clock()
        self._advance((now - self._stamp) * self.speed)
        self._stamp = now

    @actual.setter
    def actual(self, value: float):
        self._actual = value
        self._stamp = self.clock()

    @property
    def target(self) -> float:
        return self._target

    @target.setter
    def target(self, value: float):
        self._settle()  # the curve up to now follows the old goal
        self._target = max(0.0, value)

    def _advance(self, dt: float):
        goal = self._target if self._target > 0 else self.ambient
        distance = goal - self._actual
        if dt <= 0 or distance == 0:
            return
        rate = self.heat_rate if distance > 0 else self.cool_rate
        direction = 1.0 if distance > 0 else -1.0
        remaining = abs(distance)
        # Beyond the knee the heater runs flat out; inside it the approach is exponential.
        knee = rate / self.gain
        if remaining > knee:
            linear_time = (remaining - knee) / rate
            if dt <= linear_time:
                self._actual += direction * rate * dt
                return
            dt -= linear_time
            remaining = knee
        remaining *= math.exp(-self.gain * dt)
        self._actual = goal - direction * remaining

    @property
    def power(self) -> int:
        """PWM duty on Marlin's 0-127 scale: full while far below the target, holding power near it."""
        if self._target <= 0:
            return 0
        error = self._target - self.actual
        hold = (self._target - self.ambient) * 0.25
        return max(0, min(127, int(hold + error * 12)))


class Thermals:
    """The hotend, the bed and (optionally) the chamber."""

    def __init__(self, ambient: float, speed: float, has_chamber: bool):
        self.hotend = Heater("T", ambient, speed)
        self.bed = Heater("B", ambient, speed)
        self.chamber = Heater("C", ambient, speed) if has_chamber else None

    def carry_over(self, previous: "Thermals"):
        """A reset forgets the targets, not the physics: hot metal stays hot."""
        self.hotend.actual = previous.hotend.actual
        self.bed.actual = previous.bed.actual
        if self.chamber and previous.chamber:
            self.chamber.actual = previous.chamber.actual

    def all(self):
        return [h for h in (self.hotend, self.bed, self.chamber) if h is not None]

    def switch_off(self):
        for heater in self.all():
            heater.target = 0

    def report(self) -> str:
        """Marlin's print_heater_states(): ' T:21.30 /0.00 B:21.30 /0.00 @:0 B@:0' (leading space)."""
        parts = [f" {h.key}:{h.actual:.2f} /{h.target:.2f}" for h in self.all()]
        powers = [f" @:{self.hotend.power}", f" B@:{self.bed.power}"]
        if self.chamber:
            powers.append(f" C@:{self.chamber.power}")
        return "".join(parts + powers)
