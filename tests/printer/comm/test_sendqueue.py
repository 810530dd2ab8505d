"""The send queue's rules one by one: numbering, lanes, the window, M110, resends."""
import pytest

from octoserve.printer.comm.framing import encode_numbered
from octoserve.printer.comm.sendqueue import Lane, Outgoing, ResendResult, SendQueue, m110_target

REWOUND, DUPLICATE, STALE = ResendResult.REWOUND, ResendResult.DUPLICATE, ResendResult.STALE
UNAVAILABLE, STUCK = ResendResult.UNAVAILABLE, ResendResult.STUCK


def drain(queue):
    """Everything next() hands out right now."""
    return list(iter(queue.next, None))


def wire(outs):
    return [out.data for out in outs]


def source_of(lines):
    lines = iter(lines)
    return lambda: next(lines, None)


def queue_with(*commands, **settings):
    """A queue holding `commands`, numbered."""
    queue = SendQueue(**settings)
    for command in commands:
        queue.put(command, numbered=True)
    return queue


def moves(first, last):
    return [f"G1 X{n}" for n in range(first, last + 1)]


def send_acked(queue, *commands):
    for command in commands:
        queue.put(command, numbered=True)
        out = queue.next()
        assert queue.acknowledge() is out


def sent_one_by_one(queue):
    """The wire bytes of everything queued, each acked before the next."""
    sent = []
    while (out := queue.next()) is not None:
        sent.append(out.data)
        queue.acknowledge()
    return sent


def test_checksum_vectors_from_the_facts_sheet():
    queue = queue_with("G28 X Y Z", "G0 Z2 F6000", "T0", "G92 E0", "G28")
    assert sent_one_by_one(queue) == [b"N1 G28 X Y Z*105\n", b"N2 G0 Z2 F6000*3\n", b"N3 T0*57\n", b"N4 G92 E0*67\n",
                                      b"N5 G28*22\n"]


def test_first_line_is_n1_and_reset_numbering_names_the_firmwares_last_line_and_forgets_resends():
    queue = queue_with("M115")
    assert queue.next().data == b"N1 M115*39\n"
    assert queue.request_resend(1) is REWOUND
    queue.reset_numbering(18)
    assert not queue.holding and not queue.resend_active and queue.next_number == 19
    assert queue.request_resend(1) is UNAVAILABLE
    queue.put("M105", numbered=True)
    out = queue.next()
    assert (out.data, out.number, out.command) == (b"N19 M105*31\n", 19, "M105")


def test_unnumbered_lines_go_bare_and_numbers_are_taken_when_sent_not_when_queued():
    queue = SendQueue(max_in_flight=8)
    queue.put("G1 X1", Lane.JOB, numbered=True)
    queue.put("M105")
    queue.put("M117 hi", Lane.COMMAND, numbered=True)
    bare, *numbered = drain(queue)
    assert (bare.data, bare.number, bare.lane) == (b"M105\n", None, Lane.COMMAND)
    assert wire(numbered) == [encode_numbered(1, "M117 hi"), encode_numbered(2, "G1 X1")]


@pytest.mark.parametrize("bad, lane", [("", 1), ("   ", 1), ("G28\nG29", 1), ("M105\r", 1), ("M110 N0", 0)])
def test_put_refuses_anything_but_one_command_and_m110_cannot_jump_the_queue(bad, lane):
    with pytest.raises(ValueError):
        SendQueue().put(bad, Lane(lane), numbered=True)


@pytest.mark.parametrize("command, next_number, target", [
    ("M110 N0", None, 0), ("M110 N-1", None, -1), ("M110", 7, 7), ("M110", None, None), ("M1100 N5", 1, None),
    ("G28", 1, None)])
def test_m110_target(command, next_number, target):
    assert m110_target(command, next_number) == target


def test_lane_order_with_markers_job_lane_lines_before_the_source():
    queue = SendQueue(max_in_flight=8)
    queue.set_job_source(source_of(["G1 X1"]))
    queue.put("G1 X0", Lane.JOB)
    queue.put_marker(print, Lane.JOB)
    queue.put("M105", Lane.COMMAND)
    queue.put("M108", Lane.EMERGENCY)
    queue.put_marker(print, Lane.EMERGENCY)
    assert [(out.command, out.lane) for out in drain(queue)] == [
        ("M108", Lane.EMERGENCY), ("", Lane.EMERGENCY), ("M105", Lane.COMMAND), ("G1 X0", Lane.JOB),
        ("", Lane.JOB), ("G1 X1", Lane.JOB)]
    assert queue.in_flight == 4


