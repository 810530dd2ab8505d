"""classify() and the parsers of responses.py, case by case and over the firmware transcripts."""
import dataclasses
import typing

import pytest
from hypothesis import given
from hypothesis import strategies as st

from octoserve.printer.comm import responses as r
from octoserve.printer.comm.responses import (
    Action,
    Busy,
    Capability,
    Comment,
    Echo,
    Error,
    ErrorKind,
    FirmwareInfo,
    Ok,
    Position,
    Resend,
    SdKind,
    SdMessage,
    Start,
    TargetTemperature,
    Temperatures,
    Unknown,
    Wait,
    classify,
    error_kind,
    fat_timestamp,
    join_error,
    parse_file_list_entry,
    parse_firmware_info,
    parse_position,
    parse_temperatures,
)
from tests.printer.comm import transcripts

MESSAGE_TYPES = typing.get_args(r.Message)


# --- acknowledgements ---------------------------------------------------------------------------

@pytest.mark.parametrize("line, expected", [
    ("ok", Ok()),
    (" ok", Ok()),
    ("ok ", Ok()),
    ("ok N12 P15 B3", Ok(line_number=12, planner_free=15, buffer_free=3)),
    ("ok P15 B3", Ok(planner_free=15, buffer_free=3)),
    ("ok N1499 P0 B0", Ok(line_number=1499, planner_free=0, buffer_free=0)),
    ("ok 12", Ok(line_number=12)),
    ("ok T:210.0 /210.0 B:60 /60 @:0 B@:0", Ok(temperatures={"tool0": (210.0, 210.0), "bed": (60.0, 60.0)})),
    ("ok T:0", Ok(temperatures={"tool0": (0.0, None)})),
    ("ok FIRMWARE_NAME:Klipper FIRMWARE_VERSION:v0.12.0",
     Ok(firmware={"FIRMWARE_NAME": "Klipper", "FIRMWARE_VERSION": "v0.12.0"})),
    ("ok X:1.00 Y:2.00 Z:3.00 E:4.00 Count: A:0 B:0 C:0", Ok(position=Position(1.0, 2.0, 3.0, 4.0, (4.0,)))),
    ("ok C: X:10.0000 Y:20.0000 Z:0.3000 E:1.2000", Ok(position=Position(10.0, 20.0, 0.3, 1.2, (1.2,)))),
    ("ok some text nobody knows", Ok()),
])
def test_ok_forms(line, expected):
    assert classify(line) == expected


@pytest.mark.parametrize("line", ["okay", "ok:", "OK", "token"])
def test_words_starting_with_ok_are_not_acks(line):
    assert not isinstance(classify(line), Ok)


def test_ok_temperatures_follow_the_current_tool():
    assert classify("ok T:180.0 /200.0 B:60.0 /60.0", current_tool=1).temperatures == {
        "tool1": (180.0, 200.0), "bed": (60.0, 60.0)}


@pytest.mark.parametrize("line, expected", [("wait", Wait()), ("start", Start()), ("  start", Start())])
def test_wait_and_start(line, expected):
    assert classify(line) == expected


@pytest.mark.parametrize("line", ["started", "echo:start", "waiting"])
def test_wait_and_start_only_as_whole_lines(line):
    assert type(classify(line)) not in (Wait, Start)


# --- resends, busy, errors --------------------------------------------------------------------

@pytest.mark.parametrize("line", ["Resend: 12", "Resend:12", "rs 12", "rs N12 Expected checksum 67", "Resend: N:12",
                                  "resend: 12", "RESEND:12"])
def test_resend_forms(line):
    assert classify(line) == Resend(12)


@pytest.mark.parametrize("line", ["Resend:", "rsync done", "Resend: please"])
def test_resend_without_number_is_not_a_resend(line):
    assert not isinstance(classify(line), Resend)


@pytest.mark.parametrize("line, reason", [
    ("echo:busy: processing", "processing"),
    ("busy: processing", "processing"),
    ("echo:busy: paused for user", "paused for user"),
    ("echo:busy paused for user", "paused for user"),
    ("echo:busy: paused for input", "paused for input"),
])
def test_busy_forms(line, reason):
    assert classify(line) == Busy(reason)


