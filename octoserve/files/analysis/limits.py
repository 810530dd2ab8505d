"""The firmware's motion limits: defaults, the printer profile's axis speeds, and M201/M203/M204/M205."""

# The limits travel as one flat tuple (the C planner reads the same layout); these are its indices.
FIELDS = (
    "feed_x", "feed_y", "feed_z", "feed_e",        # M203: maximum feed rate per axis, mm/s
    "accel_x", "accel_y", "accel_z", "accel_e",    # M201: maximum acceleration per axis, mm/s²
    "accel_print", "accel_retract", "accel_travel",  # M204 P, R, T
    "jerk_x", "jerk_y", "jerk_z", "jerk_e",        # M205 X Y Z E: classic jerk, mm/s
    "min_feed", "min_travel",                      # M205 S, T: minimum feed rates, mm/s
)
INDEX = {name: i for i, name in enumerate(FIELDS)}

# Marlin's example configuration, for whatever the file and the profile do not say.
MARLIN_DEFAULTS = {
    "feed_x": 300.0, "feed_y": 300.0, "feed_z": 5.0, "feed_e": 25.0,
    "accel_x": 3000.0, "accel_y": 3000.0, "accel_z": 100.0, "accel_e": 10000.0,
    "accel_print": 3000.0, "accel_retract": 3000.0, "accel_travel": 3000.0,
    "jerk_x": 10.0, "jerk_y": 10.0, "jerk_z": 0.3, "jerk_e": 5.0,
    "min_feed": 0.0, "min_travel": 0.0,
}

# The axis speeds (mm/min) of octoserve's default printer profile, used when no profile is given.
# A copy: octoserve.files may not import octoserve.printer (see docs/architecture.rst).
PROFILE_AXIS_SPEEDS = {"x": 6000, "y": 6000, "z": 200, "e": 300}

# M-code letter -> limit field, per command.
_M201 = {"X": "accel_x", "Y": "accel_y", "Z": "accel_z", "E": "accel_e"}
_M203 = {"X": "feed_x", "Y": "feed_y", "Z": "feed_z", "E": "feed_e"}
_M204 = {"P": ("accel_print",), "R": ("accel_retract",), "T": ("accel_travel",),
         # S is the legacy form: it sets printing and travel acceleration alike.
         "S": ("accel_print", "accel_travel")}
_M205 = {"X": "jerk_x", "Y": "jerk_y", "Z": "jerk_z", "E": "jerk_e", "S": "min_feed", "T": "min_travel"}
# Limits that must stay positive: a zero acceleration or feed cap would stall the planner.
_POSITIVE = {name for name in FIELDS if name.startswith(("feed_", "accel_"))}


def initial(profile: dict | None) -> tuple:
    """The limits in force before the file says anything: Marlin's defaults, the profile's axis speeds as feed caps."""
    values = dict(MARLIN_DEFAULTS)
    axes = (profile or {}).get("axes") or {}
    for axis, default in PROFILE_AXIS_SPEEDS.items():
        speed = (axes.get(axis) or {}).get("speed", default)
        if isinstance(speed, (int, float)) and not isinstance(speed, bool) and speed > 0:
            values[f"feed_{axis}"] = speed / 60.0
    return tuple(values[name] for name in FIELDS)


def updated(limits: tuple, code: str, words: dict) -> tuple | None:
    """The limits after M201/M203/M204/M205 with these words, or None if the command changes none."""
    table = {"M201": _M201, "M203": _M203, "M204": _M204, "M205": _M205}.get(code)
    if table is None:
        return None
    values = list(limits)
    changed = False
    for letter, value in words.items():
        targets = table.get(letter)
        if targets is None or value is None or value < 0 or (value == 0 and _positive(targets)):
            continue
        for name in (targets,) if isinstance(targets, str) else targets:
            values[INDEX[name]] = float(value)
            changed = True
    return tuple(values) if changed else None


def _positive(targets) -> bool:
    return any(name in _POSITIVE for name in ((targets,) if isinstance(targets, str) else targets))
