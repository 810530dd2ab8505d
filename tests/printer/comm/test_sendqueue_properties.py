"""Property: corruptions, random resend requests and lost oks never make the host send a wrong line under a number.

A simulated Marlin (checks N and checksum, drains part of its RX buffer on an error, answers with or
without an ok after a Resend, with or without ADVANCED_OK) runs a job against a driver that behaves as
the connection layer is told to in sendqueue's docstring. Hypothesis picks every step.
"""
import re
from collections import deque

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from octoserve.printer.comm.framing import checksum, encode_numbered, encode_plain
from octoserve.printer.comm.sendqueue import Lane, ResendResult, SendQueue, m110_target

HISTORY = 16
STEP_LIMIT = 1500
REWOUND, UNAVAILABLE, STUCK = ResendResult.REWOUND, ResendResult.UNAVAILABLE, ResendResult.STUCK

parameter = st.builds("{}{}".format, st.sampled_from("XYZEFS"), st.integers(-9999, 99999))
gcode = st.builds(lambda code, params: " ".join([code, *params]),
                  st.sampled_from(["G1", "G0", "G92", "M106", "G4", "M104", "T0", "G28"]),
                  st.lists(parameter, max_size=8))
long_line = st.builds("M118 {}".format, st.text("abcdefgh", min_size=90, max_size=130))
job_lines = st.lists(st.one_of(gcode, gcode, gcode, long_line), min_size=1, max_size=30)


def strtol(text: str) -> int:
    match = re.match(r"-?\d+", text)
    return int(match.group()) if match else 0


class Firmware:
    """Marlin's line checks (facts 1.3) over an RX buffer the host's bytes land in."""

    def __init__(self, last_n: int, ok_after_resend: bool, advanced_ok: bool):
        self.rx = deque()
        self.out = deque()  # (line, is the ok of a numbered line)
        self.last_n = last_n
        self.ok_after_resend = ok_after_resend
        self.advanced_ok = advanced_ok
        self.executed = []

    def process(self, corrupt_at=None, drain=0):
        raw = self.rx.popleft()
        if corrupt_at is not None:
            index = 1 + corrupt_at % (raw.rindex(b"*") - 1)
            replacement = b"%d" % ((raw[index] - 47) % 10) if raw[index:index + 1].isdigit() else b"#"
            raw = raw[:index] + replacement + raw[index + 1:]
        text = raw.decode("ascii").rstrip("\n")
        if not text.startswith("N"):
            self.executed.append(text)
            self.out.append(("ok", False))
            return
        star = text.rfind("*")
        head = text if star < 0 else text[:star]
        if "M110" in head:
            number = int(re.findall(r"N(-?\d+)", head)[-1])
        else:
            number = strtol(head[1:])
            if number != self.last_n + 1:
                return self.error("Line Number is not Last Line Number+1", drain)
        if star < 0:
            return self.error("No Checksum with line number", drain)
        if text[star + 1:] != str(checksum(head.encode())):
            return self.error("checksum mismatch", drain)
        self.last_n = number
        self.executed.append(head.split(" ", 1)[1])
        self.out.append((f"ok N{number} P15 B3" if self.advanced_ok else "ok", True))

    def error(self, message, drain):
        self.out.append((f"Error:{message}, Last Line: {self.last_n}", False))
        for _ in range(min(drain, len(self.rx))):
            self.rx.popleft()
        self.resend(self.last_n + 1)

    def resend(self, number):
        self.out.append((f"Resend: {number}", False))
        if self.ok_after_resend:
            self.out.append(("ok", False))


