"""Regression: a resend with several lines in flight must not grow into a storm that ends the print.

Runs the benchmark's simulator (bench/simulator.py, Marlin 2.1 replies with ADVANCED_OK, a forced
checksum error every 50 lines) in its own process behind a pty, and streams a job through the comm
layer; the simulator checks from its side that every line arrived once and in order.
"""
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from octoserve.printer.comm.connection import Connection
from octoserve.printer.comm.options import ConnectionOptions
from tests.printer.conftest import RecordingListener, job_lines, wait_until

SIMULATOR = Path(__file__).resolve().parents[2] / "bench" / "simulator.py"


@pytest.mark.parametrize("variant", [[], ["--no-drain"], ["--no-ok-after-resend"]],
                         ids=["marlin-2.1", "no-drain", "marlin-2.0.x"])
def test_a_resend_every_50_lines_with_send_ahead_keeps_the_job_intact(tmp_path, variant):
    lines = job_lines(1500)
    job = tmp_path / "job.gcode"
    job.write_text("\n".join(lines) + "\n")
    link, record = tmp_path / "tty", tmp_path / "record.json"
    simulator = subprocess.Popen([sys.executable, str(SIMULATOR), "--link", str(link), "--job", str(job),
                                  "--record", str(record), "--advanced-ok", "--resend-every", "50", *variant])
    connection = None
    try:
        wait_until(link.exists, what="the simulator's pty")
        connection = Connection(str(link), 250000, RecordingListener(), ConnectionOptions())
        connection.open()
        assert connection.wait_operational(10)
        done, feed = threading.Event(), iter(lines)
        connection.start_job(lambda: next(feed, None), done.set)
        assert done.wait(60), f"the job did not finish: {connection.machine.state} {connection.machine.error}"
        assert connection.stats["resends"] >= len(lines) // 50
        # Marlin 2.0.x sends no ok after a Resend: the host waits for one once, then knows.
        assert connection.stats["resend_ok_waits"] <= (1 if "--no-ok-after-resend" in variant else 0)
    finally:
        if connection is not None:
            connection.close()
        simulator.terminate()
        simulator.wait(10)
    summary = json.loads(record.read_text())
    assert summary["intact"] and summary["in_order_once"], summary
