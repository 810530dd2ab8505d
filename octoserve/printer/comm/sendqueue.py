"""The send queue: lanes, the in-flight window, line numbers, M110 resets and the resend history; pure, no threads.

How the connection drives it (the queue is not thread-safe: one lock around every call):

- Writer: `out = queue.next()`. None means wait (window full, holding, or nothing to send); try again
  after every ok, release and put. A marker (`out.data == b""`) is never written: call `out.marker()`.
- `ok` from the firmware: `acknowledge(n)` with the N of Marlin's ADVANCED_OK (`ok N<n> P<p> B<b>`),
  else `acknowledge()`. Except the ok that belongs to a Resend (below).
- `Resend: <n>`: `request_resend(n, maybe_echo=...)`. Pass `maybe_echo=False` when the Error line
  before it was a checksum or missing-checksum error: Marlin checks the line number first, so only
  line-number errors can be echoes of lines that were in flight behind the bad one.
  REWOUND and DUPLICATE leave the queue *holding* (only emergency lines go out) until
  `release_resend_hold()`; STALE is ignored; UNAVAILABLE and STUCK mean the error state.
- The ok after a Resend: Marlin 1.1.x and 2.1.x follow every `Resend:` with a plain `ok`, whatever
  the host makes of the request. That ok answers the Resend, not a command: pass it to
  `release_resend_hold()`, never to `acknowledge()`. Marlin 2.0.x sends no ok after a Resend: release
  when the next line is not an ok or after about 0.5 s; once the firmware has shown that it sends
  none, release right after `request_resend()` (otherwise a real ok gets eaten as the Resend's).
- A timeout with lines in flight (a lost ok): release the hold if holding, else `acknowledge()` as a
  faked ok, as OctoPrint does. A faked ok can retire a line the firmware never took, so a job is
  complete only when a numbered line sent after its last line (an `M400`) gets a real ok: if any line
  is missing, the firmware answers that line with a Resend instead.
- Firmware reset (`start`) or reconnect: `clear()`, `reset_numbering()`, then a numbered `M110 N0`.

Rules worth knowing:

- Priority: emergency, then resend replay, then command, then job. Emergency lines ignore the window
  and the hold but are counted in flight, because the firmware acks them too.
- Numbers are taken when a line is sent. Marlin boots with last_N 0, so the first line is N1.
- `M110 N<x>` (numbered or not; a numbered bare `M110` means N<next>) waits for an empty window and
  then goes alone: nothing but emergency lines follows until it is acked. It clears the history.
  Afterwards the firmware's last_N is x and the next numbered line is N<x+1>. A numbered M110 stays
  resendable only until acked: re-sending it after the firmware took it would rewind the firmware's
  counter and make it accept later lines twice. While it is in flight, a request for a number outside
  the new numbering means the firmware never got it, so the M110 itself is sent again.
- An unnumbered line is not sent while a numbered one is in flight: after a Resend nobody could know
  whether Marlin drained it or executed it, so its ok could not be accounted for.
"""
from collections import deque
from collections.abc import Callable

from octoserve.printer.comm.framing import encode_numbered, encode_plain
from octoserve.printer.comm.lines import _M110, Lane, Outgoing, ResendResult, m110_target

__all__ = ["Lane", "Outgoing", "ResendResult", "SendQueue", "m110_target"]


