"""PrintHistory (octoserve.storage.history): counts, the last print, per-profile times, moves and removal."""
import pytest

from octoserve.storage import Database
from octoserve.storage.history import PrintHistory


@pytest.fixture
def history(tmp_path):
    return PrintHistory(Database(tmp_path / "history.json"))


def test_a_file_never_printed_has_zero_counts(history):
    assert history.stats("local", "cube.gcode") == {
        "prints": {"success": 0, "failure": 0},
        "statistics": {"averagePrintTime": {}, "lastPrintTime": {}},
    }
    assert history.all("local") == {}


def test_record_counts_and_averages_successful_prints_per_profile(history):
    history.record("local", "cube.gcode", True, 100.0, 1000.0)
    history.record("local", "cube.gcode", True, 200.0, 2000.0)
    history.record("local", "cube.gcode", True, 50.0, 2500.0, profile="mk3")
    history.record("local", "cube.gcode", False, 10.0, 3000.5)
    assert history.stats("local", "cube.gcode") == {
        "prints": {"success": 3, "failure": 1, "last": {"date": 3000.5, "printTime": 10.0, "success": False}},
        "statistics": {"averagePrintTime": {"_default": 150.0, "mk3": 50.0},
                       "lastPrintTime": {"_default": 200.0, "mk3": 50.0}},
    }


def test_origins_are_apart(history):
    history.record("sdcard", "cube.gcode", True, 1.0, 1.0)
    assert history.stats("local", "cube.gcode")["prints"]["success"] == 0
    assert list(history.all("sdcard")) == ["cube.gcode"]


def test_history_follows_moves_and_goes_with_removals(history):
    history.record("local", "f/a.gcode", True, 1.0, 1.0)
    history.record("local", "f/sub/b.gcode", False, 1.0, 1.0)
    history.record("local", "fx/c.gcode", True, 1.0, 1.0)
    history.move("local", "f", "g")
    assert sorted(history.all("local")) == ["fx/c.gcode", "g/a.gcode", "g/sub/b.gcode"]
    history.remove("local", "g")
    assert sorted(history.all("local")) == ["fx/c.gcode"]


def test_the_daemon_and_the_web_process_share_the_file(tmp_path):
    """Two PrintHistory objects on one file (as two processes hold): each sees the other's records."""
    daemon_side = PrintHistory(Database(tmp_path / "history.json"))
    web_side = PrintHistory(Database(tmp_path / "history.json"))
    daemon_side.record("local", "a.gcode", True, 5.0, 1.0)
    assert web_side.stats("local", "a.gcode")["prints"]["success"] == 1
    web_side.move("local", "a.gcode", "b.gcode")
    daemon_side.record("local", "b.gcode", True, 7.0, 2.0)
    assert web_side.stats("local", "b.gcode")["statistics"]["averagePrintTime"] == {"_default": 6.0}
