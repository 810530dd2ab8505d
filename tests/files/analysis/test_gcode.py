"""What the G-code means: modes, G92, retractions, arcs, dwell, tools, inches, line numbers, odd spellings."""
import math

import pytest

from tests.files.analysis.conftest import EASY

# Fast enough that acceleration takes no time worth counting, jerk high enough to start at full speed.
INSTANT = "M201 X1e7 Y1e7 Z1e7 E1e7\nM203 X1000 Y1000 Z1000 E1000\nM204 P1e7 R1e7 T1e7\nM205 X500 Y500 Z500 E500\n"


def length(result, tool="tool0"):
    return result["filament"][tool]["length"]


def test_absolute_and_relative_moves_end_in_the_same_place(run):
    absolute = run(EASY + "G90\nG1 X30 F6000\n")
    relative = run(EASY + "G91\nG1 X10 F6000\nG1 X10\nG1 X10\n")
    assert relative["travelArea"]["maxX"] == absolute["travelArea"]["maxX"] == 30
    assert relative["estimatedPrintTime"] == pytest.approx(absolute["estimatedPrintTime"], abs=1e-6)


def test_extrusion_modes(run):
    assert length(run("M83\nG1 X1 E1\nG1 X2 E1\nG1 X3 E1\n")) == pytest.approx(3)
    assert length(run("M82\nG1 X1 E1\nG1 X2 E2\nG1 X3 E3\n")) == pytest.approx(3)
    assert length(run("G91\nG1 X1 E1\nG1 X1 E1\n")) == pytest.approx(2)  # G91 makes E relative too
    assert length(run("M83\nG90\nG1 X1 E1\nG1 X2 E1\n")) == pytest.approx(2)  # G90 leaves M83 alone
    assert length(run("G91\nM82\nG1 X1 E1\nG1 X1 E2\n")) == pytest.approx(3)  # G91 wins over M82 (Marlin 1.1)
    assert length(run("G91\nM82\nG90\nG1 X1 E1\nG1 X2 E2\n")) == pytest.approx(2)


def test_g92_sets_positions_without_moving(run):
    result = run("G1 X10 E5\nG92 E0\nG1 X20 E5\nG92 X0\nG1 X5\n")
    assert length(result) == pytest.approx(10)
    assert result["travelArea"]["maxX"] == 20 and result["travelArea"]["minX"] == 0
    assert length(run("G1 X10 E5\nG92\nG1 X20 E10\n")) == pytest.approx(10)  # no words: nothing set (Marlin)


def test_retractions_do_not_count_twice(run):
    result = run("M82\nG1 X10 E10\nG1 E9\nG1 X20\nG1 E10\nG1 X30 E12\n")
    assert length(result) == pytest.approx(12)
    assert result["printingArea"]["minX"] == 0 and result["printingArea"]["maxX"] == 30
    wiped = run("M83\nG1 X10 E10\nG1 X12 E-0.5\nG1 E-0.3\nG1 X50\nG1 E0.8\nG1 X60 E1\n")
    assert length(wiped) == pytest.approx(11)


def test_printing_and_travel_areas(run):
    # A printing move's start is printed on too; travel moves count for the travel area only.
    result = run("G1 X-5 Y-5 Z1\nG1 X10 Y10 E1\nG1 X20 Y40 Z5\nG1 X12 Y12\nG1 X15 Y12 E2\n")
    assert result["printingArea"] == {"minX": -5, "maxX": 15, "minY": -5, "maxY": 12, "minZ": 1, "maxZ": 5}
    assert result["travelArea"] == {"minX": -5, "maxX": 20, "minY": -5, "maxY": 40, "minZ": 0, "maxZ": 5}
    assert result["dimensions"] == {"width": 20, "depth": 17, "height": 4}
    assert result["travelDimensions"] == {"width": 25, "depth": 45, "height": 5}


@pytest.mark.parametrize("program, turn, extreme", [
    ("G2 X20 Y0 I10 J0", "clockwise over the top", ("maxY", 10)),
    ("G3 X20 Y0 I10 J0", "counter-clockwise under the bottom", ("minY", -10)),
])
def test_arcs_go_the_right_way_round(run, program, turn, extreme):
    result = run(INSTANT + program + " F600\n")
    key, value = extreme
    assert result["travelArea"][key] == pytest.approx(value, abs=1e-6), turn
    assert result["estimatedPrintTime"] == pytest.approx(math.pi * 10 / 10, rel=1e-6)  # πr at 10 mm/s


@pytest.mark.parametrize("program, arc_length", [
    ("G2 X10 Y10 R10", 5 * math.pi),  # a quarter circle
    ("G2 X10 Y10 R-10", 15 * math.pi),  # negative R: the long way round
    ("G2 X0 Y0 I10 J0", 20 * math.pi),  # same start and end: a full circle
    ("G2 X20 Y0 Z10 I10 J0", math.hypot(10 * math.pi, 10)),  # a helix
])
def test_arc_lengths(run, program, arc_length):
    result = run(INSTANT + program + " F600\n")
    assert result["estimatedPrintTime"] == pytest.approx(arc_length / 10, rel=1e-6)