@pytest.mark.parametrize("text, kind", [
    ("checksum mismatch, Last Line: 41", ErrorKind.COMM_RESEND),
    ("Line Number is not Last Line Number+1, Last Line: 41", ErrorKind.COMM_RESEND),
    ("No Checksum with line number, Last Line: 41", ErrorKind.COMM_RESEND),
    ("Checksum mismatch", ErrorKind.COMM_RESEND),
    ("Missing checksum", ErrorKind.COMM_RESEND),
    ("expected line 42 got 44", ErrorKind.COMM_RESEND),
    ("Format error", ErrorKind.COMM_RESEND),
    ("No Line Number with checksum, Last Line: 41", ErrorKind.COMM_NO_RESEND),
    ("Missing linenumber", ErrorKind.COMM_NO_RESEND),
    ("volume.init failed", ErrorKind.SD),
    ("openRoot failed", ErrorKind.SD),
    ("workDir open failed", ErrorKind.SD),
    ("error writing to file", ErrorKind.SD),
    ("Cannot open subdir", ErrorKind.SD),
    ("Cannot enter dir: FOO", ErrorKind.SD),
    ('Unknown command: "M9999"', ErrorKind.UNKNOWN_COMMAND),
    ("Printer halted. kill() called!", ErrorKind.FATAL),
    ("Thermal Runaway, system stopped! Heater_ID: bed", ErrorKind.FATAL),
    ("Thermal Malfunction, system stopped! Heater_ID: 0", ErrorKind.FATAL),
    ("MAXTEMP triggered, system stopped! Heater_ID: 0", ErrorKind.FATAL),
    ("MINTEMP triggered, system stopped! Heater_ID: 0", ErrorKind.FATAL),
    ("Heating failed, system stopped! Heater_ID: 0", ErrorKind.FATAL),
    ("0: Heaters switched off. MINTEMP triggered!", ErrorKind.FATAL),
    ("HOTEND THERMAL RUNAWAY", ErrorKind.FATAL),
    ("Printer stopped due to errors. Fix the error and use M999 to restart. (Temperature is reset. Set it after "
     "restarting)", ErrorKind.FATAL),
    ("KILL caused by KILL button/pin", ErrorKind.FATAL),
    ("T2 - Invalid extruder number !", ErrorKind.FATAL),
    ("Watchdog barked, please turn off the printer.", ErrorKind.FATAL),
    ("G0/G1: insufficient axes homed", ErrorKind.OTHER),
])
def test_error_kinds(text, kind):
    assert classify("Error:" + text) == Error(text, kind)
    assert error_kind(text) is kind


@pytest.mark.parametrize("line, expected", [
    ("Error: Checksum mismatch", Error("Checksum mismatch", ErrorKind.COMM_RESEND)),
    ("error:Something else", Error("Something else", ErrorKind.OTHER)),
    ("fatal: Heater/sensor error - Printer stopped and heaters disabled due to this error. Fix error and restart "
     "with M999.", Error("Heater/sensor error - Printer stopped and heaters disabled due to this error. Fix error "
                         "and restart with M999.", ErrorKind.FATAL)),
    ("!! Lost communication with MCU 'mcu'", Error("Lost communication with MCU 'mcu'", ErrorKind.FATAL)),
    ("!!", Error("", ErrorKind.FATAL)),
])
def test_error_prefixes(line, expected):
    assert classify(line) == expected


def test_marlin_1_0_split_error_is_joined_by_the_caller():
    first = classify("Error:0")
    assert first == Error("0", ErrorKind.OTHER)
    assert first.awaits_continuation is True
    continuation = ": Extruder switched off. MAXTEMP triggered !"
    assert classify(continuation) == Unknown(continuation)
    assert join_error(first, continuation) == Error("0: Extruder switched off. MAXTEMP triggered !", ErrorKind.FATAL)
    assert classify("Error:checksum mismatch, Last Line: 4").awaits_continuation is False


# --- temperatures --------------------------------------------------------------------------------

