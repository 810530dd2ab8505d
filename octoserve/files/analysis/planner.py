"""The motion planner: Marlin's trapezoids with classic-jerk junctions and full look-ahead, fed block by block.

Each block is (dx, dy, dz, de, feed mm/s). prepare() gives every block its cruise speed (the feed capped
per axis, M203), its acceleration (M204 capped per axis, M201), a safe speed (what it may start or stop
at without acceleration: M205 jerk) and the highest entry speed its junction with the block before
allows (Marlin 1.1's classic jerk rule, as PrusaSlicer 2.2 copies it). finalise() lowers entry speeds
backwards to what the next block can brake to and forwards to what this block can reach, then adds up
each block's trapezoid (or triangle). Squared speeds where sums of 2·a·d are compared.

Streaming keeps memory flat on big files: whatever comes later, a block whose maximum entry survives the
backward pass from a full stop at the end of what is known keeps it, so everything before it is final.
prepare() and finalise() have C twins (engine.CKernel); Planner drives either.
"""
from math import sqrt

PREVIOUS_SPEED_THRESHOLD = 0.0001  # mm/s; below it the previous block counts as standing still (Marlin)


class Planner:
    """Feed it blocks and events chunk by chunk; events are (absolute block index, new limits or None: a stop)."""

    def __init__(self, limits: tuple, kernel=None):
        self.kernel = kernel or PythonKernel()
        self.limits = limits
        self.pending = self.kernel.new_pending()
        self.previous = None  # the last block's (v, vx, vy, vz, ve, safe); None after a stop
        self.entry = None  # the settled squared entry speed of the first pending block, if settled
        self.total = 0.0

    def feed(self, blocks, events, offset: int) -> None:
        start, changes = 0, []
        for index, new in events:
            at = index - offset
            if new is not None:
                if at <= start:
                    self.limits = new
                else:
                    changes.append((at, new))
                continue
            if at > start:
                self._prepare(blocks, start, at, changes)
            self._stop()
            start, changes = at, []
        self._prepare(blocks, start, self.kernel.count(blocks), changes)
        self._settle(None)

    def finish(self) -> float:
        self._stop()
        return self.total

    def _prepare(self, blocks, start, end, changes):
        if end > start:
            self.previous = self.kernel.prepare(self.pending, blocks, start, end, self.limits, changes, self.previous)
        if changes:
            self.limits = changes[-1][1]

    def _stop(self):
        if self.previous is not None:
            self._settle(self.previous[5] * self.previous[5])
        self.previous = self.entry = None

    def _settle(self, exit_squared):
        seconds, done, entry = self.kernel.finalise(self.pending, self.entry, exit_squared)
        self.total += seconds
        if done:
            self.entry = entry


def plan(blocks, events, limits: tuple, kernel=None) -> float:
    """Seconds of motion for all the blocks at once."""
    planner = Planner(limits, kernel)
    planner.feed(blocks, events, 0)
    return planner.finish()


class PythonKernel:
    """Blocks as 5-tuples; pending blocks as four lists: length, acceleration, cruise speed, squared max entry."""

    @staticmethod
    def new_pending():
        return [], [], [], []

    @staticmethod
    def count(blocks):
        return len(blocks)

    @staticmethod
    def prepare(pending, blocks, start, end, limits, changes, previous):
        return prepare(pending, blocks, start, end, limits, changes, previous)

    @staticmethod
    def finalise(pending, entry, exit_squared):
        return finalise(pending, entry, exit_squared)