def test_job_source_is_pulled_lazily_numbered_and_only_when_nothing_outranks_it():
    pulled = []
    lines = iter(["G28", "", "G1 X1"])
    queue = SendQueue()
    queue.put("M105")
    queue.set_job_source(lambda: pulled.append(1) or next(lines, None))
    assert queue.next().command == "M105"
    assert queue.next() is None and not pulled  # window full: nothing pulled ahead
    queue.acknowledge()
    assert queue.next().data == b"N1 G28*18\n" and len(pulled) == 1
    queue.acknowledge()
    assert queue.next().data == encode_numbered(2, "G1 X1")  # the blank line is skipped
    queue.acknowledge()
    assert not queue.idle  # the source has not said it is done yet
    assert queue.next() is None and queue.idle


def test_a_source_may_queue_a_marker_as_it_ends_which_needs_no_window():
    done = []
    queue = SendQueue()
    lines = iter(["G28"])

    def source():
        line = next(lines, None)
        if line is None:
            queue.put_marker(lambda: done.append(True), Lane.JOB)
        return line

    queue.set_job_source(source)
    assert queue.next().command == "G28"
    queue.put_marker(print)
    assert queue.next().marker is print and queue.in_flight == 1  # a marker needs no window
    queue.acknowledge()
    out = queue.next()
    assert out == Outgoing(b"", "", None, Lane.JOB, out.marker)
    out.marker()
    assert done and queue.idle


def test_emergency_lines_ignore_window_and_hold_but_count_in_flight():
    queue = queue_with("G1 X1", "G1 X2")
    queue.next()
    assert queue.request_resend(1) is REWOUND and queue.holding
    queue.put("M112", Lane.EMERGENCY)
    queue.put("M112", Lane.EMERGENCY, numbered=True)
    assert wire(drain(queue)) == [b"M112\n", encode_numbered(2, "M112")]
    assert queue.in_flight == 2
    queue.release_resend_hold()
    assert queue.next() is None  # the window (1) is full of emergency lines
    queue.acknowledge()
    queue.acknowledge()
    assert queue.next().data == encode_numbered(1, "G1 X1")


def replay(queue):
    """Everything the queue sends now, acknowledging each line: a replay goes one line at a time."""
    sent = []
    while (out := queue.next()) is not None:
        sent.append(out)
        if out.number is not None and queue.resend_active:
            queue.acknowledge()
    return sent


def test_clear_lanes_drops_queued_lines_and_the_job_source_but_not_a_replay_clear_drops_all():
    queue = SendQueue(max_in_flight=4)
    queue.set_job_source(source_of(["G1 X1", "G1 X2", "G1 X3"]))
    sent = drain(queue)
    queue.put("M105", numbered=True)
    assert queue.request_resend(2) is REWOUND
    queue.clear(Lane.JOB, Lane.COMMAND)
    queue.release_resend_hold()
    assert wire(replay(queue)) == wire(sent[1:])
    queue.request_resend(2)
    queue.clear()
    assert queue.idle and not queue.holding and queue.in_flight == 0
    assert queue.request_resend(2) is UNAVAILABLE
    queue.put("M105", numbered=True)
    assert queue.next().number == 4


def test_ack_per_line_by_default_and_an_ok_with_nothing_in_flight_is_ignored():
    queue = SendQueue()
    queue.put("G28")
    queue.put("M105")
    assert queue.next().command == "G28"
    assert queue.next() is None
    assert queue.acknowledge().command == "G28"
    assert queue.next().command == "M105"
    assert queue.acknowledge() and queue.acknowledge() is None and queue.acknowledge(5) is None


def test_max_in_flight_caps_the_window():
    queue = queue_with(*moves(1, 6), max_in_flight=4)
    assert [out.number for out in drain(queue)] == [1, 2, 3, 4]
    queue.acknowledge()
    assert [out.number for out in drain(queue)] == [5]


def test_rx_buffer_counts_the_exact_wire_bytes_but_a_long_line_may_go_alone():
    lines = [encode_numbered(n, command) for n, command in enumerate(["G1 X10", "G1 X20", "G1 X30"], 1)]
    fits_two = len(lines[0]) + len(lines[1])
    queue = queue_with("G1 X10", "G1 X20", "G1 X30", max_in_flight=10, rx_buffer=fits_two)
    assert wire(drain(queue)) == lines[:2]  # exactly full is allowed
    queue.set_window(max_in_flight=10, rx_buffer=fits_two - 1)
    queue.acknowledge()
    assert queue.next() is None  # lines[1] + lines[2] is one byte too many now
    queue.set_window(max_in_flight=10, rx_buffer=8)
    queue.acknowledge()
    assert queue.next().data == lines[2]  # longer than the buffer, but nothing else is in flight
    assert queue.next() is None


