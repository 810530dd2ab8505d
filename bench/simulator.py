"""A lean Marlin-like firmware simulator on a pseudo-terminal that records what a host streams to it.

Run by the benchmark (bench/run.py), one process per streaming run:

    python bench/simulator.py --link /tmp/x/ttyBENCH0 --job job.gcode --record out.json
        [--ack-delay MS] [--resend-every N] [--advanced-ok] [--buffer-free B]
        [--no-drain] [--no-ok-after-resend] [--trace FILE]

It opens a pty in raw mode, symlinks the slave at ``--link`` (the host opens that path as a serial
port) and answers like Marlin 2.1: M110 / M115 (FIRMWARE_NAME:Marlin and Cap: lines) / M105 / M114
/ M20 / M27, ``ok`` to everything else, and for numbered lines Marlin's checks (line number first,
then checksum) with ``Error:...``, ``Resend: n`` and ``ok``. After a bad line it drops the complete
lines already read behind it, as Marlin drains its receive buffer (``--no-drain`` answers each of
them instead; ``--no-ok-after-resend`` behaves like Marlin 2.0.x; ``--trace`` logs every line read
and every reply, for debugging a host).

Nothing moves and nothing heats: every reply is due the moment its line has been read, or
``--ack-delay`` milliseconds later (a latency, as a USB round trip; replies are not serialised, so
a host that keeps several lines in flight gets several answers per millisecond).

The record (JSON, written atomically when the job's last line has been accepted, on SIGTERM/SIGINT,
or at ``--max-time``): lines received, the rate between the first and the last job line, and whether
the accepted lines were exactly the job's lines, each once, in the file's order. Lines the host adds
itself (temperature polls, M110, its start and end scripts) are allowed between job lines as long
as they are not job lines themselves; the job generator (bench/jobgen.py) makes every job line unique,
so a duplicate or a skipped line always shows.
"""
import argparse
import json
import os
import select
import signal
import sys
import time
import tty
from collections import deque

READ_SIZE = 1 << 16
MAX_ERRORS_KEPT = 20


def checksum(data: bytes) -> int:
    c = 0
    for byte in data:
        c ^= byte
    return c


def normalise(line: bytes) -> bytes:
    """A host-stripped G-code line: comment removed, whitespace trimmed and collapsed."""
    semicolon = line.find(b";")
    if semicolon >= 0:
        line = line[:semicolon]
    return b" ".join(line.split())


def load_job(path: str) -> list:
    with open(path, "rb") as f:
        return [cmd for cmd in (normalise(raw) for raw in f) if cmd]


