"""Handlers of the non-motion, non-SD commands: temperatures, info, messages, modes, emergencies."""
import time

from .gcode import NO_ACK, number, params

TEMP_WINDOW = 1.0
CAPABILITIES = [
    ("SERIAL_XON_XOFF", 0), ("BINARY_FILE_TRANSFER", 0), ("EEPROM", 0), ("VOLUMETRIC", 1),
    ("AUTOREPORT_POS", 0), ("AUTOREPORT_TEMP", 1), ("PROGRESS", 0), ("PRINT_JOB", 1),
    ("AUTOLEVEL", 0), ("RUNOUT", 0), ("Z_PROBE", 0), ("LEVELING_DATA", 0), ("BUILD_PERCENT", 0),
    ("SOFTWARE_POWER", 0), ("TOGGLE_LIGHTS", 0), ("CASE_LIGHT_BRIGHTNESS", 0),
    ("EMERGENCY_PARSER", 1), ("HOST_ACTION_COMMANDS", 1), ("PROMPT_SUPPORT", 0), ("SDCARD", 1),
    ("MULTI_VOLUME", 0), ("REPEAT", 0), ("SD_WRITE", 1), ("AUTOREPORT_SD_STATUS", 1),
    ("LONG_FILENAME", 1), ("LFN_WRITE", 1), ("CUSTOM_FIRMWARE_UPLOAD", 0), ("EXTENDED_M20", 1),
    ("THERMAL_PROTECTION", 1), ("MOTION_MODES", 0), ("ARCS", 1), ("BABYSTEPPING", 0),
    ("EP_BABYSTEP", 0), ("CHAMBER_TEMPERATURE", 0), ("COOLER_TEMPERATURE", 0), ("MEATPACK", 0),
    ("CONFIG_EXPORT", 0), ("BUSY_PROTOCOL", 1),
]
# Commands a stock Marlin knows and simply acknowledges here (fans, steppers, settings, timers).
QUIET = ["G20", "G21", "G29", "M17", "M18", "M73", "M75", "M76", "M77", "M80", "M81", "M84",
         "M92", "M106", "M107", "M201", "M203", "M204", "M205", "M206", "M300", "M420", "M500",
         "M501", "M502", "M503", "M851", "M900"]


def capabilities(fw) -> list:
    options = fw.options
    caps = dict(CAPABILITIES)
    caps["EMERGENCY_PARSER"] = int(options.emergency_parser)
    caps["CHAMBER_TEMPERATURE"] = int(options.has_chamber)
    caps.update(options.capabilities)
    return [f"Cap:{name}:{int(value)}" for name, value in caps.items()]


def m115(fw, args):
    options = fw.options
    fw.out.emit(
        f"FIRMWARE_NAME:{options.firmware_name} SOURCE_CODE_URL:github.com/MarlinFirmware/Marlin "
        f"PROTOCOL_VERSION:1.0 MACHINE_TYPE:{options.machine_type} KINEMATICS:Cartesian "
        f"EXTRUDER_COUNT:1 UUID:{options.uuid}")
    for line in capabilities(fw):
        fw.out.emit(line)


def m105(fw, args):
    fw.ack(text=fw.thermals.report())
    return NO_ACK


def m155(fw, args):
    fw.reports.set_temp_interval(int(number(params(args), "S", 0)))


def set_target(heater_of):
    def handler(fw, args):
        heater = heater_of(fw)
        if heater is None:
            return fw.unknown()
        values = params(args)
        if values.get("S") is not None:
            heater.target = values["S"]
    return handler


def wait_target(heater_of):
    def handler(fw, args):
        heater = heater_of(fw)
        if heater is None:
            return fw.unknown()
        values = params(args)
        heating_only = values.get("S") is not None
        target = values.get("S") if heating_only else values.get("R")
        if target is None:
            return None
        heater.target = target
        if heater.target > 0 and not (heating_only and heater.actual > heater.target):
            wait_for_heater(fw, heater)
    return handler


def wait_for_heater(fw, heater):
    """M109/M190: report once a second with W: (residency countdown, ? before the window)."""
    fw.wait_broken = False
    residency = fw.options.temp_residency / max(fw.options.heat_speed, 1e-9)
    reached_at = None
    next_report = time.monotonic()
    with fw.reports.busy():
        while not fw.wait_broken:
            now = time.monotonic()
            if reached_at is None and abs(heater.actual - heater.target) <= TEMP_WINDOW:
                reached_at = now
            done = reached_at is not None and now - reached_at >= residency
            if now >= next_report or done:
                left = "?" if reached_at is None else str(max(0, int(residency - (now - reached_at))))
                fw.out.emit(f"{fw.thermals.report()} W:{left}")
                next_report = now + 1.0
            if done:
                return
            fw.wait(min(0.02, max(0.0, next_report - now)), lambda: fw.wait_broken)


def m113(fw, args):
    values = params(args)
    if values.get("S") is None:
        fw.out.emit(f"echo:M113 S{fw.reports.keepalive}")
    else:
        fw.reports.set_keepalive(min(60, max(0, int(values["S"]))))


def m117(fw, args):
    fw.out.emit(f"echo:{args.strip()}")


def m118(fw, args):
    """M118 [A1] [E1] [Pn] text: A1 prefixes '//' (action commands), E1 prefixes 'echo:'."""
    prefix = ""
    words = args.split(" ")
    while words and words[0][:1] in ("A", "E", "P") and words[0][1:].isdigit():
        flag = words.pop(0)
        if flag == "A1":
            prefix = "//"
        elif flag == "E1":
            prefix = "echo:"
    fw.out.emit(prefix + " ".join(words))


def m110(fw, args):
    values = params(args)
    if values.get("N") is not None:
        fw.last_n = int(values["N"])
    else:
        fw.out.emit(f"Line: {fw.last_n}")


def m112(fw, args):
    fw.emergency(b"M112")


def m108(fw, args):
    # With the emergency parser this already happened on arrival; from the queue it can only
    # reach a wait that has not started, which resets the flag, so it is harmless either way.
    fw.wait_broken = True


def m410(fw, args):
    fw.quickstop = True


def m999(fw, args):
    if params(args).get("S") is None:
        fw.resend()


def g4(fw, args):
    values = params(args)
    seconds = number(values, "S", 0.0) or number(values, "P", 0.0) / 1000.0
    with fw.reports.busy():
        fw.wait(seconds)


def m400(fw, args):
    """Moves run synchronously here, so the planner is always drained when M400 is read."""


def tool_change(fw, args):
    tool = int(args or 0)
    if tool != 0:
        fw.out.emit(f"echo:T{tool} Invalid extruder")


def quiet(fw, args):
    """Known to Marlin, no effect on anything simulated."""


HANDLERS = {
    "M104": set_target(lambda fw: fw.thermals.hotend),
    "M140": set_target(lambda fw: fw.thermals.bed),
    "M141": set_target(lambda fw: fw.thermals.chamber),
    "M109": wait_target(lambda fw: fw.thermals.hotend),
    "M190": wait_target(lambda fw: fw.thermals.bed),
    "M191": wait_target(lambda fw: fw.thermals.chamber),
    "M105": m105, "M155": m155, "M115": m115, "M113": m113, "M117": m117, "M118": m118,
    "M110": m110, "M112": m112, "M108": m108, "M410": m410, "M999": m999, "M400": m400,
    "G4": g4, "T": tool_change,
    **{code: quiet for code in QUIET},
}
