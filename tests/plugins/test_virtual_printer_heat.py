"""Heaters with lag, blocking heat-ups, emergency commands and the busy keepalive."""
import re
import time

import pytest

from octoserve_plugins.virtual_printer.heaters import Heater, Thermals

TEMP_LINE = re.compile(rb" T:(\d+\.\d\d) /(\d+\.\d\d) B:(\d+\.\d\d) /(\d+\.\d\d) @:\d+ B@:\d+ W:(\?|\d+)")


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_heater_runs_flat_out_then_slows_near_the_target_and_cools_to_ambient():
    clock = FakeClock()
    heater = Heater("T", ambient=21.3, speed=1.0, clock=clock)
    heater.target = 200
    clock.now = 10
    assert heater.actual == pytest.approx(61.3)           # 4 degC/s far from the target
    clock.now = 50
    near = heater.actual
    assert 190 < near < 200                                 # slowing down, not overshooting
    clock.now = 60
    assert near < heater.actual < 200
    heater.target = 0
    clock.now = 400
    assert heater.actual == pytest.approx(21.3, abs=0.5)


def test_speed_factor_compresses_time():
    clock = FakeClock()
    fast = Heater("B", ambient=21.3, speed=50.0, clock=clock)
    fast.target = 60
    clock.now = 2
    assert abs(fast.actual - 60) < 1


def test_report_format():
    assert Thermals(21.3, 1.0, False).report() == " T:21.30 /0.00 B:21.30 /0.00 @:0 B@:0"
    assert Thermals(21.3, 1.0, True).report().startswith(" T:21.30 /0.00 B:21.30 /0.00 C:21.30 /0.00 @:0")


def test_targets_are_approached_with_a_lag(make_printer, connect):
    host = connect(make_printer(heat_speed=20))
    host.ask("M104 S200")
    host.ask("M140 S60")
    time.sleep(0.3)
    first = re.match(r"ok T:([\d.]+) /200.00 B:([\d.]+) /60.00 @:(\d+) B@:(\d+)", host.ask("M105")[0])
    time.sleep(0.3)
    second = re.match(r"ok T:([\d.]+) /200.00 B:([\d.]+) /60.00", host.ask("M105")[0])
    assert 21.3 < float(first[1]) < float(second[1]) < 200
    assert 21.3 < float(first[2]) < float(second[2]) < 60
    assert int(first[3]) > 0 and int(first[4]) > 0


def test_m109_blocks_with_progress_lines_until_within_a_degree(make_printer, connect):
    host = connect(make_printer(heat_speed=10))
    started = time.monotonic()
    lines = host.ask("M109 S60")
    assert time.monotonic() - started > 0.5                 # it really blocked
    progress = [TEMP_LINE.fullmatch(line.encode()) for line in lines[:-1]]
    assert all(progress) and len(progress) >= 2
    assert progress[0][5] == b"?"
    assert abs(float(progress[-1][1]) - 60) <= 1
    assert lines[-1] == "ok"


def test_m190_waits_for_the_bed(make_printer, connect):
    host = connect(make_printer(heat_speed=200))
    lines = host.ask("M190 S50")
    assert lines[-1] == "ok" and abs(float(TEMP_LINE.fullmatch(lines[-2].encode())[3]) - 50) <= 1


def test_m108_breaks_a_heat_wait_on_arrival(make_printer, connect):
    host = connect(make_printer(heat_speed=1))
    host.send("M109 S250")
    host.read_until(lambda line: line.startswith(b" T:"))
    host.send("M108")
    lines = host.read_until(lambda line: line == b"ok", deadline=2)   # the M109's ok, early
    assert all(TEMP_LINE.fullmatch(line) for line in lines[:-1])
    assert host.until_ok() == [b"ok"]                                  # then M108's own


def test_m112_during_a_heat_wait_kills_and_silences(make_printer, connect):
    host = connect(make_printer(heat_speed=1))
    host.send("M109 S250")
    host.read_until(lambda line: line.startswith(b" T:"))
    host.send("M112")
    lines = host.read_until(lambda line: b"kill() called" in line, deadline=2)
    assert lines[-2:] == [b"echo:EMERGENCY SHUTDOWN DETECTED. KILLED.", b"Error:Printer halted. kill() called!"]
    host.send("M105")
    assert host.quiet_for(0.3) == b""


def test_busy_keepalive_during_a_long_homing(make_printer, connect):
    host = connect(make_printer(home_time=1.3))
    host.ask("M113 S1")
    assert host.ask("G28") == ["echo:busy: processing", "ok"]
