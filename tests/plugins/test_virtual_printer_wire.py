"""Pure pieces of the virtual printer: RX buffer semantics, G-code splitting, checksums."""
import pytest

from octoserve_plugins.virtual_printer.gcode import params, split, strtol, xor_checksum
from octoserve_plugins.virtual_printer.wire import Inbox


def drain_lines(inbox):
    lines = []
    while (line := inbox.pop()) is not None:
        lines.append(line)
    return lines


def test_inbox_cuts_lines_across_reads_and_on_cr():
    inbox = Inbox()
    inbox.feed(b"G28\r\nG1 X")
    inbox.feed(b"1\rM105\n")
    assert drain_lines(inbox) == [b"G28", b"", b"G1 X1", b"M105"]


def test_inbox_limit_drops_the_overflow_and_drain_forgets_everything():
    inbox = Inbox(limit=10)
    inbox.feed(b"G1 X1\nG1 X2\nG1 X3\n")
    assert inbox.dropped == 8 and drain_lines(inbox) == [b"G1 X1"]
    inbox.feed(b"G1 X")
    inbox.drain()
    inbox.feed(b"2\n")
    assert drain_lines(inbox) == [b"2"]


def test_emergency_scan_finds_commands_split_over_reads():
    inbox = Inbox()
    assert inbox.feed(b"G1 X1\nM1", scan=True) == []
    assert inbox.feed(b"12\nN5 M108*12\nM1120\nM410\n", scan=True) == [b"M112", b"M108", b"M410"]


@pytest.mark.parametrize("text, expected", [
    ("G1 X10 F300", ("G1", "X10 F300")),
    ("G01X10", ("G1", "X10")),
    ("G0", ("G0", "")),
    ("T1", ("T", "1")),
    ("M117 Hello world", ("M117", "Hello world")),
])
def test_split(text, expected):
    assert split(text) == expected


def test_params_and_checksum():
    assert params("X10 Y-2.5 E.5 Z") == {"X": 10.0, "Y": -2.5, "E": 0.5, "Z": None}
    assert xor_checksum(b"N0 M110 N0") == 125 and xor_checksum(b"N-1 M110 N-1") == 125
    assert strtol(b"N-12 G1", 1) == (-12, 4) and strtol(b"*x", 1) == (0, 1)