@pytest.mark.parametrize("line, tool, expected", [
    (" T:210.00 /210.00 B:60.00 /60.00 @:64 B@:0", 0, {"tool0": (210.0, 210.0), "bed": (60.0, 60.0)}),
    ("T:210.00 /210.00 B:60.00 /60.00 @:64 B@:0", 2, {"tool2": (210.0, 210.0), "bed": (60.0, 60.0)}),
    ("T:201.00 /202.00 B:117.00 /120.00 T0:201.00 /202.00 T1:23.00 /0.00 @:127 B@:0 @0:127 @1:0", 1,
     {"tool0": (201.0, 202.0), "tool1": (23.0, 0.0), "bed": (117.0, 120.0)}),
    ("T:150.00 /150.00 T0:201.00 /202.00 T1:23.00 /0.00", 2,  # T is copied to a current tool not listed
     {"tool0": (201.0, 202.0), "tool1": (23.0, 0.0), "tool2": (150.0, 150.0)}),
    ("T:21.3 /0.0 @0 T1:21.7 /0.0 @0 B:21.6 /0.0 @0", 1,  # Smoothieware: T is T0
     {"tool0": (21.3, 0.0), "tool1": (21.7, 0.0), "bed": (21.6, 0.0)}),
    ("B:60.0 /60.0 T0:210.0 /210.0", 0, {"tool0": (210.0, 210.0), "bed": (60.0, 60.0)}),  # Klipper
    ("T:210.0 /210.0 B:60.0 /60.0 T0:210.0 /210.0 @:64 B@:0 P:35.4 A:32.1", 0,  # Prusa MK3
     {"tool0": (210.0, 210.0), "bed": (60.0, 60.0), "P": (35.4, None), "A": (32.1, None)}),
    ("T:200.00 /200.00 B:60.00 /60.00 C:45.00 /50.00 @:64 B@:0 C@:30", 0,
     {"tool0": (200.0, 200.0), "bed": (60.0, 60.0), "chamber": (45.0, 50.0)}),
    ("T:210.0/215.0 B:60.0/60.0", 0, {"tool0": (210.0, 215.0), "bed": (60.0, 60.0)}),
    ("T:210.0 / 215.0", 0, {"tool0": (210.0, 215.0)}),
    ("T:150.2 E:0 W:?", 0, {"tool0": (150.2, None)}),
    ("T:150.2 E:1 W:5", 0, {"tool1": (150.2, None)}),
    ("T:150.2 E:0 B:60.1", 0, {"tool0": (150.2, None), "bed": (60.1, None)}),
    ("T:20.00 /0 B:20.00 /0 B@:0 @:0", 0, {"tool0": (20.0, 0.0), "bed": (20.0, 0.0)}),  # Repetier
    ("T:-14.00 /0.00 B:21.0 /0.00", 0, {"tool0": (-14.0, 0.0), "bed": (21.0, 0.0)}),
    ("T:21.0 /0.0 B:20.0 /0.0 B:99.0 /99.0", 0, {"tool0": (21.0, 0.0), "bed": (20.0, 0.0)}),  # first wins
    ("T:21.0 /0.0 R:22.5 /0.0 X:40.1", 0, {"tool0": (21.0, 0.0), "R": (22.5, 0.0), "X": (40.1, None)}),
    ("T:.5 /0.", 0, {"tool0": (0.5, 0.0)}),
])
def test_parse_temperatures(line, tool, expected):
    assert parse_temperatures(line, current_tool=tool) == expected


@pytest.mark.parametrize("line, readings", [
    (" T:210.00 /210.00 B:60.00 /60.00 @:64 B@:0", {"tool0": (210.0, 210.0), "bed": (60.0, 60.0)}),
    ("T:150.2 E:0 W:?", {"tool0": (150.2, None)}),
    ("B:35.2 /60.0 T0:22.4 /0.0", {"tool0": (22.4, 0.0), "bed": (35.2, 60.0)}),
    ("B:35.2 /60.0", {"bed": (35.2, 60.0)}),
])
def test_temperature_lines(line, readings):
    assert classify(line) == Temperatures(readings)


@pytest.mark.parametrize("line", [
    "X:0.00 Y:0.00 Z:250.00 E:0.00 Count A:16000 B:16000 C:16000",  # Marlin M114 on a delta
    "Count A:16000 B:16000 C:16000",
    "echo:  M145 S0 H180 B70 F0",
])
def test_m114_count_is_not_a_temperature_report(line):
    assert not isinstance(classify(line), Temperatures)


@pytest.mark.parametrize("line, expected", [
    ("TargetExtr0:200", TargetTemperature("tool0", 200.0)),
    ("TargetExtr1:215.5", TargetTemperature("tool1", 215.5)),
    ("TargetBed:60", TargetTemperature("bed", 60.0)),
    ("TargetChamber:40", TargetTemperature("chamber", 40.0)),
])
def test_repetier_targets(line, expected):
    assert classify(line) == expected


# --- firmware information ---------------------------------------------------------------------

