"""The virtual printer's wire protocol: banner, replies, and Marlin's line-number/checksum rules."""
import re

import pytest

from tests.plugins.serial_host import Host, numbered


def test_banner_on_open_has_start_and_a_non_ascii_byte(printer):
    host = Host(printer.slave_path)
    try:
        lines = host.read_until(lambda line: line == b"echo:SD card ok")
    finally:
        host.close()
    assert lines[0] == b"start"
    assert lines[1] == b"echo:Marlin 2.1.3"
    assert any(b"\x80" in line for line in lines)


def test_reopening_the_port_resets_the_board(printer, connect):
    first = connect(printer)
    assert first.ask("M110 N41")[-1] == "ok"
    first.close()
    second = connect(printer)
    assert second.ask("G1 X1", 1) == ["ok"]  # line numbers start over after the reset


def test_m115_reports_firmware_and_capabilities(host):
    lines = host.ask("M115")
    assert lines[0].startswith("FIRMWARE_NAME:Marlin 2.1.3 (virtual) "
                               "SOURCE_CODE_URL:github.com/MarlinFirmware/Marlin PROTOCOL_VERSION:1.0 "
                               "MACHINE_TYPE:Virtual ")
    assert re.search(r" EXTRUDER_COUNT:1 UUID:[0-9a-f-]{36}$", lines[0])
    caps = dict(line[4:].rsplit(":", 1) for line in lines[1:-1])
    assert all(line.startswith("Cap:") for line in lines[1:-1])
    for name in ("AUTOREPORT_TEMP", "AUTOREPORT_SD_STATUS", "EMERGENCY_PARSER", "HOST_ACTION_COMMANDS",
                 "EXTENDED_M20", "LFN_WRITE", "BUSY_PROTOCOL", "SDCARD"):
        assert caps[name] == "1", name
    for name in ("AUTOREPORT_POS", "PROMPT_SUPPORT", "CHAMBER_TEMPERATURE"):
        assert caps[name] == "0", name
    assert lines[-1] == "ok"


def test_m105_format(host):
    assert host.ask("M105") == ["ok T:21.30 /0.00 B:21.30 /0.00 @:0 B@:0"]


def test_numbered_lines_with_good_checksums_are_acked_and_recorded(printer, host):
    assert numbered(1, "M115").endswith(b"*39")  # facts 1.2 test vector
    for n, command in enumerate(["G28 X Y Z", "G0 Z2 F6000", "T0", "G92 E0"], start=1):
        assert host.ask(command, n)[-1] == "ok"
    assert printer.received == [(1, "G28 X Y Z"), (2, "G0 Z2 F6000"), (3, "T0"), (4, "G92 E0")]


@pytest.mark.parametrize("sent, error", [
    (b"N1 G28*0", "Error:checksum mismatch, Last Line: 0"),
    (b"N2 G28*" + numbered(2, "G28").split(b"*")[1], "Error:Line Number is not Last Line Number+1, Last Line: 0"),
    (b"N1 G28", "Error:No Checksum with line number, Last Line: 0"),
])
def test_bad_lines_get_marlin_errors_then_resend_then_ok(printer, host, sent, error):
    host.write(sent)
    assert host.until_ok() == [error.encode(), b"Resend: 1", b"ok"]
    assert printer.received == []
    assert host.ask("G28", 1)[-1] == "ok"


def test_marlin_2_0_sends_no_ok_after_resend(make_printer, connect):
    host = connect(make_printer(ok_after_resend=False))
    host.write(b"N1 G28*0")
    assert host.read_until(lambda line: line.startswith(b"Resend")) == [
        b"Error:checksum mismatch, Last Line: 0", b"Resend: 1"]
    assert host.quiet_for(0.2) == b""


