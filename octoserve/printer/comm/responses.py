"""Every firmware reply as a named pattern: `classify(line)` turns one received line into one typed message."""
import enum
import re
from dataclasses import dataclass
from datetime import UTC, datetime

_message = dataclass(frozen=True, slots=True)


class ErrorKind(enum.Enum):
    """What an error line means for the host; see `error_kind` for the texts behind each."""
    COMM_RESEND = "comm_resend"  # a line was lost or corrupted; a Resend follows
    COMM_NO_RESEND = "comm_no_resend"  # Marlin 1.0: no Resend follows, the host must fake an ok
    SD = "sd"  # card or file trouble; the printer itself is fine
    UNKNOWN_COMMAND = "unknown_command"
    FATAL = "fatal"  # the firmware has stopped or killed itself; nothing more will be executed
    OTHER = "other"


# What an SD card line reports (Marlin texts, plus Prusa's); `SdMessage.fields` holds, by kind:
# DIR_ENTER path, long_name; FRESH_FILE, OPEN_FAILED, WRITING_FILE, DELETE_FAILED name; FILE_OPENED
# name, size; CURRENT_FILE name, long_name (none for "(no file)"); PRINTING_BYTE position, total;
# FILE_DELETED name, plus glued_ok=True when Marlin 1.0.x stuck M30's `ok` onto the line.
SdKind = enum.Enum("SdKind", """CARD_OK CARD_RELEASED CARD_INIT_FAILED NO_CARD FILE_LIST_BEGIN FILE_LIST_END
    DIR_ENTER DIR_EXIT FRESH_FILE FILE_OPENED FILE_SELECTED OPEN_FAILED CURRENT_FILE PRINTING_BYTE NOT_PRINTING
    PAUSED DONE_PRINTING WRITING_FILE DONE_SAVING FILE_DELETED DELETE_FAILED""")


@_message
class Position:
    """M114 (or M154 auto-report): the first X/Y/Z, and E or the run of E0, E1, ... before `Count`."""
    x: float
    y: float
    z: float
    e: float | None = None
    extruders: tuple = ()

@_message
class Ok:
    """An acknowledgement, with whatever the firmware put on the same line."""
    line_number: int | None = None
    planner_free: int | None = None
    buffer_free: int | None = None
    temperatures: dict | None = None
    firmware: dict | None = None
    position: Position | None = None  # OctoPrint's virtual printer answers M114 on the ok line

@_message
class Wait:
    """`wait`: the firmware's queue is empty; an ok was probably lost if the host is waiting for one."""

@_message
class Start:
    """`start`: the firmware (re)booted; line numbers and all firmware state are gone."""

@_message
class Resend:
    line_number: int

@_message
class Busy:
    reason: str

@_message
class Error:
    """An `Error:`, `fatal:` or `!!` line, its prefix removed.

    Marlin 1.0 prints the heater index alone (`Error:0`), the reason on the next line after a `:`.
    While `awaits_continuation`, hold the error: if the next line starts with `:` pass both to
    `join_error`, otherwise act on the error as is and classify the next line normally."""
    text: str
    kind: ErrorKind

    @property
    def awaits_continuation(self) -> bool:
        return self.text.isdecimal()

@_message
class Temperatures:
    """A temperature report without an ok (M155 auto-report, M109/M190 wait lines)."""
    readings: dict

@_message
class TargetTemperature:
    """Repetier's separate target report (`TargetExtr0:200`, `TargetBed:60`)."""
    heater: str
    target: float

@_message
class FirmwareInfo:
    fields: dict

    @property
    def name(self) -> str | None:
        return self.fields.get("FIRMWARE_NAME") or self.fields.get("NAME")

@_message
class Capability:
    name: str
    enabled: bool

@_message
class Action:
    name: str
    argument: str

@_message
class SdMessage:
    kind: SdKind
    fields: dict

@_message
class Echo:
    """Informational text (`echo:` removed); `unknown_command` is set when the firmware rejected one."""
    text: str
    unknown_command: str | None = None

@_message
class Comment:
    """A `//` line that is not an action (Klipper's `// Klipper state: Ready`), `//` removed."""
    text: str
    unknown_command: str | None = None

@_message
class Unknown:
    text: str


Message = (Ok | Wait | Start | Resend | Busy | Error | Temperatures | TargetTemperature | FirmwareInfo
           | Capability | Action | SdMessage | Position | Echo | Comment | Unknown)