def test_marlin_m115():
    line = ("FIRMWARE_NAME:Marlin 2.1.3 (Aug  1 2024 12:00:00) SOURCE_CODE_URL:github.com/MarlinFirmware/Marlin "
            "PROTOCOL_VERSION:1.0 MACHINE_TYPE:3D Printer KINEMATICS:Cartesian EXTRUDER_COUNT:1 UUID:cede2a2f-41a2")
    message = classify(line)
    assert message == FirmwareInfo({
        "FIRMWARE_NAME": "Marlin 2.1.3 (Aug  1 2024 12:00:00)", "SOURCE_CODE_URL": "github.com/MarlinFirmware/Marlin",
        "PROTOCOL_VERSION": "1.0", "MACHINE_TYPE": "3D Printer", "KINEMATICS": "Cartesian", "EXTRUDER_COUNT": "1",
        "UUID": "cede2a2f-41a2"})
    assert message.name == "Marlin 2.1.3 (Aug  1 2024 12:00:00)"


@pytest.mark.parametrize("line, fields", [
    ("FIRMWARE_NAME: RepRapFirmware for Duet 2 WiFi/Ethernet FIRMWARE_VERSION: 3.4.5 ELECTRONICS: Duet WiFi 1.02",
     {"FIRMWARE_NAME": "RepRapFirmware for Duet 2 WiFi/Ethernet", "FIRMWARE_VERSION": "3.4.5",
      "ELECTRONICS": "Duet WiFi 1.02"}),
    ("NAME: Malyan VER: 2.9 MODEL: M200 HW: HA02", {"NAME": "Malyan", "VER": "2.9", "MODEL": "M200", "HW": "HA02"}),
    ("NAME. Malyan VER: 3.7 MODEL: M300 HW: HB02", {"NAME": "Malyan", "VER": "3.7", "MODEL": "M300", "HW": "HB02"}),
    ("FIRMWARE_NAME:Smoothieware, FIRMWARE_URL:http%3A//smoothieware.org, X-AXES:5",
     {"FIRMWARE_NAME": "Smoothieware", "FIRMWARE_URL": "http%3A//smoothieware.org", "X-AXES": "5"}),
])
def test_other_firmware_info(line, fields):
    message = classify(line)
    assert message == FirmwareInfo(fields)
    assert message.name == fields.get("FIRMWARE_NAME", fields.get("NAME"))


def test_firmware_info_first_key_wins():
    assert parse_firmware_info("FIRMWARE_NAME:A FIRMWARE_NAME:B") == {"FIRMWARE_NAME": "A"}


@pytest.mark.parametrize("line, expected", [
    ("Cap:AUTOREPORT_TEMP:1", Capability("AUTOREPORT_TEMP", True)),
    ("Cap:EMERGENCY_PARSER:0", Capability("EMERGENCY_PARSER", False)),
    ("cap:prompt_support:1", Capability("PROMPT_SUPPORT", True)),
])
def test_capabilities(line, expected):
    assert classify(line) == expected


# --- actions, comments, echoes ------------------------------------------------------------------

@pytest.mark.parametrize("line, expected", [
    ("//action:pause", Action("pause", "")),
    ("// action:notification Hello", Action("notification", "Hello")),
    ("//action:prompt_begin Filament", Action("prompt_begin", "Filament")),
    ("//action:prompt_button Continue printing", Action("prompt_button", "Continue printing")),
    ("//  action:cancel  ", Action("cancel", "")),
])
def test_actions(line, expected):
    assert classify(line) == expected


@pytest.mark.parametrize("line, expected", [
    ("// Klipper state: Ready", Comment("Klipper state: Ready")),
    ('// Unknown command:"FOO"', Comment('Unknown command:"FOO"', unknown_command="FOO")),
    ("//", Comment("")),
    ("echo:Active Extruder: 1", Echo("Active Extruder: 1")),
    ('echo:Unknown command: "M9999"', Echo('Unknown command: "M9999"', unknown_command="M9999")),
    ("Unknown M code: M9999", Echo("Unknown M code: M9999", unknown_command="M9999")),
    ("echo:  M92 X80.00 Y80.00 Z400.00 E93.00", Echo("M92 X80.00 Y80.00 Z400.00 E93.00")),
    ("echo:", Echo("")),
    ("INT4", Unknown("INT4")),
    ("", Unknown("")),
    ("   ", Unknown("")),
    ("\x80\x81garbage", Unknown("\x80\x81garbage")),
])
def test_comments_echoes_and_unknown(line, expected):
    assert classify(line) == expected


# --- SD card -----------------------------------------------------------------------------------