def test_unnumbered_line_waits_until_no_numbered_line_is_in_flight():
    queue = SendQueue(max_in_flight=4)
    queue.put("M105")
    queue.put("G1 X1", numbered=True)
    queue.put("M114")
    queue.put("G1 X2", numbered=True)
    assert [out.command for out in drain(queue)] == ["M105", "G1 X1"]
    queue.acknowledge()
    assert drain(queue) == []
    queue.acknowledge()
    assert [out.command for out in drain(queue)] == ["M114", "G1 X2"]


def test_advanced_ok_line_number_recovers_lost_oks():
    queue = queue_with(*moves(1, 4), max_in_flight=4)
    drain(queue)
    assert queue.acknowledge(1).number == 1
    assert queue.acknowledge(3).number == 3  # the ok for 2 was lost
    assert queue.in_flight == 1
    assert queue.acknowledge(9) is None and queue.in_flight == 1  # not in flight: tells nothing


def test_numbered_m110_sets_the_counter_and_goes_alone():
    queue = SendQueue(max_in_flight=4)
    send_acked(queue, "G1 X1", "G1 X2")
    queue.put("G1 X3", numbered=True)
    queue.put("M110 N0", numbered=True)
    queue.put("G28", numbered=True)
    assert [out.number for out in drain(queue)] == [3]  # M110 waits for an empty window
    queue.acknowledge()
    assert wire(drain(queue)) == [b"N0 M110 N0*125\n"]  # and nothing follows it until acked
    assert queue.request_resend(2) is REWOUND  # outside the new numbering: the M110 was lost
    queue.release_resend_hold()
    assert wire(drain(queue)) == [b"N0 M110 N0*125\n"]
    assert queue.acknowledge().command == "M110 N0"
    assert wire(drain(queue)) == [b"N1 G28*18\n"]


def test_m110_clears_the_history_and_is_not_resent_once_taken():
    queue = SendQueue()
    send_acked(queue, "G1 X1", "G1 X2", "M110 N0", "G28")
    assert queue.request_resend(0) is UNAVAILABLE  # re-sending it would rewind the firmware's counter
    assert queue.request_resend(-3) is UNAVAILABLE
    assert queue.request_resend(2) is STALE
    assert queue.request_resend(1) is REWOUND
    queue.release_resend_hold()
    assert queue.next().data == b"N1 G28*18\n"


def test_m110_in_flight_request_for_the_line_after_it_is_stale():
    queue = SendQueue()
    queue.put("M110 N-1", numbered=True)
    assert queue.next().data == b"N-1 M110 N-1*125\n"
    assert queue.request_resend(0) is STALE  # the firmware's counter is -1: it took the M110
    assert queue.request_resend(57) is REWOUND  # still counting from before: it never got the M110
    queue.release_resend_hold()
    assert queue.next().data == b"N-1 M110 N-1*125\n"
    assert queue.request_resend(-1) is REWOUND
    queue.release_resend_hold()
    assert queue.next().data == b"N-1 M110 N-1*125\n"
    queue.acknowledge()
    queue.put("G28", numbered=True)
    assert queue.next().data == encode_numbered(0, "G28")


def test_unnumbered_m110_resets_the_counter_too_and_a_numbered_bare_one_takes_the_next_number():
    queue = SendQueue(max_in_flight=4)
    send_acked(queue, "G1 X1")
    queue.put("M110 N5")
    queue.put("G28", numbered=True)
    assert wire(drain(queue)) == [b"M110 N5\n"]
    assert queue.request_resend(1) is UNAVAILABLE
    queue.acknowledge()
    assert wire(drain(queue)) == [encode_numbered(6, "G28")]
    queue.acknowledge()
    send_acked(queue, "M110")
    assert queue.request_resend(7) is UNAVAILABLE and queue.next_number == 8


def test_request_for_the_line_about_to_be_sent_is_stale_and_sends_nothing_wrong():
    """OctoPrint's bug: this request made it send the oldest history line under the current number."""
    queue = SendQueue(history_size=3)
    send_acked(queue, *moves(1, 5))
    queue.put("G1 X6", numbered=True)
    assert queue.request_resend(6) is STALE
    assert queue.request_resend(40) is STALE
    assert not queue.holding and not queue.resend_active
    assert queue.next().data == encode_numbered(6, "G1 X6")
    assert queue.request_resend(3) is UNAVAILABLE  # left the history
    assert queue.request_resend(4) is REWOUND


def test_rewind_replays_byte_identical_lines_before_commands_and_job_after_the_hold():
    queue = SendQueue(max_in_flight=4)
    queue.set_job_source(source_of(["G1 X1", "G1 X2", "G1 X3", "G1 X4", "G1 X5"]))
    first = drain(queue)
    queue.acknowledge()
    queue.put("M105", numbered=True)
    assert queue.request_resend(2) is REWOUND
    assert queue.in_flight == 0 and queue.holding and queue.resend_active
    assert queue.next() is None  # holding until the Resend's ok
    queue.release_resend_hold()
    assert [out.number for out in drain(queue)] == [2]  # a replay goes one line at a time
    queue.acknowledge()
    replayed = [first[1]]
    while queue.resend_active:
        replayed.append(queue.next())
        queue.acknowledge()
    assert wire(replayed) == wire(first[1:])
    assert [out.number for out in replayed] == [2, 3, 4]
    assert wire(drain(queue)) == [encode_numbered(5, "M105"), encode_numbered(6, "G1 X5")]