class SendQueue:
    __slots__ = ("_lanes", "_source", "_in_flight", "_in_flight_bytes", "_numbered_in_flight",
                 "_max_in_flight", "_rx_buffer", "_history", "_history_low", "_history_size",
                 "_next_number", "_replay_next", "_replay_end", "_holding", "_resend_number",
                 "_duplicates", "_same_count", "_max_same_resend", "_barrier")

    def __init__(self, *, max_in_flight: int = 1, rx_buffer: int | None = None, history_size: int = 1024,
                 max_same_resend: int = 10):
        if history_size < 1 or max_same_resend < 1:
            raise ValueError("history_size and max_same_resend must be at least 1")
        self._lanes = (deque(), deque(), deque())
        self._source = None
        self._in_flight = deque()
        self._in_flight_bytes = self._numbered_in_flight = 0
        self._history = {}
        self._history_size = history_size
        self._max_same_resend = max_same_resend
        self._next_number = self._history_low = 1
        self._replay_next = self._replay_end = 0
        self._holding = False
        self._forget_resend()
        self._barrier = None  # the M110 in flight, which nothing but emergency lines may follow
        self.set_window(max_in_flight=max_in_flight, rx_buffer=rx_buffer)

    def put(self, command: str, lane: Lane = Lane.COMMAND, *, numbered: bool = False) -> None:
        """Queue one command (no newline, no comment); a numbered one gets its number when sent."""
        if not command or command.isspace() or "\n" in command or "\r" in command:
            raise ValueError(f"not a single command line: {command!r}")
        if lane == Lane.EMERGENCY and m110_target(command, 0) is not None:
            raise ValueError("M110 renumbers the line stream and cannot jump the queue")
        self._lanes[lane].append(Outgoing(b"" if numbered else encode_plain(command), command, None, lane))

    def put_marker(self, callback: Callable[[], object], lane: Lane = Lane.COMMAND) -> None:
        """next() returns it (data b"") once everything queued before it in its lane was sent."""
        self._lanes[lane].append(Outgoing(b"", "", None, lane, callback))

    def set_job_source(self, source: Callable[[], str | None] | None) -> None:
        """Job lines come from `source()` (None at the end), pulled only when nothing outranks them.

        The source may queue into the JOB lane while it is called, e.g. a marker just before it
        returns None, to learn when the last line was sent.
        """
        self._source = source

    def set_window(self, *, max_in_flight: int, rx_buffer: int | None) -> None:
        if max_in_flight < 1 or (rx_buffer is not None and rx_buffer < 1):
            raise ValueError("max_in_flight and rx_buffer must be at least 1")
        self._max_in_flight = max_in_flight
        self._rx_buffer = rx_buffer

    def next(self) -> Outgoing | None:
        """The next thing to write if the window allows, marked in flight; else None."""
        emergency = self._lanes[0]
        if emergency:
            return self._send_emergency(emergency.popleft())
        if self._holding:
            return None
        if self._replay_next < self._replay_end:
            return self._send_replay()
        lane = self._lanes[1]
        if not lane:
            lane = self._lanes[2]
            if not lane and not self._pull_job():
                return None
        out = lane[0]
        if out.marker is not None:
            return lane.popleft()
        if out.data:
            if self._numbered_in_flight or not self._admits(len(out.data)):
                return None
            target = m110_target(out.command)
            if target is not None:
                return self._send_m110(lane, out, target)
            lane.popleft()
            self._in_flight.append(out)
            self._in_flight_bytes += len(out.data)
            return out
        number = self._next_number
        if out.command.startswith(_M110):
            target = m110_target(out.command, number)
            if target is not None:
                return self._send_m110(lane, out, target)
        data = encode_numbered(number, out.command)
        if not self._admits(len(data)):
            return None
        lane.popleft()
        out.data = data
        out.number = number
        self._remember(out)
        self._in_flight.append(out)
        self._in_flight_bytes += len(data)
        self._numbered_in_flight += 1
        return out

    def acknowledge(self, line_number: int | None = None) -> Outgoing | None:
        """One ok: retire the oldest line in flight, or with ADVANCED_OK's N everything up to that line."""
        in_flight = self._in_flight
        if not in_flight:
            return None
        if line_number is not None and in_flight[0].number != line_number:
            return self._acknowledge_through(line_number)
        out = in_flight.popleft()
        self._retire(out)
        return out

    def _admits(self, size: int) -> bool:
        in_flight = len(self._in_flight)
        if not in_flight:
            return True  # even a line longer than the firmware's buffer must go some time
        if in_flight >= self._max_in_flight or self._barrier is not None:
            return False
        return self._rx_buffer is None or self._in_flight_bytes + size <= self._rx_buffer

    def _retire(self, out: Outgoing) -> None:
        self._in_flight_bytes -= len(out.data)
        if out.number is not None:
            self._numbered_in_flight -= 1
            # The firmware took a numbered line: the resend episode, echoes and all, is over.
            self._resend_number = None
            self._duplicates = self._same_count = 0
        if out is self._barrier:
            self._barrier = None
            if out.number is not None and self._history_low == out.number:
                del self._history[out.number]
                self._history_low += 1

    def _remember(self, out: Outgoing) -> None:
        history = self._history
        history[out.number] = out
        self._next_number = out.number + 1
        # A line still waiting to be replayed is never dropped, even if that lets the history grow.
        low = self._history_low
        if len(history) > self._history_size and not self._replay_next <= low < self._replay_end:
            del history[low]
            self._history_low += 1

    def _pull_job(self) -> bool:
        """Bring one job line into the JOB lane if one may go now; False if there is nothing to send."""
        source = self._source
        if source is None:
            return False
        if self._in_flight and (len(self._in_flight) >= self._max_in_flight or self._barrier is not None):
            return False
        while True:
            command = source()
            if command is None:
                if self._source is source:
                    self._source = None
                return bool(self._lanes[2])
            if command:
                self._lanes[2].append(Outgoing(b"", command, None, Lane.JOB))
                return True

    def _send_emergency(self, out: Outgoing) -> Outgoing:
        if out.marker is None:
            if not out.data:
                out.number = self._next_number
                out.data = encode_numbered(out.number, out.command)
                self._remember(out)
                self._numbered_in_flight += 1
            self._in_flight.append(out)
            self._in_flight_bytes += len(out.data)
        return out

    def _send_m110(self, lane: deque, out: Outgoing, target: int) -> Outgoing | None:
        if self._in_flight:
            return None
        lane.popleft()
        self._history.clear()
        self._history_low = self._next_number = target + 1
        if not out.data:
            out.number = target
            out.data = encode_numbered(target, out.command)
            self._history_low = target
            self._remember(out)
            self._numbered_in_flight += 1
        self._barrier = out
        self._in_flight.append(out)
        self._in_flight_bytes += len(out.data)
        return out

    def _send_replay(self) -> Outgoing | None:
        number = self._replay_next
        out = self._history[number]
        is_m110 = number == self._history_low and m110_target(out.command) is not None
        # While echoes of the old window may still come, one replayed line at a time: a window of
        # replayed lines could meet them and be drained with them, over and over. A lone line can
        # only be drained by an echo, and each line in flight echoes at most once, so this ends.
        # With no echo possible, or once the firmware took a replayed line, the window is used.
        if self._in_flight and (is_m110 or self.echoes_pending or not self._admits(len(out.data))):
            return None
        self._replay_next = number + 1
        if is_m110:
            self._barrier = out
        self._in_flight.append(out)
        self._in_flight_bytes += len(out.data)
        self._numbered_in_flight += 1
        return out

    def _acknowledge_through(self, line_number: int) -> Outgoing | None:
        for entry in self._in_flight:
            if entry.number == line_number:
                break
        else:
            return None  # an ok for a line no longer in flight tells nothing about the ones that are
        while True:
            out = self._in_flight.popleft()
            self._retire(out)
            if out is entry:
                return out

    def request_resend(self, number: int, *, maybe_echo: bool = True) -> ResendResult:
        """Answer the firmware's `Resend: <number>`; see the module docstring for what comes next."""
        barrier = self._barrier
        if barrier is not None and barrier.number is not None and not (
                barrier.number <= number <= self._next_number):
            number = barrier.number  # the firmware still counts in the numbering before the M110
        elif number >= self._next_number:
            return ResendResult.STALE  # never re-send the oldest line under a fresh number (OctoPrint's bug)
        elif number not in self._history:
            return ResendResult.UNAVAILABLE
        self._retire_accepted(number)
        if number == self._resend_number:
            if maybe_echo and self._duplicates:
                self._duplicates -= 1
                self._holding = True
                return ResendResult.DUPLICATE
            if self._same_count >= self._max_same_resend + self._max_in_flight:
                return ResendResult.STUCK
        else:
            self._same_count = 0
        self._rewind(number)
        return ResendResult.REWOUND

    def _retire_accepted(self, number: int) -> None:
        """`Resend: n` says the firmware's last line is n-1: lines before n still in flight were taken.

        Their oks were read before this request (the firmware answers in order), so they went to
        release a hold: count them as acknowledged now, or they would block the window for good.
        """
        in_flight = self._in_flight
        while in_flight and in_flight[0].number is not None and in_flight[0].number < number \
                and in_flight[0] is not self._barrier:
            self._retire(in_flight.popleft())

    def resend_unacknowledged(self) -> bool:
        """Send the oldest replayed line in flight again: Marlin drained it with an echo's error.

        For the connection to call when a replayed line got no ok for a while; a copy the firmware
        did take comes back as `Resend: n+1`, which retires it. False if there is nothing to do.
        """
        if self._resend_number is None or not self._in_flight or self._holding:
            return False
        number = self._in_flight[0].number
        if number is None or number not in self._history:
            return False
        self._drop_in_flight()
        self._replay_next, self._replay_end = number, max(self._replay_end, self._next_number)
        return True

    @property
    def oldest_in_flight(self) -> Outgoing | None:
        return self._in_flight[0] if self._in_flight else None

    @property
    def echoes_pending(self) -> int:
        """How many more echoes of lines that were in flight behind the bad one may still come."""
        return self._duplicates if self._resend_number is not None else 0

    @property
    def recovering(self) -> bool:
        """Inside a resend episode: from a rewind until the firmware acks a numbered line."""
        return self._resend_number is not None

    def _rewind(self, number: int) -> None:
        # Lines in flight behind the bad one each come back as an Error + Resend echo, unless
        # Marlin drained them from its RX buffer first; the budget is the most there can be.
        echoes = 0
        for out in self._in_flight:
            if out.number is not None and out.number > number:
                echoes += 1
        self._drop_in_flight()
        self._replay_next, self._replay_end = number, self._next_number
        self._resend_number, self._duplicates = number, echoes
        self._same_count += 1
        self._holding = True

    def release_resend_hold(self) -> None:
        self._holding = False

    def _forget_resend(self) -> None:
        self._resend_number = None
        self._duplicates = self._same_count = 0

    def _drop_in_flight(self) -> None:
        self._in_flight.clear()
        self._in_flight_bytes = self._numbered_in_flight = 0
        self._barrier = None

    def reset_numbering(self, number: int = 0) -> None:
        """The firmware's last line number is now `number` (Marlin boots with 0): the next line is number+1."""
        self._history.clear()
        self._next_number = self._history_low = number + 1
        self._replay_next = self._replay_end = 0
        self._holding = False
        self._barrier = None
        self._forget_resend()

    def clear(self, *lanes: Lane) -> None:
        """Drop queued lines of `lanes` (JOB includes the job source); with no lanes, drop everything.

        Clearing lanes leaves a running resend replay alone: the firmware waits for those lines and
        would refuse every later numbered one. clear() also forgets what is in flight and the history,
        for a disconnect or a firmware reset; reset_numbering() belongs with it.
        """
        for lane in lanes or tuple(Lane):
            self._lanes[lane].clear()
            if lane == Lane.JOB:
                self._source = None
        if not lanes:
            self._drop_in_flight()
            self._history.clear()
            self._history_low = self._next_number
            self._replay_next = self._replay_end = 0
            self._holding = False
            self._forget_resend()

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    @property
    def idle(self) -> bool:
        return not (any(self._lanes) or self._source is not None or self._in_flight or self.resend_active)

    @property
    def next_number(self) -> int:
        return self._next_number

    @property
    def holding(self) -> bool:
        return self._holding

    @property
    def resend_active(self) -> bool:
        """Holding after a Resend, or lines from the history still to be sent again."""
        return self._holding or self._replay_next < self._replay_end
