"""G2/G3 arcs in the XY plane: the centre (I/J or R form), the points the firmware cuts them into, their extremes."""
import math

TAU = 2.0 * math.pi
MIN_CIRCLE_SEGMENTS = 24  # a full circle is never cut into fewer segments (Marlin's MIN_ARC_SEGMENTS)


class Arc:
    """One arc from the current XY position; angles in radians, sweep negative when clockwise."""

    def __init__(self, cx: float, cy: float, radius: float, start: float, sweep: float):
        self.cx, self.cy, self.radius, self.start, self.sweep = cx, cy, radius, start, sweep

    @classmethod
    def from_words(cls, start: tuple, end: tuple, words: dict, clockwise: bool, unit: float):
        """The arc from start (x, y) to end (x, y, ...), as Marlin's G2/G3 computes it; None when it has no centre."""
        x0, y0 = start
        x1, y1 = end[0], end[1]
        radius_word = words.get("R")
        if radius_word is not None and radius_word != 0.0:
            if x0 == x1 and y0 == y1:
                return None
            ox, oy = _offset_from_radius(x1 - x0, y1 - y0, radius_word * unit, clockwise)
        else:
            ox, oy = (words.get("I") or 0.0) * unit, (words.get("J") or 0.0) * unit
            if ox == 0.0 and oy == 0.0:
                return None
        cx, cy = x0 + ox, y0 + oy
        rx, ry = -ox, -oy  # centre to start
        tx, ty = x1 - cx, y1 - cy  # centre to end
        sweep = math.atan2(rx * ty - ry * tx, rx * tx + ry * ty)
        if sweep < 0.0:
            sweep += TAU
        if clockwise:
            sweep -= TAU
        if sweep == 0.0 and x0 == x1 and y0 == y1:
            sweep = TAU  # same start and end with a centre: a full circle
        return cls(cx, cy, math.hypot(rx, ry), math.atan2(ry, rx), sweep)

    def cut(self, z_travel: float, segment_length: float) -> tuple:
        """How many segments the firmware cuts the arc into, and each one's arc length over its chord."""
        length = math.hypot(abs(self.sweep) * self.radius, z_travel)
        count = max(1, int(length / segment_length), math.ceil(MIN_CIRCLE_SEGMENTS * abs(self.sweep) / TAU))
        half = abs(self.sweep) / count / 2.0
        return count, (half / math.sin(half) if half > 1e-9 else 1.0)

    def points(self, z0: float, e0: float, end: tuple, count: int):
        """The segment ends (x, y, z, e); Z and E change evenly along the arc, the last point is the exact end."""
        x1, y1, z1, e1 = end
        step = self.sweep / count
        cx, cy, radius, start = self.cx, self.cy, self.radius, self.start
        for i in range(1, count):
            angle = start + step * i
            fraction = i / count
            yield (cx + radius * math.cos(angle), cy + radius * math.sin(angle),
                   z0 + (z1 - z0) * fraction, e0 + (e1 - e0) * fraction)
        yield x1, y1, z1, e1

    def extremes(self):
        """The points (x, y) where the arc reaches furthest along X or Y, between its ends."""
        found = []
        for quarter in range(4):
            angle = quarter * math.pi / 2.0
            ahead = (angle - self.start) % TAU if self.sweep > 0 else (self.start - angle) % TAU
            if 0.0 < ahead < abs(self.sweep):
                found.append((self.cx + self.radius * math.cos(angle), self.cy + self.radius * math.sin(angle)))
        return found


def _offset_from_radius(dx: float, dy: float, radius: float, clockwise: bool) -> tuple:
    """The centre's offset from the start for the R form: on the bisector; a negative R takes the long way round."""
    hx, hy = dx * 0.5, dy * 0.5
    sign = -1.0 if clockwise != (radius < 0) else 1.0
    half = math.hypot(hx, hy)
    h2 = (radius - half) * (radius + half)
    h = math.sqrt(h2) if h2 >= 0 else 0.0
    return hx - hy / half * sign * h, hy + hx / half * sign * h
