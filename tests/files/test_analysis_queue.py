"""The analysis queue: results stored as gcodeAnalysis, failures logged and harmless, stale results dropped.

Most tests run a stand-in analyser (a few lines of Python honouring the same contract: JSON on
stdout and exit 0, or a one-line message on stderr and a non-zero exit) so that they control
its answer and timing; one runs the real ``python -m octoserve.files.analysis``.
"""
import logging
import sys
import threading

import pytest

from octoserve.files.analysis_queue import AnalysisQueue
from tests.files.conftest import DATA, add

STAND_IN = """
import json, os, sys, time
path = sys.argv[1]
name = os.path.basename(path)
if "fail" in name:
    sys.stderr.write("cannot read this file\\n")
    sys.exit(3)
if "slow" in name:
    time.sleep(float(os.environ.get("STAND_IN_DELAY", "0.5")))
print(json.dumps({"estimatedPrintTime": float(os.path.getsize(path)), "filament": {}}))
"""


@pytest.fixture
def stand_in(tmp_path):
    script = tmp_path / "stand_in.py"
    script.write_text(STAND_IN)
    return (sys.executable, str(script))


@pytest.fixture
def make_queue(storage):
    queues = []

    def make(**options):
        queue = AnalysisQueue(storage, **options)
        queues.append(queue)
        return queue

    yield make
    for queue in queues:
        queue.stop()


def test_result_is_stored_as_gcode_analysis(storage, make_queue, stand_in, events):
    add(storage, "cube.gcode")
    queue = make_queue(command=stand_in)
    assert queue.enqueue("cube.gcode")
    assert queue.wait_idle(10)
    assert storage.metadata.get("cube.gcode")["gcodeAnalysis"] == {"estimatedPrintTime": float(len(DATA)),
                                                                    "filament": {}}
    assert [name for name, _ in events.seen if name.startswith("MetadataAnalysis")] == [
        "MetadataAnalysisStarted", "MetadataAnalysisFinished"]
    assert storage.entry(("cube.gcode",))["gcodeAnalysis"]["estimatedPrintTime"] == len(DATA)


def test_a_failing_analysis_is_logged_and_leaves_no_analysis(storage, make_queue, stand_in, caplog):
    add(storage, "fail.gcode")
    queue = make_queue(command=stand_in)
    with caplog.at_level(logging.ERROR):
        queue.enqueue("fail.gcode")
        assert queue.wait_idle(10)
    assert "gcodeAnalysis" not in storage.metadata.get("fail.gcode")
    assert "cannot read this file" in caplog.text


def test_a_hanging_analysis_is_stopped_at_the_timeout(storage, make_queue, stand_in, monkeypatch):
    monkeypatch.setenv("STAND_IN_DELAY", "30")
    add(storage, "slow.gcode")
    queue = make_queue(command=stand_in, timeout=0.5)
    queue.enqueue("slow.gcode")
    assert queue.wait_idle(10)
    assert "gcodeAnalysis" not in storage.metadata.get("slow.gcode")


def test_a_file_replaced_during_its_analysis_keeps_no_stale_result(storage, make_queue, stand_in):
    add(storage, "slow.gcode")
    queue = make_queue(command=stand_in)
    queue.enqueue("slow.gcode")
    threading.Event().wait(0.2)  # the stand-in is running now
    add(storage, "slow.gcode", data=DATA * 3)
    assert queue.enqueue("slow.gcode")  # queued again: the running one does not count
    assert queue.wait_idle(10)
    assert storage.metadata.get("slow.gcode")["gcodeAnalysis"]["estimatedPrintTime"] == 3 * len(DATA)


def test_the_queue_is_bounded_and_does_not_queue_twice(storage, make_queue, stand_in):
    for name in ("slow.gcode", "a.gcode", "b.gcode"):
        add(storage, name)
    queue = make_queue(command=stand_in, size=1)
    assert queue.enqueue("slow.gcode")
    threading.Event().wait(0.2)  # taken off the queue, running
    assert queue.enqueue("a.gcode")
    assert not queue.enqueue("a.gcode")  # already waiting
    assert not queue.enqueue("b.gcode")  # full
    assert queue.wait_idle(10)
    assert "gcodeAnalysis" in storage.metadata.get("a.gcode")


def test_deleted_before_its_turn_is_skipped(storage, make_queue, stand_in):
    add(storage, "slow.gcode")
    add(storage, "gone.gcode")
    queue = make_queue(command=stand_in)
    queue.enqueue("slow.gcode")
    queue.enqueue("gone.gcode")
    storage.remove(("gone.gcode",))
    assert queue.wait_idle(10)
    assert storage.metadata.get("gone.gcode") == {}


def test_stop_kills_the_running_analyser(storage, make_queue, stand_in, monkeypatch):
    monkeypatch.setenv("STAND_IN_DELAY", "30")
    add(storage, "slow.gcode")
    queue = make_queue(command=stand_in)
    queue.enqueue("slow.gcode")
    threading.Event().wait(0.3)
    queue.stop()
    assert queue.wait_idle(5)
    assert not queue.enqueue("slow.gcode")


def test_the_real_analyser(storage, make_queue):
    add(storage, "cube.gcode", data=b"G90\nM82\nG92 E0\nG1 X10 Y10 Z0.2 F3000\nG1 X20 Y10 E1.0 F1200\n")
    queue = make_queue()
    queue.enqueue("cube.gcode")
    assert queue.wait_idle(60)
    result = storage.metadata.get("cube.gcode")["gcodeAnalysis"]
    assert result["estimatedPrintTime"] > 0
    assert result["filament"]["tool0"]["length"] == pytest.approx(1.0)


def test_a_failure_is_remembered_and_catch_up_skips_it(storage, make_queue, stand_in):
    add(storage, "fail.gcode")
    add(storage, "sub/new.gcode")
    add(storage, "done.gcode")
    storage.metadata.update("done.gcode", {"gcodeAnalysis": {"estimatedPrintTime": 1.0}})
    queue = make_queue(command=stand_in)
    queue.enqueue("fail.gcode")
    assert queue.wait_idle(10)
    assert storage.metadata.get("fail.gcode")["_analysisFailed"] is True
    assert "_analysisFailed" not in storage.entry(("fail.gcode",))  # internal: never shown

    queue.catch_up()
    threading.Event().wait(0.3)
    assert queue.wait_idle(10)
    assert "gcodeAnalysis" in storage.metadata.get("sub/new.gcode")
    assert storage.metadata.get("done.gcode")["gcodeAnalysis"] == {"estimatedPrintTime": 1.0}
    assert "gcodeAnalysis" not in storage.metadata.get("fail.gcode")


def test_a_success_clears_an_earlier_failure(storage, make_queue, stand_in):
    add(storage, "cube.gcode")
    storage.metadata.update("cube.gcode", {"_analysisFailed": True})
    queue = make_queue(command=stand_in)
    queue.enqueue("cube.gcode")
    assert queue.wait_idle(10)
    assert "_analysisFailed" not in storage.metadata.get("cube.gcode")
    assert "gcodeAnalysis" in storage.metadata.get("cube.gcode")