class Record:
    """What arrived, for the summary; the job check runs online so nothing per line is kept."""

    def __init__(self, expected: list):
        self.expected = expected
        self.job_set = set(expected)
        self.pointer = 0  # index in `expected` of the next job line due
        self.lines_received = 0  # every non-empty line read, rejected ones included
        self.numbered_received = 0
        self.bytes_received = 0
        self.accepted = 0  # lines executed (numbered or not)
        self.extra_commands = {}  # accepted non-job commands by code
        self.problems = 0
        self.problem_texts = []
        self.line_errors = 0  # Error:+Resend: answered (forced ones included)
        self.forced_resends = 0
        self.drained_lines = 0
        self.first_job_time = None
        self.last_job_time = None
        self.last_job_number = None
        self.numbers_in_order = True
        self.max_unanswered = 0  # most lines read but not yet answered at one time
        self.started = time.monotonic()
        self.first_line_time = None
        self.z_times = {}  # Z height of a job line that moves to one -> when it arrived (for event latency)

    def problem(self, text: str):
        self.problems += 1
        if len(self.problem_texts) < MAX_ERRORS_KEPT:
            self.problem_texts.append(text)

    def accept(self, command: bytes, number, now: float):
        self.accepted += 1
        expected = self.expected
        if self.pointer < len(expected) and command == expected[self.pointer]:
            self.pointer += 1
            if command.startswith(b"G1 Z"):
                self.z_times.setdefault(command.split(b" ")[1][1:].decode(), now)
            if self.first_job_time is None:
                self.first_job_time = now
            self.last_job_time = now
            if number is not None:
                if self.last_job_number is not None and number <= self.last_job_number:
                    self.numbers_in_order = False
                    self.problem(f"job line {self.pointer} came as N{number} after N{self.last_job_number}")
                self.last_job_number = number
        elif command in self.job_set:
            where = self.pointer + 1
            wanted = expected[self.pointer].decode(errors="replace") if where <= len(expected) else "end of job"
            self.problem(f"job line out of place at position {where}: got {command.decode(errors='replace')!r}, "
                         f"expected {wanted!r}")
        else:
            code = command.split(b" ", 1)[0].decode(errors="replace").upper()
            self.extra_commands[code] = self.extra_commands.get(code, 0) + 1

    @property
    def complete(self) -> bool:
        return self.pointer == len(self.expected)

    def summary(self, reason: str) -> dict:
        job_lines = self.pointer
        span = (self.last_job_time - self.first_job_time) if job_lines > 1 else 0.0
        rate = (job_lines - 1) / span if span > 0 else None
        intact = self.complete and self.problems == 0 and self.numbers_in_order
        return {
            "reason": reason,
            "expected_job_lines": len(self.expected),
            "job_lines_accepted": job_lines,
            "complete": self.complete,
            "in_order_once": self.problems == 0 and self.numbers_in_order,
            "intact": intact,
            "lines_per_s": rate,
            "job_seconds": span,
            "lines_received": self.lines_received,
            "numbered_received": self.numbered_received,
            "bytes_received": self.bytes_received,
            "accepted": self.accepted,
            "extra_commands": self.extra_commands,
            "line_errors": self.line_errors,
            "forced_resends": self.forced_resends,
            "drained_lines": self.drained_lines,
            "max_unanswered_lines": self.max_unanswered,
            "problems": self.problems,
            "problem_texts": self.problem_texts,
            "uptime_s": time.monotonic() - self.started,
            "z_times": self.z_times, "first_job_time": self.first_job_time, "last_job_time": self.last_job_time,
        }