class Driver:
    """The connection layer as sendqueue's docstring describes it, plus the invariant checks."""

    def __init__(self, queue, firmware, knows_flavor, max_same_resend):
        self.queue, self.fw = queue, firmware
        self.knows_flavor = knows_flavor
        self.max_same_resend = max_same_resend
        self.awaiting_resend_ok = False
        self.maybe_echo = True
        self.assigned = {}  # number -> the bytes first sent under it, in the current M110 numbering
        self.epoch_m110 = None
        self.m110_acked = False
        self.requests = 0  # resend requests since the host last saw a numbered line acked
        self.outcome = None
        self.sentinel_confirmed = False
        self.last_resend = None

    def pump(self):
        while (out := self.queue.next()) is not None:
            if out.marker is not None:
                out.marker()
                continue
            self.check_write(out)
            self.fw.rx.append(out.data)

    def check_write(self, out):
        if out.number is None:
            assert out.data == encode_plain(out.command)
            return
        assert out.data == encode_numbered(out.number, out.command)
        if m110_target(out.command) is not None and out is not self.epoch_m110:
            self.assigned, self.epoch_m110, self.m110_acked = {}, out, False
        first = self.assigned.setdefault(out.number, out.data)
        assert first == out.data, f"N{out.number} went out as {out.data!r}, first as {first!r}"

    def deliver(self, drop=False):
        line, numbered_ok = self.fw.out.popleft()
        if drop:
            return
        if self.awaiting_resend_ok:
            if line == "ok":
                self.release()
                return
            if not self.knows_flavor or line.startswith("ok"):
                self.release()  # the Resend's ok was lost, or this firmware sends none
        if line.startswith("Error:"):
            self.maybe_echo = "Line Number" in line
        elif line.startswith("Resend:"):
            self.on_resend(int(line.split(":")[1]))
        elif line.startswith("ok"):
            match = re.match(r"ok N(-?\d+)", line)
            self.acknowledged(self.queue.acknowledge(int(match.group(1)) if match else None), real=True)

    def release(self):
        self.awaiting_resend_ok = False
        self.queue.release_resend_hold()

    def on_resend(self, number):
        self.requests += 1
        result = self.queue.request_resend(number, maybe_echo=self.maybe_echo)
        self.maybe_echo = True
        if result in (UNAVAILABLE, STUCK):
            self.justify(result, number)
            self.outcome = result
            return
        if result is REWOUND:
            self.sentinel_confirmed = False
        if self.knows_flavor and not self.fw.ok_after_resend:
            self.queue.release_resend_hold()
        else:
            self.awaiting_resend_ok = True

    def justify(self, result, number):
        if result is STUCK:
            # Requests for other numbers count too: an in-flight M110 turns them into requests for itself.
            assert self.requests > self.max_same_resend, f"STUCK on N{number} too early"
            return
        newest = max(self.assigned, default=None)
        available = (number in self.assigned and number > newest - HISTORY
                     and not (self.m110_acked and number == self.epoch_m110.number))
        assert not available, f"N{number} was still in the history"

    def acknowledged(self, out, real):
        if out is None or out.number is None:
            return
        self.requests = 0
        self.last_resend = None  # "duplicate" repeats a request of the current resend episode only
        if out is self.epoch_m110:
            self.m110_acked = True
        if out.command == "M400":
            self.sentinel_confirmed = real

    def timeout(self):
        """What the connection does when nothing arrives for a while."""
        if self.awaiting_resend_ok or self.queue.holding:
            self.release()
        elif self.queue.in_flight:
            self.acknowledged(self.queue.acknowledge(), real=False)