@pytest.mark.parametrize("line, kind, fields", [
    ("echo:SD card ok", SdKind.CARD_OK, {}),
    ("Card successfully initialized", SdKind.CARD_OK, {}),
    ("echo:SD card released", SdKind.CARD_RELEASED, {}),
    ("SD Card unmounted", SdKind.CARD_RELEASED, {}),
    ("echo:SD init fail", SdKind.CARD_INIT_FAILED, {}),
    ("SD init fail", SdKind.CARD_INIT_FAILED, {}),
    ("echo:No SD card", SdKind.NO_CARD, {}),
    ("No media", SdKind.NO_CARD, {}),
    ("Begin file list", SdKind.FILE_LIST_BEGIN, {}),
    ("End file list", SdKind.FILE_LIST_END, {}),
    ('DIR_ENTER: /MISC/ "Misc stuff"', SdKind.DIR_ENTER, {"path": "/MISC/", "long_name": "Misc stuff"}),
    ("DIR_ENTER: /MISC/", SdKind.DIR_ENTER, {"path": "/MISC/"}),
    ("DIR_EXIT", SdKind.DIR_EXIT, {}),
    ("echo:Now fresh file: cube.gco", SdKind.FRESH_FILE, {"name": "cube.gco"}),
    ("File opened: CUBE.GCO Size: 12345", SdKind.FILE_OPENED, {"name": "CUBE.GCO", "size": 12345}),
    ("File opened: SUB/MY CUBE.GCO Size: 7", SdKind.FILE_OPENED, {"name": "SUB/MY CUBE.GCO", "size": 7}),
    ("File opened: CUBE.GCO", SdKind.FILE_OPENED, {}),
    ("File selected", SdKind.FILE_SELECTED, {}),
    ("open failed, File: nothere.gco.", SdKind.OPEN_FAILED, {"name": "nothere.gco"}),
    ("echo:open failed, File: nothere.gco.", SdKind.OPEN_FAILED, {"name": "nothere.gco"}),
    ("Current file: CUBE.GCO Calibration Cube.gcode", SdKind.CURRENT_FILE,
     {"name": "CUBE.GCO", "long_name": "Calibration Cube.gcode"}),
    ("Current file: CUBE.GCO", SdKind.CURRENT_FILE, {"name": "CUBE.GCO"}),
    ("Current file: (no file)", SdKind.CURRENT_FILE, {}),
    ("SD printing byte 1234/56789", SdKind.PRINTING_BYTE, {"position": 1234, "total": 56789}),
    ("SD printing byte 0/0", SdKind.PRINTING_BYTE, {"position": 0, "total": 0}),
    ("Not SD printing", SdKind.NOT_PRINTING, {}),
    ("SD print paused", SdKind.PAUSED, {}),
    ("Done printing file", SdKind.DONE_PRINTING, {}),
    ("Writing to file: upload.gco", SdKind.WRITING_FILE, {"name": "upload.gco"}),
    ("Done saving file.", SdKind.DONE_SAVING, {}),
    ("File deleted:old.gco", SdKind.FILE_DELETED, {"name": "old.gco"}),
    ("File deleted:x.gcook", SdKind.FILE_DELETED, {"name": "x.gco", "glued_ok": True}),
    ("File deleted:benchy.gcodeok", SdKind.FILE_DELETED, {"name": "benchy.gcode", "glued_ok": True}),
    ("File deleted:book", SdKind.FILE_DELETED, {"name": "book"}),
    ("Deletion failed, File: old.gco.", SdKind.DELETE_FAILED, {"name": "old.gco"}),
])
def test_sd_lines(line, kind, fields):
    assert classify(line) == SdMessage(kind, fields)


@pytest.mark.parametrize("line, expected", [
    ("CUBE.GCO 168432", ("CUBE.GCO", 168432, None, None)),
    ("SUBDIR~1/FILE~1.GCO 68447", ("SUBDIR~1/FILE~1.GCO", 68447, None, None)),
    ("CUBE.GCO 168432 0x56E163C5", ("CUBE.GCO", 168432, 1688214610, None)),
    ("CUBE.GCO 168432 Calibration Cube.gcode", ("CUBE.GCO", 168432, None, "Calibration Cube.gcode")),
    ("CUBE.GCO 168432 0x56e163c5 Calibration Cube.gcode", ("CUBE.GCO", 168432, 1688214610, "Calibration Cube.gcode")),
    ('CUBE.GCO 168432 "Calibration Cube.gcode"', ("CUBE.GCO", 168432, None, "Calibration Cube.gcode")),
    ("CUBE.GCO 168432 0x00000000 cube.gcode", ("CUBE.GCO", 168432, None, "cube.gcode")),  # invalid date
    ("HEX.GCO 5 0xnothex.gcode", ("HEX.GCO", 5, None, "0xnothex.gcode")),
    ("CUBE.GCO", None),
    ("CUBE.GCO big", None),
    ("", None),
    ("End file list", None),
])
def test_file_list_entries(line, expected):
    assert parse_file_list_entry(line) == expected