class Firmware:
    """Marlin's line checks and replies; `feed(lines)` returns the reply bytes for a chunk."""

    def __init__(self, record: Record, *, advanced_ok: bool, buffer_free: int, resend_every: int,
                 ok_after_resend: bool = True, drain: bool = True):
        self.record = record
        self.advanced_ok = advanced_ok
        self.buffer_free = buffer_free
        self.resend_every = resend_every
        self.ok_after_resend = ok_after_resend
        self.drain = drain
        self.last_n = 0
        self.last_forced = 0
        self.position = [0.0, 0.0, 0.0, 0.0]

    def _ok(self, number) -> bytes:
        if not self.advanced_ok:
            return b"ok\n"
        if number is None:
            return b"ok P15 B%d\n" % self.buffer_free
        return b"ok N%d P15 B%d\n" % (number, self.buffer_free)

    def _reject(self, text: bytes) -> bytes:
        self.record.line_errors += 1
        out = b"Error:%s, Last Line: %d\nResend: %d\n" % (text, self.last_n, self.last_n + 1)
        return out + b"ok\n" if self.ok_after_resend else out

    def feed(self, lines: list, now: float) -> bytes:
        record = self.record
        out = []
        for index, raw in enumerate(lines):
            line = raw.strip()
            if not line:
                continue
            record.lines_received += 1
            number = None
            if line[:1] == b"N":
                record.numbered_received += 1
                star = line.rfind(b"*")
                space = line.find(b" ")
                try:
                    number = int(line[1:space if space > 0 else (star if star > 0 else len(line))])
                except ValueError:
                    number = -1
                body_end = star if star >= 0 else len(line)
                command = line[space + 1:body_end].strip() if space > 0 else b""
                is_m110 = command[:4].upper() == b"M110"
                error = None
                if not is_m110 and number != self.last_n + 1:
                    error = b"Line Number is not Last Line Number+1"
                elif star < 0:
                    error = b"No Checksum with line number"
                else:
                    try:
                        given = int(line[star + 1:])
                    except ValueError:
                        given = -1
                    if checksum(line[:star]) != given:
                        error = b"checksum mismatch"
                    elif (not is_m110 and self.resend_every and number % self.resend_every == 0
                          and number > self.last_forced):
                        self.last_forced = number
                        record.forced_resends += 1
                        error = b"checksum mismatch"
                if error is not None:
                    out.append(self._reject(error))
                    if not self.drain:
                        continue
                    # Marlin drains its RX buffer after a bad line: whole lines already read go too.
                    drained = sum(1 for rest in lines[index + 1:] if rest.strip())
                    record.drained_lines += drained
                    record.lines_received += drained
                    break
                if is_m110:
                    parts = command.split()
                    targets = [p for p in parts[1:] if p[:1] in (b"N", b"n")]
                    self.last_n = int(targets[-1][1:]) if targets else number
                    self.last_forced = self.last_n
                else:
                    self.last_n = number
            else:
                semicolon = line.find(b";")
                command = (line[:semicolon] if semicolon >= 0 else line).strip()
                if command[:4].upper() == b"M110":
                    parts = command.split()
                    targets = [p for p in parts[1:] if p[:1] in (b"N", b"n")]
                    if targets:
                        self.last_n = int(targets[-1][1:])
                        self.last_forced = self.last_n
            record.accept(command, number, now)
            out.append(self._execute(command, number))
        return b"".join(out)

    def _execute(self, command: bytes, number) -> bytes:
        code = command.split(b" ", 1)[0].upper()
        if code in (b"G1", b"G0"):
            return self._ok(number)
        if code == b"M105":
            return b"ok T:21.30 /0.00 B:21.30 /0.00 @:0 B@:0\n"
        if code == b"M115":
            caps = [b"Cap:SERIAL_XON_XOFF:0", b"Cap:EEPROM:0", b"Cap:AUTOREPORT_TEMP:0",
                    b"Cap:AUTOREPORT_POS:0", b"Cap:PROGRESS:0", b"Cap:PRINT_JOB:1",
                    b"Cap:EMERGENCY_PARSER:0", b"Cap:HOST_ACTION_COMMANDS:0", b"Cap:PROMPT_SUPPORT:0",
                    b"Cap:SDCARD:0", b"Cap:AUTOREPORT_SD_STATUS:0", b"Cap:EXTENDED_M20:0"]
            if self.advanced_ok:
                caps.append(b"Cap:ADVANCED_OK:1")
            return (b"FIRMWARE_NAME:Marlin 2.1.2.1 (bench simulator) SOURCE_CODE_URL:github.com/MarlinFirmware/Marlin "
                    b"PROTOCOL_VERSION:1.0 MACHINE_TYPE:Bench EXTRUDER_COUNT:1 "
                    b"UUID:cede2a2f-41a2-4748-9b12-c55c62f367ff\n" + b"\n".join(caps) + b"\n" + self._ok(number))
        if code == b"M114":
            return b"X:0.00 Y:0.00 Z:0.00 E:0.00 Count X:0 Y:0 Z:0\n" + self._ok(number)
        if code == b"M20":
            return b"Begin file list\nEnd file list\n" + self._ok(number)
        if code == b"M21":
            return b"echo:No SD card\n" + self._ok(number)
        if code == b"M27":
            return b"Not SD printing\n" + self._ok(number)
        return self._ok(number)


def write_json(path: str, data: dict):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, path)


def write_all(fd: int, data: bytes):
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            select.select([], [fd], [], 0.1)
            continue
        view = view[written:]


