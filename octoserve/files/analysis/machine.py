"""The printer as the G-code sees it: positions, modes, tools, bounding boxes, and every command but plain moves."""
import math
import re
from array import array

from octoserve.files.analysis import arcs, limits

INF = math.inf
INCH = 25.4
DEFAULT_FEED = 1500.0 / 60.0  # Marlin's feed rate before the first F, mm/s
MIN_ARC_SEGMENT = 1.0  # mm; Marlin's MM_PER_ARC_SEGMENT

# The state the fast scanners (Python and C) read and write, in this order (the C code mirrors it).
STATE = (
    "x", "y", "z", "e", "rel", "rel_e", "unit", "feed", "speed_factor", "flow", "cum", "maxe",
    "pminx", "pmaxx", "pminy", "pmaxy", "pminz", "pmaxz", "pcont",
    "tminx", "tmaxx", "tminy", "tmaxy", "tminz", "tmaxz", "tcont",
)
# Commands after which the firmware's queue runs empty: motion stops before the next block.
STOPS = frozenset(("G4", "G28", "G29", "M0", "M1", "M109", "M116", "M190", "M191", "M400", "M600"))
# A number as the firmware reads it from the front of a word (strtod without hex, inf, nan).
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_GLUED = re.compile(r"([A-Za-z])([-+]?(?:\d+\.?\d*|\.\d+)?)")


def words_of(line: str) -> list:
    """(letter, value or None) pairs of a line, without line number, checksum and comment."""
    cut = line.find(";")
    if cut >= 0:
        line = line[:cut]
    cut = line.find("*")
    if cut >= 0:
        line = line[:cut]
    words = []
    for token in line.split():
        letter, rest = token[0], token[1:]
        if not rest:
            words.append((letter, None))
            continue
        try:
            words.append((letter, float(rest)))
            continue
        except ValueError:
            pass
        if any(c.isalpha() for c in rest):  # "G1X10Y20": words without spaces between them
            words.extend((a, float(number) if number else None) for a, number in _GLUED.findall(token))
        else:  # "X1.2.3": the number at the front, as strtod reads it
            match = _NUMBER.match(rest)
            words.append((letter, float(match.group()) if match else None))
    if words and words[0][0] == "N":
        del words[0]
    return words