def prepare(pending, blocks, start, end, limits, changes, previous):
    """Append blocks[start:end] to pending; changes are (index, limits) inside; returns the new previous."""
    (fx, fy, fz, fe, ax, ay, az, ae, a_print, a_retract, a_travel, jx, jy, jz, je, min_feed, min_travel) = limits
    lengths, accels, cruises, entries = pending
    changes = list(changes)
    next_change = changes[0][0] if changes else end
    prev_v, pvx, pvy, pvz, pve, prev_safe = previous or (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    for i in range(start, end):
        while i >= next_change:
            (fx, fy, fz, fe, ax, ay, az, ae, a_print, a_retract, a_travel, jx, jy, jz, je, min_feed,
             min_travel) = changes.pop(0)[1]
            next_change = changes[0][0] if changes else end
        dx, dy, dz, de, feed = blocks[i]
        length = dx * dx + dy * dy + dz * dz
        if length > 0.0:
            length = sqrt(length)
            accel, floor = (a_print, min_feed) if de != 0.0 else (a_travel, min_travel)
        else:  # E only; or a move so tiny that its square underflowed: its L1 length keeps it finite
            length, accel, floor = abs(de) or abs(dx) + abs(dy) + abs(dz), a_retract, min_feed
        if feed < floor:
            feed = floor
        k = feed / length
        vx, vy, vz, ve = dx * k, dy * k, dz * k, de * k
        scale = 1.0
        if abs(vx) * scale > fx: scale = fx / abs(vx)
        if abs(vy) * scale > fy: scale = fy / abs(vy)
        if abs(vz) * scale > fz: scale = fz / abs(vz)
        if abs(ve) * scale > fe: scale = fe / abs(ve)
        if scale < 1.0:
            feed, vx, vy, vz, ve = feed * scale, vx * scale, vy * scale, vz * scale, ve * scale
        if accel * abs(dx) > ax * length: accel = ax * length / abs(dx)
        if accel * abs(dy) > ay * length: accel = ay * length / abs(dy)
        if accel * abs(dz) > az * length: accel = az * length / abs(dz)
        if accel * abs(de) > ae * length: accel = ae * length / abs(de)
        safe = _safe_speed(feed, vx, vy, vz, ve, jx, jy, jz, je)
        if prev_v > PREVIOUS_SPEED_THRESHOLD:
            entry = _junction(prev_v, pvx, pvy, pvz, pve, prev_safe, feed, vx, vy, vz, ve, safe, jx, jy, jz, je)
        else:
            entry = safe  # from standing still
        lengths.append(length)
        accels.append(accel)
        cruises.append(feed)
        entries.append(entry * entry)
        prev_v, pvx, pvy, pvz, pve, prev_safe = feed, vx, vy, vz, ve, safe
    return prev_v, pvx, pvy, pvz, pve, prev_safe


def _safe_speed(v, vx, vy, vz, ve, jx, jy, jz, je) -> float:
    """Marlin 1.1: the speed this block may start from, or stop at, without exceeding any axis's jerk."""
    safe = v
    limited = False
    for axis_v, jerk in ((vx, jx), (vy, jy), (vz, jz), (ve, je)):
        axis_v = abs(axis_v)
        if axis_v > jerk:
            if limited:
                if axis_v * safe > jerk * v:
                    safe = jerk * v / axis_v
            else:
                limited = True
                safe = jerk
    return safe


def _junction(pv, pvx, pvy, pvz, pve, prev_safe, v, vx, vy, vz, ve, safe, jx, jy, jz, je) -> float:
    """Marlin 1.1's classic-jerk junction speed between the previous block and this one."""
    if pv > v:
        junction, factor = v, v / pv
    else:
        junction, factor = pv, 1.0
    v_factor = 1.0
    limited = False
    for exit_v, entry_v, jerk in ((pvx, vx, jx), (pvy, vy, jy), (pvz, vz, jz), (pve, ve, je)):
        exit_v *= factor
        if limited:
            exit_v *= v_factor
            entry_v *= v_factor
        if exit_v > entry_v:
            change = exit_v - entry_v if (entry_v > 0.0 or exit_v < 0.0) else max(exit_v, -entry_v)
        else:
            change = entry_v - exit_v if (entry_v < 0.0 or exit_v > 0.0) else max(-exit_v, entry_v)
        if change > jerk:
            v_factor *= jerk / change
            limited = True
    if limited:
        junction *= v_factor
    threshold = junction * 0.99
    if prev_safe > threshold and safe > threshold:
        junction = safe  # not coasting: the machine stops and starts anyway, each at its own safe speed
    return junction


def finalise(pending, entry, exit_squared):
    """Time the settled blocks and drop them: (seconds, how many, squared entry of the next one).

    exit_squared: the last block's squared exit at a full stop, settling all; None settles the blocks before
    the last one whose entry no future can lower. entry: the first block's squared entry if already settled.
    """
    lengths, accels, cruises, maxima = pending
    count = len(lengths)
    reach = [2.0 * a * d for a, d in zip(accels, lengths, strict=True)]  # how much v² can change within each block
    entries = list(maxima)
    limit = 0.0 if exit_squared is None else exit_squared
    last_reset = 0  # the last block (but the first) whose maximum entry survived: all before it is settled
    for i in range(count - 1, -1, -1):
        limit += reach[i]
        if entries[i] > limit:
            entries[i] = limit
        else:
            limit = entries[i]
            if not last_reset:
                last_reset = i
    if exit_squared is None:
        if not last_reset:
            return 0.0, 0, entry
        settled = last_reset
    else:
        entries.append(exit_squared)
        settled = count
    total = 0.0
    w0 = entries[0] if entry is None else entry
    for i in range(settled):
        w1, a, d, v = entries[i + 1], accels[i], lengths[i], cruises[i]
        if w1 > w0 + reach[i]:
            w1 = w0 + reach[i]
        v2 = v * v
        cruise = d - (v2 - w0) / (2.0 * a) - (v2 - w1) / (2.0 * a)
        if cruise >= 0.0:
            total += (2.0 * v - sqrt(w0) - sqrt(w1)) / a + cruise / v
        else:  # the speed never reaches the cruise speed: accelerate to a peak, then brake
            total += (2.0 * sqrt((w0 + w1) / 2.0 + a * d) - sqrt(w0) - sqrt(w1)) / a
        w0 = w1
    for column in pending:
        del column[:settled]
    return total, settled, w0
