"""The sent commands as OctoPrint reads them: Z height, tool, and the G-code events."""
import pytest

from octoserve import events
from octoserve.printer.sent_commands import SentCommands, command_of


@pytest.fixture
def watcher():
    fired = []
    watcher = SentCommands(lambda name, payload: fired.append((name, payload)))
    watcher.fired = fired
    return watcher


def test_the_command_is_read_without_number_checksum_or_newline():
    assert command_of(b"N12 G1 X1 Z0.3*45\n") == "G1 X1 Z0.3"
    assert command_of(b"M105\n") == "M105"
    assert command_of(b"N-1 M110 N0*125\n") == "M110 N0"


def test_z_changes_fire_zchange_once_per_new_height(watcher):
    for line in (b"N1 G1 X1 Y1 E0.1*1\n", b"N2 G1 Z0.2 F3000*2\n", b"N3 G1 X2 Z0.2*3\n", b"N4 G0 Z.4*4\n",
                 b"N5 G1 X3 Y3*5\n"):
        watcher.sent(line)
    assert watcher.fired == [(events.Z_CHANGE, {"new": 0.2, "old": None}),
                             (events.Z_CHANGE, {"new": 0.4, "old": 0.2})]
    assert watcher.current_z == 0.4


def test_tool_changes_and_the_gcode_events(watcher):
    for line in (b"T1\n", b"G28 X Y\n", b"G4 P100\n", b"M0\n", b"M300 S440 P100\n", b"M600\n", b"M80\n",
                 b"M81\n", b"M245\n", b"M105\n", b"G92 E0\n"):
        watcher.sent(line)
    assert watcher.fired == [
        (events.TOOL_CHANGE, {"old": 0, "new": 1}), (events.HOME, None), (events.DWELLING, None),
        (events.WAITING, None), (events.ALERT, None), (events.FILAMENT_CHANGE, None), (events.POWER_ON, None),
        (events.POWER_OFF, None), (events.COOLING, None)]
    assert watcher.tool == 1