def serve(args) -> int:
    record = Record(load_job(args.job))
    firmware = Firmware(record, advanced_ok=args.advanced_ok, buffer_free=args.buffer_free,
                        resend_every=args.resend_every, ok_after_resend=not args.no_ok_after_resend,
                        drain=not args.no_drain)
    master, slave = os.openpty()
    tty.setraw(slave)
    # The slave stays open here too, so the master never reads EIO between a host's close and reopen.
    slave_path = os.ttyname(slave)
    if os.path.islink(args.link):
        os.unlink(args.link)
    os.symlink(slave_path, args.link)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append("signal"))
    signal.signal(signal.SIGINT, lambda *_: stopping.append("signal"))
    delay = args.ack_delay / 1000.0
    pending = deque()  # (due, reply bytes, lines answered), in due order
    unanswered = 0
    partial = b""
    written = False
    deadline = time.monotonic() + args.max_time
    trace = open(args.trace, "wb") if args.trace else None
    try:
        while not stopping:
            now = time.monotonic()
            if now > deadline:
                stopping.append("max-time")
                break
            timeout = 0.2
            if pending:
                timeout = max(0.0, min(timeout, pending[0][0] - now))
            try:
                readable, _, _ = select.select([master], [], [], timeout)
            except InterruptedError:
                continue
            now = time.monotonic()
            if readable:
                try:
                    data = os.read(master, READ_SIZE)
                except OSError:
                    data = b""
                    time.sleep(0.01)
                if data:
                    record.bytes_received += len(data)
                    if record.first_line_time is None:
                        record.first_line_time = now
                    lines = (partial + data).split(b"\n")
                    partial = lines.pop()
                    before = record.lines_received
                    reply = firmware.feed(lines, now)
                    if trace:
                        stamp = b"%.6f" % now
                        trace.write(b"".join(b"%s <<< %s\n" % (stamp, line) for line in lines))
                        trace.write(b"%s >>> %s\n" % (stamp, reply.replace(b"\n", b" | ")))
                    count = record.lines_received - before
                    if delay > 0:
                        pending.append((now + delay, reply, count))
                        unanswered += count
                    else:
                        unanswered = count
                        if reply:
                            write_all(master, reply)
                        unanswered = 0
                    if count > record.max_unanswered or unanswered > record.max_unanswered:
                        record.max_unanswered = max(count, unanswered)
            if pending:
                now = time.monotonic()
                due = []
                while pending and pending[0][0] <= now:
                    _, reply, count = pending.popleft()
                    due.append(reply)
                    unanswered -= count
                if due:
                    write_all(master, b"".join(due))
            if record.complete and not written:
                write_json(args.record, record.summary("complete"))
                written = True
    finally:
        if not written or not record.complete:
            write_json(args.record, record.summary(stopping[0] if stopping else "error"))
        try:
            if os.path.islink(args.link) and os.readlink(args.link) == slave_path:
                os.unlink(args.link)
        except OSError:
            pass
        os.close(master)
        os.close(slave)
        if trace:
            trace.close()
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--link", required=True, help="symlink to create, pointing at the pty's slave")
    parser.add_argument("--job", required=True, help="the G-code file the host will stream (for the check)")
    parser.add_argument("--record", required=True, help="where to write the JSON summary")
    parser.add_argument("--ack-delay", type=float, default=0.0, metavar="MS",
                        help="send every reply MS milliseconds after its line was read")
    parser.add_argument("--resend-every", type=int, default=0, metavar="N",
                        help="reject line numbers divisible by N once each (checksum mismatch + Resend)")
    parser.add_argument("--advanced-ok", action="store_true", help="answer Marlin ADVANCED_OK: ok N<n> P15 B<b>")
    parser.add_argument("--buffer-free", type=int, default=3, metavar="B",
                        help="the B field of ADVANCED_OK acks (free command slots; Marlin BUFSIZE 4 -> 3)")
    parser.add_argument("--no-drain", action="store_true",
                        help="keep the lines read behind a bad one (Marlin drops them) and answer each")
    parser.add_argument("--no-ok-after-resend", action="store_true", help="Marlin 2.0.x: no ok after Resend:")
    parser.add_argument("--trace", default="", help="debugging: log every chunk read and the replies to FILE")
    parser.add_argument("--max-time", type=float, default=1800.0, help="give up after this many seconds")
    return serve(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
