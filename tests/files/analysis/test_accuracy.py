"""Against the slicers' own figures on real files (tests/data/gcode): time within 5 %, filament within 0.5 %."""
import pytest

from octoserve.files.analysis import analyse
from tests.files.analysis.conftest import slicer_file


@pytest.fixture(scope="module", params=["benchy-prusaslicer-2.2.gcode", "xyz-cube-slic3r-1.3.gcode"])
def analysed(request):
    path = slicer_file(request.param)
    return request.param, analyse(path)


def test_filament_within_half_a_percent(analysed):
    name, result = analysed
    said = {"benchy-prusaslicer-2.2.gcode": 4702.3, "xyz-cube-slic3r-1.3.gcode": 1586.3}[name]
    assert result["slicer"]["filament"]["tool0"]["length"] == said
    assert result["filament"]["tool0"]["length"] == pytest.approx(said, rel=0.005)


def test_benchy_time_within_five_percent_of_prusaslicer():
    result = analyse(slicer_file("benchy-prusaslicer-2.2.gcode"))
    assert result["slicer"]["estimatedPrintTime"] == 4022  # "1h 7m 2s"
    assert result["estimatedPrintTime"] == pytest.approx(4022, rel=0.05)
    # Distance over feed rate (OctoPrint's way) gives 54 minutes; the planner must not fall back to that.
    assert result["estimatedPrintTime"] > 3900


def test_benchy_shape(analysed):
    name, result = analysed
    if name != "benchy-prusaslicer-2.2.gcode":
        return
    assert result["slicer"]["name"] == "PrusaSlicer" and result["slicer"]["layerHeight"] == 0.3
    assert result["dimensions"]["height"] == pytest.approx(48.05)
    assert result["filament"]["tool0"]["volume"] == pytest.approx(11.3, rel=0.01)  # 1.75 mm from the file
    assert set(result) == {"estimatedPrintTime", "filament", "dimensions", "printingArea", "travelDimensions",
                           "travelArea", "slicer"}


def test_cube_time_is_plausible():
    # Slic3r 1.3 wrote no estimate; the file has no M201-M205 either, so the default profile's axis speeds
    # and Marlin's default accelerations apply. Distance over feed rate gives 40.6 minutes.
    result = analyse(slicer_file("xyz-cube-slic3r-1.3.gcode"))
    assert "estimatedPrintTime" not in result["slicer"]
    assert 40.6 * 60 < result["estimatedPrintTime"] < 55 * 60