_PLAIN_OK, _WAIT, _START = Ok(), Wait(), Start()
_NUMBER = r"-?(?:\d+\.?\d*|\.\d+)"
_ADVANCED_OK = re.compile(r"ok(?: N(\d+))? P(\d+) B(\d+)")
_RESEND = re.compile(r"(?:resend|rs)[:\s]*(?:N:?\s*)?(\d+)", re.IGNORECASE)
_TEMPERATURE = re.compile(rf"(?<!\S)([A-Za-z][A-Za-z0-9_]*):\s*({_NUMBER})(?:\s*/\s*({_NUMBER}))?")
_TARGET = re.compile(rf"Target(?:Extr(\d+)|(Bed)|(Chamber)):\s*({_NUMBER})")
_AXIS = re.compile(rf"(?<!\S)([XYZ]|E\d*):\s*({_NUMBER})")
_FIRMWARE_KEY = re.compile(r"(?<!\S)([A-Z][A-Z0-9_-]*):")
_UNKNOWN_COMMAND = re.compile(r'unknown (?:command|[gmt] code):?\s*"?([^"\s]*)', re.IGNORECASE)
_HEATER_NAMES = {"B": "bed", "C": "chamber"}

# Checked in order on the lower-cased text; the first substring found decides the kind.
_ERROR_KINDS = (
    (ErrorKind.FATAL, ("kill() called", "printer halted", "thermal runaway", "thermal malfunction",
                       "maxtemp", "mintemp", "heating failed", "printer stopped due to errors",
                       "kill caused by", "watchdog barked", "invalid extruder number")),
    (ErrorKind.COMM_NO_RESEND, ("no line number with checksum", "missing linenumber")),
    (ErrorKind.COMM_RESEND, ("line number", "linenumber", "checksum", "format error", "expected line")),
    (ErrorKind.SD, ("volume.init", "openroot", "workdir", "error writing to file", "cannot open",
                    "open failed", "cannot enter")),
    (ErrorKind.UNKNOWN_COMMAND, ("unknown command",)),
)


def classify(line: str, current_tool: int = 0) -> Message:
    """The typed message for one received line; `current_tool` is where a bare `T:` reading goes."""
    if line == "ok":
        return _PLAIN_OK
    text = line.strip()
    if text.startswith("ok") and (len(text) == 2 or text[2] in " \t"):
        return _classify_ok(text, current_tool)
    head = text[:7].lower()
    if head.startswith("echo:"):
        return _classify_echo(text[5:].strip())
    if head.startswith("error:"):
        body = text[6:].strip()
        return Error(body, error_kind(body))
    if head.startswith(("resend", "rs")) and (match := _RESEND.match(text)):
        return Resend(int(match.group(1)))
    return _classify_rest(text, head, current_tool)


def _classify_ok(line: str, current_tool: int) -> Ok:
    if match := _ADVANCED_OK.fullmatch(line):
        number = match.group(1)
        return Ok(int(number) if number else None, int(match.group(2)), int(match.group(3)))
    rest = line[2:].strip()
    if rest.isdecimal():  # Repetier acks with the line number
        return Ok(line_number=int(rest))
    if "FIRMWARE_NAME" in rest:  # Klipper (and Smoothieware) answer M115 on the ok line
        return Ok(firmware=parse_firmware_info(rest))
    if rest.startswith(("X:", "C: X:")) and (position := parse_position(rest)):  # "C:" Smoothieware
        return Ok(position=position)
    if _looks_like_temperatures(rest):
        return Ok(temperatures=parse_temperatures(rest, current_tool))
    return _PLAIN_OK


def _classify_rest(text: str, head: str, current_tool: int) -> Message:
    if text == "wait":
        return _WAIT
    if text == "start":
        return _START
    if head.startswith("busy"):
        return Busy(text[4:].lstrip(": \t"))
    if text.startswith("!!"):  # RepRap convention, and Klipper's for every error
        return Error(text[2:].strip(), ErrorKind.FATAL)
    if head.startswith("fatal:"):  # Repetier
        return Error(text[6:].strip(), ErrorKind.FATAL)
    if text.startswith("//"):
        return _classify_comment(text[2:].lstrip())
    if head.startswith("cap:") and ":" in text[4:]:
        name, _, value = text[4:].rpartition(":")
        return Capability(name.strip().upper(), value.strip() == "1")
    if text.startswith("X:") and (position := parse_position(text)):
        return position
    if "FIRMWARE_NAME" in text or text.startswith(("NAME:", "NAME.")):
        return FirmwareInfo(parse_firmware_info(text))
    if _looks_like_temperatures(text):
        readings = parse_temperatures(text, current_tool)
        return Temperatures(readings) if readings else Unknown(text)
    if text.startswith("Target") and (match := _TARGET.match(text)):
        extruder, bed, _, value = match.groups()
        return TargetTemperature(f"tool{extruder}" if extruder else "bed" if bed else "chamber", float(value))
    if (sd := _sd_message(text)) is not None:
        return sd
    if head.startswith("unknown"):  # Prusa prints `Unknown M code: ...` without `echo:`
        return Echo(text, unknown_command(text))
    return Unknown(text)