def test_fat_timestamp():
    assert fat_timestamp(0x56E163C5) == 1688214610  # 2023-07-01 12:30:10
    assert fat_timestamp(0x00210000) == 315532800  # 1980-01-01, the FAT epoch
    assert fat_timestamp(0) is None  # month 0


# --- position --------------------------------------------------------------------------------

@pytest.mark.parametrize("line, expected", [
    ("X:0.00 Y:127.00 Z:145.00 E:0.00 Count X: 0 Y:10160 Z:116000", Position(0.0, 127.0, 145.0, 0.0, (0.0,))),
    ("X:10.00 Y:20.00 Z:0.30 E0:1.50 E1:-2.00 Count X:800 Y:1600 Z:120", Position(10.0, 20.0, 0.3, 1.5, (1.5, -2.0))),
    ("X:0.00 Y:0.00 Z:0.15 E:0.00 Count X: 0.00 Y:0.00 Z:0.15 E:0.00", Position(0.0, 0.0, 0.15, 0.0, (0.0,))),
    ("X:1 Y:2 Z:3", Position(1.0, 2.0, 3.0, None, ())),
    ("X:1 Y:2 Z:3 E0:4 E1:5 Count X:80 Y:160 Z:1200 E:99", Position(1.0, 2.0, 3.0, 4.0, (4.0, 5.0))),
])
def test_positions(line, expected):
    assert classify(line) == expected
    assert parse_position(line) == expected


def test_position_needs_x_y_and_z():
    assert parse_position("X:1.00 Y:2.00 E:0.00") is None
    assert parse_position("X:1.00 Y:2.00 E:0.00 Count X:80 Y:160 Z:1200") is None  # Count is steps, not mm
    assert not isinstance(classify("X:1.00 Y:2.00 E:0.00"), Position)


# --- the messages themselves ------------------------------------------------------------------

def test_messages_are_frozen_and_slotted():
    for message in (classify("ok N1 P2 B3"), classify("Resend: 3"), classify("T:1 /2"), classify("garbage")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(message, dataclasses.fields(message)[0].name, "changed")
        assert not hasattr(message, "__dict__")


@given(st.text(max_size=200), st.integers(min_value=0, max_value=9))
def test_classify_never_raises(line, tool):
    assert isinstance(classify(line, current_tool=tool), MESSAGE_TYPES)
    parse_file_list_entry(line)


@given(st.lists(st.sampled_from(["ok", "T:", "B:", "/", " ", "1", "2.5", "-", "N", "P", "X:", "Count", "E:", "Error:",
                                 "echo:", "busy", "//", "action:", "Cap:", "Resend", "rs", "FIRMWARE_NAME:", "@:",
                                 "W:?", "File deleted:", "SD printing byte", "T0:", "A:"]), max_size=12))
def test_classify_never_raises_on_protocol_fragments(parts):
    assert isinstance(classify("".join(parts)), MESSAGE_TYPES)


# --- transcripts ------------------------------------------------------------------------------

RECEIVED = [received for path in transcripts.paths() for received in transcripts.load(path)]


def test_every_firmware_has_a_transcript():
    names = {path.stem for path in transcripts.paths()}
    assert {"marlin-2.1", "prusa-mk3", "klipper", "reprapfirmware", "smoothieware"} <= names
    annotated = [received for received in RECEIVED if received.expected_type]
    assert len(annotated) >= 150


@pytest.mark.parametrize("received", RECEIVED, ids=lambda received: received.where)
def test_transcript_line(received):
    message = classify(received.text, current_tool=received.current_tool)
    if received.expected_type is None:
        assert not isinstance(message, Unknown), f"{received.where}: {received.text!r} is not understood"
        return
    if received.expected_type == "FileListEntry":
        assert isinstance(message, Unknown), f"{received.where}: a file list entry classified as {message!r}"
        entry = parse_file_list_entry(received.text)
        assert entry is not None, f"{received.where}: not a file list entry"
        message = dict(zip(("name", "size", "timestamp", "long_name"), entry, strict=True))
    else:
        assert type(message) is getattr(r, received.expected_type), f"{received.where}: {message!r}"
    assert not transcripts.mismatches(received, message)