class Run:
    """One job from M110 N0 to a confirmed M400, hypothesis choosing what the wire and firmware do next."""

    def __init__(self, data, job, windowed, ok_after_resend, advanced_ok, knows_flavor, last_n, max_same_resend):
        window = dict(max_in_flight=4, rx_buffer=128) if windowed else {}
        self.queue = SendQueue(history_size=HISTORY, max_same_resend=max_same_resend, **window)
        self.fw = Firmware(last_n, ok_after_resend, advanced_ok)
        self.driver = Driver(self.queue, self.fw, knows_flavor, max_same_resend)
        self.data, self.job = data, job
        self.lines = iter(job)
        self.source_done = False
        self.faults = data.draw(st.integers(0, 12), label="faults")
        self.users = []  # (command, numbered)
        self.injected = False  # a resend request the firmware did not make
        # A request beyond the history ends the run, so only some runs make one, once.
        self.far_past_used = data.draw(st.integers(0, 3), label="far-past request") != 0

    def source(self):
        line = next(self.lines, None)
        self.source_done = line is None
        return line

    def finished(self):
        d = self.driver
        return (self.source_done and d.sentinel_confirmed and self.queue.idle and not self.fw.rx
                and not self.fw.out)

    def actions(self):
        fw = self.fw
        actions = [] if fw.rx or fw.out else ["timeout"]  # a timeout is silence on the line
        if not (fw.rx or fw.out) and self.queue.recovering:
            actions.append("quiet")  # a replayed line unanswered on a silent line: the connection sends it again
        if fw.rx:
            actions += ["process"] * 4
            if self.faults and fw.rx[0].startswith(b"N"):
                actions.append("corrupt")
        if fw.out:
            actions += ["deliver"] * 4
            if self.faults and fw.out[0][0].startswith("ok"):
                actions.append("drop")
        if self.faults:
            actions.append("bogus")
            if self.driver.last_resend is not None:
                actions.append("duplicate")
            if not self.far_past_used:
                actions.append("far past")
        if len(self.users) < 6:
            actions.append("user")
        return actions

    def step(self):
        d, fw = self.driver, self.fw
        if self.source_done and self.queue.idle and not d.sentinel_confirmed:
            self.queue.put("M400", numbered=True)  # completion: a numbered line after the last must get a real ok
        d.pump()
        action = self.data.draw(st.sampled_from(self.actions()))
        if action in ("corrupt", "drop", "bogus", "duplicate", "far past"):
            self.faults -= 1
        if action == "process":
            fw.process()
        elif action == "corrupt":
            fw.process(self.data.draw(st.integers(0, 200)), self.data.draw(st.integers(0, len(fw.rx))))
        elif action in ("deliver", "drop"):
            if fw.out[0][0].startswith("Resend:"):
                d.last_resend = int(fw.out[0][0].split(":")[1])
            d.deliver(drop=action == "drop")
        elif action == "bogus":
            self.injected = True
            next_number = self.queue.next_number
            fw.resend(self.data.draw(st.sampled_from([
                next_number, next_number + 3, next_number - 1, next_number - 3, fw.last_n + 1])))
        elif action == "far past":
            self.injected = self.far_past_used = True
            fw.resend(self.queue.next_number - HISTORY - 2)
        elif action == "duplicate":
            self.injected = True
            fw.resend(d.last_resend)
        elif action == "user":
            self.user_command()
        elif action == "quiet":
            self.queue.resend_unacknowledged()
        else:
            d.timeout()
        d.pump()

    def user_command(self):
        numbered = self.data.draw(st.booleans())
        if numbered and self.data.draw(st.integers(0, 9)) == 0:
            command = f"M110 N{self.data.draw(st.integers(-1, 50))}"
        else:
            command = f"M117 user{len(self.users)}"
        self.users.append((command, numbered))
        self.queue.put(command, Lane.COMMAND, numbered=numbered)

    def play(self):
        self.queue.put("M110 N0", numbered=True)
        self.queue.set_job_source(self.source)
        for _ in range(STEP_LIMIT):
            if self.driver.outcome is not None or self.finished():
                break
            self.step()
        else:
            raise AssertionError("the run never finished: livelock")
        event(f"outcome: {self.driver.outcome.name if self.driver.outcome else 'job done'}")
        if self.driver.outcome is None:
            self.check_executed()

    def check_executed(self):
        executed = self.fw.executed
        job = [c for c in executed if not c.startswith(("M110", "M117", "M400"))]
        # A mid-job M110 renumbers over whatever the firmware still lacks. A Resend the firmware never
        # sent can make the host believe it lacks nothing, so with both, only order and at-most-once hold.
        lossy = self.injected and any(command.startswith("M110") for command, _ in self.users)
        if lossy:
            remaining = iter(self.job)
            assert all(line in remaining for line in job), "job lines executed twice or out of order"
        else:
            assert job == self.job, "the firmware did not execute each job line exactly once, in order"
        for command, numbered in self.users:
            if command.startswith("M117"):
                count = executed.count(command)
                exact = not self.injected or (numbered and not lossy)
                assert count == 1 if exact else count <= 1, command


def run_property(data, windowed):
    Run(data, data.draw(job_lines, label="job"), windowed,
        ok_after_resend=data.draw(st.booleans(), label="ok after Resend (Marlin 1.1/2.1)"),
        advanced_ok=data.draw(st.booleans(), label="ADVANCED_OK"),
        knows_flavor=data.draw(st.booleans(), label="connection knows the flavor"),
        last_n=data.draw(st.sampled_from([0, -1, 0, 7, 500]), label="firmware's last N at connect"),
        max_same_resend=data.draw(st.sampled_from([3, 10]), label="max_same_resend")).play()


SETTINGS = settings(max_examples=700, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(st.data())
def test_ack_per_line_never_sends_a_wrong_line_under_a_number(data):
    run_property(data, windowed=False)


@SETTINGS
@given(st.data())
def test_windowed_never_sends_a_wrong_line_under_a_number(data):
    run_property(data, windowed=True)
