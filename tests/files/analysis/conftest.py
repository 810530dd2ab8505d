"""Fixtures of the analysis tests: programs written to files, analysed with each backend there is."""
from pathlib import Path

import pytest

from octoserve.files.analysis import analyse, engine

GCODE = Path(__file__).resolve().parents[2] / "data" / "gcode"  # real slicer output, see its README
# Limits that make hand computation easy: no axis caps in the way, 1000 mm/s² everywhere, no jerk.
EASY = "M201 X1000 Y1000 Z1000 E1000\nM203 X1000 Y1000 Z1000 E1000\nM204 P1000 R1000 T1000\nM205 X0 Y0 Z0 E0\n"


@pytest.fixture(params=engine.available_backends())
def backend(request):
    return request.param


@pytest.fixture
def run(tmp_path, backend):
    """run(program, profile=None) -> the analysis of that G-code text, with the fixture's backend."""
    counter = iter(range(1000))

    def analyse_text(program: str, profile=None) -> dict:
        path = tmp_path / f"program{next(counter)}.gcode"
        path.write_text(program)
        return analyse(path, profile, backend=backend)

    return analyse_text


def slicer_file(name: str) -> Path:
    """One of the real slicer files in tests/data/gcode."""
    path = GCODE / name
    assert path.exists(), f"{path} is missing from the checkout"
    return path