def test_arcs_extrude_and_relative_arcs(run):
    assert length(run("M83\nG2 X20 Y0 I10 J0 E5\n")) == pytest.approx(5)
    result = run(INSTANT + "G1 X5 F600\nG91\nG2 X20 Y0 I10 J0\n")
    assert result["travelArea"]["maxX"] == pytest.approx(25) and result["travelArea"]["maxY"] == pytest.approx(10)


def test_dwell_adds_time_and_stops_motion(run):
    assert run("G4 P500\nG4 S2\n")["estimatedPrintTime"] == pytest.approx(2.5)
    through = run(EASY + "G1 X50 F6000\nG1 X100\n")["estimatedPrintTime"]
    stopped = run(EASY + "G1 X50 F6000\nG4 P0\nG1 X100\n")["estimatedPrintTime"]
    assert through == pytest.approx(1.1, abs=1e-3) and stopped == pytest.approx(1.2, abs=1e-3)


def test_heating_is_not_estimated(run):
    assert run("M104 S200\nM140 S60\nM190 S60\nM109 S200\n")["estimatedPrintTime"] == 0


def test_tool_changes(run):
    result = run("; filament_diameter = 1.75,2.85\nM83\nT0\nG1 X10 E10 F600\nT1\nG1 X20 E5\nT0\nG1 X30 E1\n")
    assert length(result, "tool0") == pytest.approx(11) and length(result, "tool1") == pytest.approx(5)
    assert result["filament"]["tool1"]["volume"] == pytest.approx(5 * math.pi * 1.425 ** 2 / 1000, abs=1e-5)
    assert result["filament"]["tool0"]["volume"] == pytest.approx(11 * math.pi * 0.875 ** 2 / 1000, abs=1e-5)


def test_inches(run):
    result = run(INSTANT + "G20\nG1 X1 F60\nG21\nG1 X30\n")
    assert result["travelArea"]["maxX"] == pytest.approx(30)
    assert run(INSTANT + "G20\nG1 X1 F60\n")["estimatedPrintTime"] == pytest.approx(1.0, rel=1e-6)  # 1 in/s


def test_homing_moves_to_zero(run):
    result = run("G1 X50 Y50 Z5\nG28 X\nG1 Y60\n")
    assert result["travelArea"]["maxY"] == 60 and result["travelArea"]["minX"] == 0


def test_firmware_retraction_costs_time_not_filament(run):
    plain = run(EASY + "M83\nG1 X10 E1 F600\n")
    retracted = run(EASY + "M83\nG1 X10 E1 F600\nG10\nG10\nG11\n")
    assert length(retracted) == pytest.approx(1)
    assert retracted["estimatedPrintTime"] > plain["estimatedPrintTime"] + 3 / 45 + 3 / 8


def test_spellings_the_fast_path_leaves_to_the_slow_one(run):
    plain = "G1 X10 Y5 F6000\nG1 X20 E1\nG1 X1.5 Y2.25\n"
    reference = run(EASY + plain)
    for variant in (
        "N1 G1 X10 Y5 F6000*71\nN2 G1 X20 E1*12\nN3 G1 X1.5 Y2.25*3\n",  # line numbers and checksums
        "G1X10Y5F6000\nG1X20E1\nG1X1.5Y2.25\n",  # no spaces
        "  G1 X10 Y5 F6000 ; lead\nG1\tX20\tE1\nG1 X1.5 Y2.25 ;\n",  # indents, tabs, comments
        "G1 X10 Y5 F6000\r\nG1 X20 E1\r\n\r\nG01 X1.5 Y2.25\r\n",  # CR LF, G01
        "G1 X10 Y5 F6000 A7 x3\nG1 X20 E1\nG1 X1.5.7 Y2.25\n",  # foreign words; a number as strtod reads it
    ):
        assert run(EASY + variant) == reference, variant


def test_files_that_are_not_gcode(tmp_path, backend):
    from octoserve.files.analysis import AnalysisError, analyse

    (tmp_path / "binary.gcode").write_bytes(b"\x7fELF\x00\x01" * 100)
    (tmp_path / "prose.gcode").write_text("Dear printer,\nplease print a boat.\n")
    (tmp_path / "empty.gcode").write_text("")
    for name, message in (("binary", "binary data"), ("prose", "no G, M or T"), ("missing", "no such file")):
        with pytest.raises(AnalysisError, match=message):
            analyse(tmp_path / f"{name}.gcode", backend=backend)
    assert analyse(tmp_path / "empty.gcode", backend=backend)["estimatedPrintTime"] == 0