def test_the_replay_opens_the_window_once_the_firmware_takes_a_replayed_line():
    queue = queue_with(*moves(1, 5), max_in_flight=4)
    first = drain(queue)
    assert [out.number for out in first] == [1, 2, 3, 4]
    assert queue.request_resend(1, maybe_echo=False) is REWOUND
    queue.release_resend_hold()
    assert [out.number for out in drain(queue)] == [1]  # echoes of 2-4 could still drain it
    assert queue.acknowledge().number == 1
    rest = drain(queue)
    assert wire(rest) == wire(first[1:]) + [encode_numbered(5, "G1 X5")]
    assert not queue.resend_active


def test_echoes_before_the_replay_are_duplicates_after_it_they_rewind_again():
    queue = queue_with(*moves(1, 4), max_in_flight=4)
    drain(queue)
    assert queue.request_resend(1, maybe_echo=False) is REWOUND  # 2, 3 and 4 may each echo
    for _ in range(3):
        assert queue.request_resend(1) is DUPLICATE  # echoes while nothing was replayed: harmless
        assert queue.holding and queue.in_flight == 0
    assert queue.request_resend(1) is REWOUND  # budget spent: the replayed line itself was bad
    queue.release_resend_hold()
    assert [out.number for out in drain(queue)] == [1, 2, 3, 4]  # no echo can come: the window
    # A request after the replay went out: Marlin drained its RX buffer, perhaps with line 1 in it.
    assert queue.request_resend(1) is REWOUND
    queue.release_resend_hold()
    assert wire(drain(queue)) == [encode_numbered(1, "G1 X1")]  # 2-4 may echo now: one line


def test_checksum_errors_are_never_echoes():
    queue = queue_with(*moves(1, 4), max_in_flight=4)
    drain(queue)
    assert queue.request_resend(1, maybe_echo=False) is REWOUND
    assert queue.request_resend(1, maybe_echo=False) is REWOUND


def test_progress_ends_the_duplicate_budget():
    queue = queue_with(*moves(1, 4), max_in_flight=4)
    drain(queue)
    assert queue.request_resend(2) is REWOUND  # 1 was taken (its ok lost), 3 and 4 may echo
    queue.release_resend_hold()
    drain(queue)
    assert queue.acknowledge().number == 2
    assert queue.request_resend(3) is REWOUND


def test_stuck_after_max_same_resend_rewinds_without_progress():
    queue = SendQueue(max_same_resend=3)
    send_acked(queue, "G28")
    queue.put("G1 X1", numbered=True)
    queue.next()
    for _ in range(3 + 1):  # max_same_resend plus the window: each line in flight may echo once
        assert queue.request_resend(2) is REWOUND
        queue.release_resend_hold()
        assert queue.next().number == 2
    assert queue.request_resend(2) is STUCK
    queue.acknowledge()  # progress resets the count
    queue.put("G1 X2", numbered=True)
    queue.next()
    assert queue.request_resend(3) is REWOUND


def test_another_request_during_a_replay_rewinds_again():
    queue = queue_with(*moves(1, 4), max_in_flight=2)
    drain(queue)
    queue.acknowledge()
    queue.acknowledge()
    drain(queue)  # 3, 4 in flight
    assert queue.request_resend(3) is REWOUND
    queue.release_resend_hold()
    assert [out.number for out in drain(queue)] == [3]
    assert queue.request_resend(2) is REWOUND  # odd, but 2 is in the history and goes byte-identical
    queue.release_resend_hold()
    assert [out.number for out in replay(queue)] == [2, 3, 4]


def test_a_line_waiting_to_be_replayed_never_leaves_the_history():
    queue = SendQueue(history_size=3)
    send_acked(queue, "G1 X1", "G1 X2", "G1 X3")
    assert queue.request_resend(1) is REWOUND
    queue.put("M112", Lane.EMERGENCY, numbered=True)
    assert queue.next().data == encode_numbered(4, "M112")
    queue.acknowledge()
    queue.release_resend_hold()
    assert sent_one_by_one(queue) == [encode_numbered(n, f"G1 X{n}") for n in (1, 2, 3)]


@pytest.mark.parametrize("kwargs", [dict(max_in_flight=0), dict(rx_buffer=0), dict(history_size=0),
                                    dict(max_same_resend=0)])
def test_nonsense_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        SendQueue(**kwargs)