class Machine:
    """State and side effects of the G-code: moves become planner blocks, the rest changes modes and limits."""

    def __init__(self, profile: dict | None = None, flat: bool = False):
        self.x = self.y = self.z = self.e = 0.0
        self.rel = self.rel_e = 0.0  # 1.0 when relative: the scanners multiply by it
        self.unit, self.feed, self.speed_factor, self.flow = 1.0, DEFAULT_FEED, 1.0, 1.0
        self.cum = self.maxe = 0.0  # the current tool's net extrusion, and its maximum so far
        self.pminx = self.pminy = self.pminz = self.tminx = self.tminy = self.tminz = INF
        self.pmaxx = self.pmaxy = self.pmaxz = self.tmaxx = self.tmaxy = self.tmaxz = -INF
        self.pcont = self.tcont = 0.0  # 1.0 when the current position is in the print/travel box already
        self.tool, self.tools = 0, {}
        self.limits = self.initial_limits = limits.initial(profile)
        self.dwell = 0.0
        self.flat = flat  # blocks as one flat array of doubles (for the C kernels) or as 5-tuples
        self.blocks = array("d") if flat else []
        self.offset = 0  # blocks handed to the planner already (block indices in events count them)
        self.events = []  # (block index, new limits) or (block index, None) for a full stop
        self.m83 = 0.0  # M83 in force: E stays relative after G90
        self.retract = {"length": 3.0, "feed": 45.0, "extra": 0.0, "recover": 8.0, "done": False}  # G10/G11

    def block_count(self) -> int:
        return self.offset + (len(self.blocks) // 5 if self.flat else len(self.blocks))

    def next_chunk(self) -> None:
        """The planner has the blocks and events so far: start afresh, counting on."""
        self.offset = self.block_count()
        self.blocks = array("d") if self.flat else []
        self.events = []

    def emit(self, block: tuple) -> None:
        if self.flat:
            self.blocks.extend(block)
        else:
            self.blocks.append(block)

    def pack(self) -> list:
        return [float(getattr(self, name)) for name in STATE]

    def unpack(self, values) -> None:
        for name, value in zip(STATE, values, strict=True):
            setattr(self, name, value)

    def stop(self) -> None:
        self.events.append((self.block_count(), None))

    # -- moves -------------------------------------------------------------------------------
    def move_to(self, nx: float, ny: float, nz: float, ne: float, scale: float = 1.0) -> None:
        """The reference semantics of a move; the fast scanners inline the same steps."""
        dx, dy, dz, de = nx - self.x, ny - self.y, nz - self.z, (ne - self.e) * self.flow
        old = (self.x, self.y, self.z)
        self.x, self.y, self.z, self.e = nx, ny, nz, ne
        if dx != 0.0 or dy != 0.0 or dz != 0.0:
            if not self.tcont:
                self._record("t", old)
                self.tcont = 1.0
            self._record("t", (nx, ny, nz))
            if de > 0.0:
                if not self.pcont:
                    self._record("p", old)
                    self.pcont = 1.0
                self._record("p", (nx, ny, nz))
            else:
                self.pcont = 0.0
            self.emit((dx * scale, dy * scale, dz, de, self.feed * self.speed_factor))
        elif de != 0.0:
            self.emit((0.0, 0.0, 0.0, de, self.feed * self.speed_factor))
        if de != 0.0:
            self.cum += de
            if self.cum > self.maxe:
                self.maxe = self.cum

    def _record(self, box: str, point) -> None:
        for axis, value in zip("xyz", point, strict=True):
            low, high = f"{box}min{axis}", f"{box}max{axis}"
            if value < getattr(self, low):
                setattr(self, low, value)
            if value > getattr(self, high):
                setattr(self, high, value)

    def target(self, words: dict) -> tuple:
        """Where a G0-G3 with these words goes, in absolute millimetres; sets the feed rate from F."""
        unit = self.unit
        feed = words.get("F")
        if feed is not None and feed > 0.0:
            self.feed = feed * unit / 60.0
        ends = []
        for letter, now, rel in (("X", self.x, self.rel), ("Y", self.y, self.rel), ("Z", self.z, self.rel),
                                 ("E", self.e, self.rel_e)):
            value = words.get(letter)
            ends.append(now if value is None else value * unit + rel * now)
        return tuple(ends)

    # -- everything else ---------------------------------------------------------------------
    def command(self, line: str) -> None:
        """Carry out one line that the fast scanner left alone."""
        words = words_of(line)
        if not words or words[0][1] is None or words[0][0] not in "GMT":
            return
        letter, number = words[0]
        if not math.isfinite(number) or number < 0:
            return
        code = letter + (str(int(number)) if number == int(number) else repr(number))
        args = dict(words[1:])
        handler = _HANDLERS.get(code)
        if handler is not None:
            handler(self, args)
        elif letter == "T":
            self.change_tool(int(number))
        else:
            changed = limits.updated(self.limits, code, args)
            if changed is not None:
                self.limits = changed
                self.events.append((self.block_count(), changed))
        if code in STOPS:
            self.stop()

    def change_tool(self, tool: int) -> None:
        self.stop()
        if tool != self.tool:
            self.tools[self.tool] = (self.cum, self.maxe)
            self.cum, self.maxe = self.tools.pop(tool, (0.0, 0.0))
            self.tool = tool

    def extrusion(self) -> dict:
        """Tool -> filament pushed through it (mm): the highest net extrusion reached."""
        totals = {tool: peak for tool, (_, peak) in self.tools.items()}
        totals[self.tool] = self.maxe
        return totals

    def _line(self, args):
        self.move_to(*self.target(args))

    def _arc(self, args, clockwise):
        end = self.target(args)
        arc = arcs.Arc.from_words((self.x, self.y), end, args, clockwise, self.unit)
        if arc is None:  # no centre can be made of it: the firmware would refuse it; go straight
            self.move_to(*end)
            return
        extruding = (end[3] - self.e) * self.flow > 0.0
        for point in arc.extremes():
            self._record("t", point + (self.z,))
            if extruding:
                self._record("p", point + (self.z,))
        count, scale = arc.cut(end[2] - self.z, MIN_ARC_SEGMENT)
        for nx, ny, nz, ne in arc.points(self.z, self.e, end, count):
            self.move_to(nx, ny, nz, ne, scale)

    def _dwell(self, args):
        seconds = args.get("S")
        millis = args.get("P")
        if seconds is not None:
            self.dwell += max(seconds, 0.0)
        elif millis is not None:
            self.dwell += max(millis, 0.0) / 1000.0

    def _home(self, args):
        axes = [a for a in "XYZ" if a in args] or ["X", "Y", "Z"]
        for axis in axes:
            setattr(self, axis.lower(), 0.0)
        self.pcont = self.tcont = 0.0

    def _set_position(self, args):
        for axis in "XYZE":
            value = args.get(axis)
            if value is not None:
                setattr(self, axis.lower(), value * self.unit)
                if axis != "E":
                    self.pcont = self.tcont = 0.0

    def _firmware_retract(self, args, retract):
        state = self.retract
        if state["done"] == retract:
            return  # Marlin ignores a second G10 before G11, and a G11 without G10
        state["done"] = retract
        delta = -state["length"] if retract else state["length"] + state["extra"]
        feed, self.feed = self.feed, state["feed" if retract else "recover"]
        self.move_to(self.x, self.y, self.z, self.e + delta)
        self.feed = feed
        self.e -= delta  # the G-code's own E coordinate does not see firmware retraction

    def _retract_settings(self, args, key_length, key_feed):
        if args.get("S") is not None and args["S"] >= 0:
            self.retract[key_length] = args["S"] * self.unit
        if args.get("F") is not None and args["F"] > 0:
            self.retract[key_feed] = args["F"] * self.unit / 60.0

    def _positioning(self, relative: bool):
        """G90/G91: every axis; G90 leaves E relative under M83."""
        self.rel = 1.0 if relative else 0.0
        self.rel_e = 1.0 if relative else self.m83

    def _extrusion_mode(self, relative: bool):
        """M82/M83: E alone; under G91 E stays relative (Marlin 1.1, PrusaSlicer, OctoPrint)."""
        self.m83 = 1.0 if relative else 0.0
        self.rel_e = 1.0 if relative else self.rel

    def _percent(self, args, name):
        value = args.get("S")
        if value is not None and value > 0 and "T" not in args:
            setattr(self, name, value / 100.0)


def _set(name, value):
    return lambda machine, args: setattr(machine, name, value)


_HANDLERS = {
    "G0": Machine._line, "G1": Machine._line,
    "G2": lambda m, a: m._arc(a, True), "G3": lambda m, a: m._arc(a, False),
    "G4": Machine._dwell,
    "G10": lambda m, a: m._firmware_retract(a, True), "G11": lambda m, a: m._firmware_retract(a, False),
    "G20": _set("unit", INCH), "G21": _set("unit", 1.0), "G28": Machine._home,
    "G90": lambda m, a: m._positioning(False), "G91": lambda m, a: m._positioning(True),
    "G92": Machine._set_position,
    "M82": lambda m, a: m._extrusion_mode(False), "M83": lambda m, a: m._extrusion_mode(True),
    "M207": lambda m, a: m._retract_settings(a, "length", "feed"),
    "M208": lambda m, a: m._retract_settings(a, "extra", "recover"),
    "M220": lambda m, a: m._percent(a, "speed_factor"),
    "M221": lambda m, a: m._percent(a, "flow"),
}