def _classify_echo(body: str) -> Message:
    if body[:4].lower() == "busy":
        return Busy(body[4:].lstrip(": \t"))
    return _sd_message(body) or Echo(body, unknown_command(body))


def _classify_comment(body: str) -> Message:
    if body.startswith("action:"):
        name, _, argument = body[7:].strip().partition(" ")
        return Action(name, argument.strip())
    return Comment(body, unknown_command(body))


def unknown_command(text: str) -> str | None:
    """The command named by an "Unknown command" text (Marlin, Klipper, Prusa), else None."""
    match = _UNKNOWN_COMMAND.search(text)
    return match.group(1) if match else None


def error_kind(text: str) -> ErrorKind:
    """What an error text (prefix removed) means; substrings as OctoPrint and the firmwares use them."""
    lower = text.lower()
    for kind, needles in _ERROR_KINDS:
        if any(needle in lower for needle in needles):
            return kind
    return ErrorKind.OTHER


def join_error(first: Error, continuation: str) -> Error:
    """Marlin 1.0's split error (`Error:0` + `: Extruder switched off. MAXTEMP triggered !`) as one."""
    text = first.text + continuation.strip()
    return Error(text, error_kind(text))


def _looks_like_temperatures(text: str) -> bool:
    if text.startswith(("T:", "T0:")) or " T:" in text or " T0:" in text:
        return True
    # The M114 `Count A: B: C:` of deltas and CoreXY carries a ` B:` that is not a bed.
    return (text.startswith("B:") or " B:" in text) and "A:" not in text


def parse_temperatures(line: str, current_tool: int = 0) -> dict[str, tuple[float, float | None]]:
    """Readings by heater: `tool<n>`, `bed`, `chamber`, other sensors under their key as sent (`P`, `A`).

    The first occurrence of a key wins. A bare `T:` is the current tool, unless numbered tools are
    also present without `T0` (Smoothieware), when it is tool 0; with `T0` present it only fills
    the current tool if that is missing. Old Marlin/Prusa M109 lines (`T:150.2 E:1 W:?`) name the
    heating tool in `E:`, which then overrides `current_tool`. Power (`@:`, `B@:`, Smoothieware's
    `@0`) and countdown (`W:`) tokens are skipped.
    """
    found = {}
    for key, actual, target in _TEMPERATURE.findall(line):
        if key not in found and key != "W":  # W: is Marlin's M109 residency countdown
            found[key] = (float(actual), float(target) if target else None)
    plain = found.pop("T", None)
    active = found.pop("E", None)
    if active is not None and active[0].is_integer():
        current_tool = int(active[0])
    readings = {}
    numbered = False
    for key, value in found.items():
        if key[0] == "T" and key[1:].isdecimal():
            numbered = True
            readings[f"tool{int(key[1:])}"] = value
        else:
            readings[_HEATER_NAMES.get(key, key)] = value
    if plain is not None:
        tool = 0 if numbered and "T0" not in found else current_tool
        readings.setdefault(f"tool{tool}", plain)
    return readings


def parse_position(line: str) -> Position | None:
    """The position of an M114 reply, or None when X, Y or Z is missing; the `Count` part is ignored."""
    values = {}
    extruders = []
    for key, value in _AXIS.findall(line.split("Count", 1)[0]):
        if key not in values:
            values[key] = float(value)
            if key[0] == "E":
                extruders.append(values[key])
    if not values.keys() >= {"X", "Y", "Z"}:
        return None
    return Position(values["X"], values["Y"], values["Z"], extruders[0] if extruders else None, tuple(extruders))


def parse_firmware_info(line: str) -> dict[str, str]:
    """M115 fields: cut at each upper-case `KEY:` at the start or after whitespace; values may hold spaces.

    Handles RepRapFirmware's space after the colon, Smoothieware's trailing commas and
    the `NAME. Malyan` spelling of Malyan's M200/M300 firmware (the version is in its VER field).
    """
    if line.startswith("NAME."):
        line = "NAME:" + line[5:]
    keys = list(_FIRMWARE_KEY.finditer(line))
    fields = {}
    for index, key in enumerate(keys):
        end = keys[index + 1].start() if index + 1 < len(keys) else len(line)
        fields.setdefault(key.group(1), line[key.end() : end].strip().rstrip(",").rstrip())
    return fields


