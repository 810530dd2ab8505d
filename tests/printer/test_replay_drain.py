"""A replayed line drained by an echo's error goes again as soon as the line is quiet.

Marlin empties its receive buffer on every line error. After a bad line, a line that was in
flight behind it can reach the firmware together with the host's replay of the bad line: its
error ("Line Number is not Last Line Number+1") then drains the replay, and nothing answers
it. This plays exactly that, with the benchmark simulator's Marlin replies (bench/simulator.py)
on a real pseudo-terminal: the line behind the bad one is held back until the replay arrives,
then both are read as one chunk.
"""
import importlib.util
import os
import select
import threading
import time
import tty
from pathlib import Path

from octoserve.printer.comm.connection import REPLAY_STALL, Connection
from octoserve.printer.comm.options import ConnectionOptions
from tests.printer.conftest import RecordingListener, job_lines

SIMULATOR = Path(__file__).resolve().parents[2] / "bench" / "simulator.py"


def load_simulator():
    spec = importlib.util.spec_from_file_location("bench_simulator", SIMULATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class EchoAfterReplay:
    """The firmware side: Marlin's checks, every 7th line refused once, echoes delivered late."""

    def __init__(self, lines):
        sim = load_simulator()
        self.record = sim.Record([line.encode() for line in lines])
        self.firmware = sim.Firmware(self.record, advanced_ok=True, buffer_free=3, resend_every=7)
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.slave = slave
        self.path = os.ttyname(slave)
        self.held = []          # lines behind the refused one, "still on the wire"
        self.refused = None     # the wire bytes of the refused line, until its replay arrives
        self.echo_sent_at = None
        self.resent_after = []  # seconds from the echo's error to the next copy of the refused line
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        partial = b""
        while not self.stop.is_set():
            if not select.select([self.master], [], [], 0.05)[0]:
                continue
            data = partial + os.read(self.master, 65536)
            *lines, partial = data.split(b"\n")
            self.chunk([line + b"\n" for line in lines if line.strip()])

    def chunk(self, lines):
        now = time.monotonic()
        if self.refused is not None:
            if self.refused not in lines:
                self.held.extend(lines)  # lines the host sent behind the refused one
                return
            if self.held and self.echo_sent_at is None:
                # The held line and the replay arrive together: the held line's error drains the replay.
                self.echo_sent_at = now
                lines, self.held = self.held + lines, []
                self.reply(self.firmware.feed(lines, now))
                return
            if self.echo_sent_at is not None:
                self.resent_after.append(now - self.echo_sent_at)
            # (Nothing was behind the refused line: no echo could drain its replay this time.)
            self.refused = self.echo_sent_at = None
        for index, line in enumerate(lines):
            reply = self.firmware.feed([line], now)
            self.reply(reply)
            if b"checksum mismatch" in reply:
                self.refused, self.held = line, lines[index + 1:]
                return

    def reply(self, data):
        os.write(self.master, data)

    def close(self):
        self.stop.set()
        self.thread.join(2)
        os.close(self.master)
        os.close(self.slave)


def test_a_replayed_line_drained_by_an_echo_is_sent_again_once_the_line_is_quiet():
    lines = job_lines(300)
    firmware = EchoAfterReplay(lines)
    firmware.thread.start()
    connection = Connection(firmware.path, 250000, RecordingListener(), ConnectionOptions())
    try:
        connection.open()
        assert connection.wait_operational(10)
        done, feed = threading.Event(), iter(lines)
        connection.start_job(lambda: next(feed, None), done.set)
        assert done.wait(30), f"the job did not finish: {connection.machine.state}"
    finally:
        connection.close()
        firmware.close()
    summary = firmware.record.summary("test")
    assert summary["intact"], summary
    assert summary["drained_lines"] >= 1  # the scenario really happened: a replay was drained
    assert firmware.resent_after, "the drained replay was never sent again"
    # Sent again by the reader's quiet wait (a few round trips, at most 50 ms), not the poller's backstop.
    assert max(firmware.resent_after) < REPLAY_STALL, firmware.resent_after
