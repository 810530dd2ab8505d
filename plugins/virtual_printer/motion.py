"""Where the toolhead is: moves, homing, positioning modes, speed and flow factors, M114."""
from .gcode import number, params

AXES = "XYZE"
STEPS_PER_MM = {"X": 80, "Y": 80, "Z": 400}


class Motion:
    """Logical position and modes; moves take no time unless the options say so."""

    def __init__(self):
        self.position = dict.fromkeys(AXES, 0.0)
        self.relative = False
        self.relative_e = False
        self.feedrate = 1500.0
        self.speed_factor = 100
        self.flow_factor = 100

    def move(self, values: dict):
        position = self.position
        for axis in AXES:
            value = values.get(axis)
            if value is None:
                continue
            relative = self.relative_e if axis == "E" else self.relative
            position[axis] = position[axis] + value if relative else value
        if values.get("F"):
            self.feedrate = values["F"]

    def report(self) -> str:
        p = self.position
        counts = " ".join(f"{axis}:{round(p[axis] * STEPS_PER_MM[axis])}" for axis in "XYZ")
        return f"X:{p['X']:.2f} Y:{p['Y']:.2f} Z:{p['Z']:.2f} E:{p['E']:.2f} Count {counts}"


def g0_g1(fw, args):
    fw.motion.move(params(args))
    move_time = fw.options.move_time
    if move_time > 0:
        # A full planner: the firmware stops reading until this move has made room.
        fw.quickstop = False
        fw.wait(move_time, lambda: fw.quickstop)


def g28(fw, args):
    values = params(args)
    axes = [axis for axis in "XYZ" if axis in values] or list("XYZ")
    if fw.options.home_time > 0:
        fw.quickstop = False
        with fw.reports.busy():
            fw.wait(fw.options.home_time, lambda: fw.quickstop)
    for axis in axes:
        fw.motion.position[axis] = 0.0


def g90(fw, args):
    fw.motion.relative = False
    fw.motion.relative_e = False


def g91(fw, args):
    fw.motion.relative = True
    fw.motion.relative_e = True


def m82(fw, args):
    fw.motion.relative_e = False


def m83(fw, args):
    fw.motion.relative_e = True


def g92(fw, args):
    values = params(args)
    given = {axis: value for axis, value in values.items() if axis in AXES}
    for axis in given or AXES:
        fw.motion.position[axis] = given.get(axis) or 0.0


def m114(fw, args):
    fw.out.emit(fw.motion.report())


def m220(fw, args):
    values = params(args)
    if values.get("S") is None:
        fw.out.emit(f"echo:FR:{fw.motion.speed_factor}%")
    else:
        fw.motion.speed_factor = int(values["S"])


def m221(fw, args):
    values = params(args)
    if values.get("S") is None:
        fw.out.emit(f"echo:E0 Flow: {fw.motion.flow_factor}%")
    else:
        fw.motion.flow_factor = int(number(values, "S"))


HANDLERS = {
    "G0": g0_g1, "G1": g0_g1, "G2": g0_g1, "G3": g0_g1, "G28": g28, "G90": g90, "G91": g91,
    "G92": g92, "M82": m82, "M83": m83, "M114": m114, "M220": m220, "M221": m221,
}