# (lower-case prefix, kind, pattern the rest of the line must fully match or None).
_SD_LINES = tuple((prefix, kind, re.compile(pattern) if pattern else None) for prefix, kind, pattern in (
    ("sd card ok", SdKind.CARD_OK, None), ("card successfully initialized", SdKind.CARD_OK, None),
    ("sd card released", SdKind.CARD_RELEASED, None), ("sd card unmounted", SdKind.CARD_RELEASED, None),
    ("sd init fail", SdKind.CARD_INIT_FAILED, None),
    ("no sd card", SdKind.NO_CARD, None), ("no media", SdKind.NO_CARD, None),
    ("begin file list", SdKind.FILE_LIST_BEGIN, None), ("end file list", SdKind.FILE_LIST_END, None),
    ("dir_enter:", SdKind.DIR_ENTER, r'\s*(?P<path>\S+)(?:\s+"?(?P<long_name>.*?)"?)?'),
    ("dir_exit", SdKind.DIR_EXIT, None),
    ("now fresh file:", SdKind.FRESH_FILE, r"\s*(?P<name>.*)"),
    ("file opened:", SdKind.FILE_OPENED, r"\s*(?P<name>.*?)\s+Size:\s*(?P<size>\d+)"),
    ("file selected", SdKind.FILE_SELECTED, None),
    ("open failed, file:", SdKind.OPEN_FAILED, r"\s*(?P<name>.*?)\.?"),
    ("current file:", SdKind.CURRENT_FILE, r"\s*(?:\(no file\)|(?P<name>\S+)(?:\s+(?P<long_name>.+))?)?"),
    ("sd printing byte", SdKind.PRINTING_BYTE, r"\s*(?P<position>\d+)/(?P<total>\d+)"),
    ("not sd printing", SdKind.NOT_PRINTING, None),
    ("sd print paused", SdKind.PAUSED, None),
    ("done printing file", SdKind.DONE_PRINTING, None),
    ("writing to file:", SdKind.WRITING_FILE, r"\s*(?P<name>.*)"),
    ("done saving file", SdKind.DONE_SAVING, None),
    # Marlin 1.0.x printed M30's ok on the same line: `File deleted:x.gcook`.
    ("file deleted:", SdKind.FILE_DELETED, r"\s*(?P<name>.*?)(?P<glued_ok>(?<=\.\w{3})ok|(?<=\.gcode)ok)?"),
    ("deletion failed, file:", SdKind.DELETE_FAILED, r"\s*(?P<name>.*?)\.?"),
))
_SD_NUMBERS = frozenset({"size", "position", "total"})


def _sd_message(text: str) -> SdMessage | None:
    lower = text.lower()
    for prefix, kind, pattern in _SD_LINES:
        if not lower.startswith(prefix):
            continue
        match = pattern.fullmatch(text, len(prefix)) if pattern else None
        if match is None:
            return SdMessage(kind, {})
        fields = {key: int(value) if key in _SD_NUMBERS else value
                  for key, value in match.groupdict().items() if value is not None}
        if "glued_ok" in fields:
            fields["glued_ok"] = True
        return SdMessage(kind, fields)
    return None


def parse_file_list_entry(line: str) -> tuple[str, int, int | None, str | None] | None:
    """`(name, size, timestamp, long_name)` of an M20 line between Begin and End file list, else None.

    Reads `NAME.GCO 123`, `M20 T`'s `0x<FAT date/time>` (as a POSIX timestamp read as UTC; None if
    invalid), `M20 L`'s long name (quotes removed) and both; the name keeps its directory.
    """
    parts = line.strip().split(None, 2)
    if len(parts) < 2 or not parts[1].isdecimal():
        return None
    rest = parts[2] if len(parts) == 3 else ""
    timestamp = None
    if rest[:2].lower() == "0x":
        stamp, _, after = rest.partition(" ")
        try:
            timestamp = fat_timestamp(int(stamp, 16))
            rest = after
        except ValueError:
            pass  # not a stamp after all: a long name that starts with 0x
    return parts[0], int(parts[1]), timestamp, rest.strip().strip('"') or None


def fat_timestamp(value: int) -> int | None:
    """A FAT date/time (date in the high 16 bits, time in the low) as a POSIX timestamp, None if invalid."""
    date, time = value >> 16, value & 0xFFFF
    try:
        return int(datetime(1980 + (date >> 9), (date >> 5) & 0xF, date & 0x1F, time >> 11, (time >> 5) & 0x3F,
                            (time & 0x1F) * 2, tzinfo=UTC).timestamp())
    except ValueError:
        return None