def test_an_error_drains_what_was_already_received(printer, host):
    # Three lines in one write: the bad first one makes Marlin flush the other two unread.
    host.write(b"N1 G1 X1*0\n" + numbered(2, "G1 X2") + b"\n" + numbered(3, "G1 X3"))
    assert host.until_ok() == [b"Error:checksum mismatch, Last Line: 0", b"Resend: 1", b"ok"]
    assert host.quiet_for(0.2) == b""
    assert printer.received == []


def test_m110_sets_the_line_number_and_the_last_n_on_the_line_wins(printer, host):
    assert host.ask("M110 N100", 0)[-1] == "ok"          # N0 M110 N100 -> 100
    assert host.ask("G1 X1", 101)[-1] == "ok"
    assert host.ask("M110 N7")[-1] == "ok"                # bare M110 N7
    assert host.ask("G1 X2", 8)[-1] == "ok"
    assert host.ask("M110", 50) == ["Line: 50", "ok"]   # N50 M110: a jump needs no +1 check
    assert host.ask("M110") == ["Line: 50", "ok"]
    host.write(b"N-1 M110 N-1*125")                       # Printrun style
    assert host.until_ok() == [b"ok"]
    assert host.ask("G1 X3", 0)[-1] == "ok"


def test_unnumbered_lines_need_no_checksum_and_unknown_commands_are_reported(printer, host):
    assert host.ask("M9999 P1") == ['echo:Unknown command: "M9999 P1"', "ok"]
    assert host.ask("G1 X5 Y6 ; a comment")[-1] == "ok"
    assert printer.received[-1] == (None, "G1 X5 Y6")


def test_advanced_ok(make_printer, connect):
    host = connect(make_printer(advanced_ok=True))
    assert host.ask("G1 X1", 1) == ["ok N1 P15 B3"]
    assert host.ask("G1 X1") == ["ok P15 B3"]
    assert host.ask("M105")[0].startswith("ok T:")


def test_position_and_modes(host):
    host.ask("G28")
    host.ask("G1 X10 Y20 Z0.3 E1 F3000")
    host.ask("G91")
    host.ask("G1 X5 E2")
    host.ask("G90")
    host.ask("M83")
    host.ask("G1 E1")
    assert host.ask("M114") == ["X:15.00 Y:20.00 Z:0.30 E:4.00 Count X:1200 Y:1600 Z:120", "ok"]
    host.ask("G92 E0")
    assert host.ask("M114")[0].startswith("X:15.00 Y:20.00 Z:0.30 E:0.00 ")
    assert host.ask("M220 S150") == ["ok"]
    assert host.ask("M220") == ["echo:FR:150%", "ok"]
    assert host.ask("M221") == ["echo:E0 Flow: 100%", "ok"]


def test_messages_actions_and_tools(host):
    assert host.ask("M117 Hello there") == ["echo:Hello there", "ok"]
    assert host.ask("M118 E1 plain echo") == ["echo:plain echo", "ok"]
    assert host.ask("M118 A1 action:pause") == ["//action:pause", "ok"]
    assert host.ask("T0") == ["ok"]
    assert host.ask("T1") == ["echo:T1 Invalid extruder", "ok"]
    assert host.ask("M400") == ["ok"]
    assert host.ask("M113") == ["echo:M113 S2", "ok"]


def test_m155_autoreports_temperatures_without_ok(host):
    host.ask("M155 S1")
    line = host.read_until(lambda line: line.startswith(b" T:"), deadline=3)[-1]
    assert re.fullmatch(rb" T:\d+\.\d\d /0\.00 B:\d+\.\d\d /0\.00 @:0 B@:0", line)
    host.ask("M155 S0")


def test_a_handler_failure_is_reported_not_fatal(printer, host):
    assert host.ask("M28 bad\x01name/") == ["open failed, File: bad\x01name/.", "ok"]
    host.write(b"M28 nul\x00name")
    assert host.until_ok()[-1] == b"ok"
    assert printer.alive and host.ask("M105")[0].startswith("ok T:")
