"""The planner against programs small enough to work out by hand (a = 1000 mm/s² unless said otherwise)."""
import math

import pytest

from tests.files.analysis.conftest import EASY


def seconds(result):
    return result["estimatedPrintTime"]


def test_a_long_move_accelerates_cruises_and_brakes(run):
    # 100 mm/s: 0.1 s and 5 mm to reach it, the same to stop, 90 mm cruising in 0.9 s.
    assert seconds(run(EASY + "G1 X100 F6000\n")) == pytest.approx(1.1, abs=1e-3)


def test_a_short_move_never_reaches_its_speed(run):
    # 4 mm: the peak is sqrt(a·d) = 63.2 mm/s, half-way; up and down take 2·63.2/1000 s.
    assert seconds(run(EASY + "G1 X4 F6000\n")) == pytest.approx(2 * math.sqrt(4000) / 1000, abs=1e-3)


def test_collinear_moves_do_not_slow_down_at_their_junction(run):
    assert seconds(run(EASY + "G1 X50 F6000\nG1 X100\n")) == pytest.approx(1.1, abs=1e-3)
    ten_steps = "".join(f"G1 X{10 * i}\n" for i in range(1, 11))
    assert seconds(run(EASY + "G1 F6000\n" + ten_steps)) == pytest.approx(1.1, abs=1e-3)


def test_a_right_angle_slows_to_the_jerk_limit(run):
    # Jerk 10 mm/s: the X block stops at 10 mm/s, the Y block starts from 10 mm/s (Marlin's classic jerk).
    # Each block: 0.09 s and 4.95 mm from 10 to 100 mm/s, the same back down, 90.1 mm cruising.
    program = EASY + "M205 X10 Y10\nG1 X100 F6000\nG1 Y100\n"
    assert seconds(run(program)) == pytest.approx(2 * (0.09 + 0.09 + 0.901), abs=1e-3)
    # With no jerk at all the corner is a full stop: two moves of 1.1 s.
    assert seconds(run(EASY + "G1 X100 F6000\nG1 Y100\n")) == pytest.approx(2.2, abs=1e-3)


def test_a_reversal_is_a_full_stop_without_jerk_and_a_jerk_with_it(run):
    assert seconds(run(EASY + "G1 X100 F6000\nG1 X0\n")) == pytest.approx(2.2, abs=1e-3)
    # Marlin's rule takes a reversal's jerk as max(v_exit, -v_entry), so with jerk 10 each block may stop at
    # and start from 10 mm/s, as at the right angle above.
    assert seconds(run(EASY + "M205 X10\nG1 X100 F6000\nG1 X0\n")) == pytest.approx(2 * 1.081, abs=1e-3)


def test_axis_caps_limit_the_cruise_speed(run):
    # M203 X50: 50 mm/s although F asks 100; 0.05 s and 1.25 mm each way, 97.5 mm cruising.
    program = EASY + "M203 X50\nG1 X100 F6000\n"
    assert seconds(run(program)) == pytest.approx(0.1 + 97.5 / 50, abs=1e-3)


def test_axis_acceleration_caps_the_block_acceleration(run):
    # M201 Y100 caps a pure Y move at 100 mm/s²: to 10 mm/s in 0.1 s and 0.5 mm, 99 mm cruising.
    program = EASY + "M201 Y100\nG1 Y100 F600\n"
    assert seconds(run(program)) == pytest.approx(0.2 + 99 / 10, abs=1e-3)


def test_travel_print_and_retract_accelerations(run):
    # T (no E) for travel, P for printing moves, R for E-only moves.
    base = EASY + "M83\nM204 P100 T1000 R1000\n"
    travel = seconds(run(base + "G1 X100 F600\n"))
    printing = seconds(run(base + "G1 X100 E1 F600\n"))
    assert travel == pytest.approx(0.02 + 99.9 / 10, abs=1e-3)
    assert printing == pytest.approx(0.2 + 99 / 10, abs=1e-3)
    assert seconds(run(base + "M204 R100\nG1 E10 F600\n")) == pytest.approx(0.2 + 9 / 10, abs=1e-3)


def test_minimum_feed_rates(run):
    # M205 S (printing) and T (travel) raise slower feed rates.
    program = EASY + "M83\nM205 S20 T30\nG1 X100 F60\nG1 X200 E1\n"
    expected = (2 * 0.03 + (100 - 0.9) / 30) + (2 * 0.02 + (100 - 0.4) / 20)
    assert seconds(run(program)) == pytest.approx(expected, abs=1e-3)


def test_speed_factor_m220(run):
    assert seconds(run(EASY + "M220 S50\nG1 X100 F12000\n")) == pytest.approx(1.1, abs=1e-3)


def test_the_file_limits_replace_the_profile_ones_and_the_profile_caps_feeds(run):
    profile = {"axes": {"x": {"speed": 600}, "y": {"speed": 600}, "z": {"speed": 600}, "e": {"speed": 600}}}
    capped = seconds(run("M201 X1000\nM204 T1000\nM205 X0\nG1 X100 F6000\n", profile))
    assert capped == pytest.approx(0.02 + 99.9 / 10, abs=1e-3)  # the profile's 600 mm/min
    assert seconds(run(EASY + "G1 X100 F6000\n", profile)) == pytest.approx(1.1, abs=1e-3)  # M203 wins
