"""The connection: the reader and poller threads, timeouts and handshakes that glue transport, framing,
responses, the send queue and the state machine together."""
import logging
import threading
import time

from octoserve.printer.comm.flavors import GENERIC
from octoserve.printer.comm.framing import LineSplitter
from octoserve.printer.comm.jobstream import JobStreaming
from octoserve.printer.comm.options import EMERGENCY, LONG_RUNNING, ConnectionOptions
from octoserve.printer.comm.replies import ReplyHandler
from octoserve.printer.comm.sendqueue import Lane, SendQueue
from octoserve.printer.comm.state import (
    ERROR_STATES,
    OPERATIONAL_STATES,
    PRINTING_STATES,
    InvalidTransition,
    State,
    StateMachine,
)
from octoserve.printer.comm.transport import Transport

log = logging.getLogger(__name__)

REPLAY_STALL = 0.15  # seconds of silence after which a replayed line is taken as drained


class Connection(JobStreaming):
    """One session with one printer, from opening the port to closing it.

    Threads: the reader (blocks on the port, classifies every line, and writes the next
    lines as soon as an ok frees the window, so streaming needs no hand-off between
    threads) and the poller (temperature polls, timeouts, the wait after a resend).
    Requests from other threads enqueue and pump under the same lock.
    """

    def __init__(self, port: str, baudrate: int, listener, options: ConnectionOptions | None = None,
                 transport_factory=Transport):
        self.port, self.baudrate = port, baudrate
        self.listener = listener
        self.options = options or ConnectionOptions()
        self.flavor = GENERIC
        self.machine = StateMachine()
        self.queue = SendQueue()
        self.lock = threading.RLock()
        self.firmware = {}
        self.capabilities = {}
        self.stats = {"resends": 0, "transmitted": 0, "resend_ok_waits": 0}
        self._transport_factory = transport_factory
        self.transport = None
        self._closing = threading.Event()
        self._replies = ReplyHandler(self)
        self._last_rx = self._last_ok = time.monotonic()
        self._timeouts = 0
        self._busy_seen = False
        self._long_running = None
        self._next_poll = 0.0
        self._autoreport = False
        self.hold_since = None
        self.echo_wait = False  # replaying while echoes may still come: quiet means the replay was drained
        self.rtt = 0.001
        self._hello_sent_at = 0.0
        self._job_done = None
        self._final_line = None
        self._saved_source = None
        self._threads = []
        self._batching = self._pump_due = False  # the reader's one pump per read; see pump()
        self._reader_ident = None
        self._operational = threading.Event()
        self._fail_lock = threading.Lock()
        self._failed = False

    # -- lifecycle ------------------------------------------------------------------------
    def open(self) -> None:
        """Open the port and start the handshake; returns at once (the listener hears OPERATIONAL)."""
        self._set_state(State.OPENING)
        try:
            self.transport = self._transport_factory(self.port, self.baudrate)
        except Exception as exc:
            self._set_state(State.CLOSED_WITH_ERROR, error=str(exc))
            raise
        self._set_state(State.CONNECTING)
        for target, name in ((self._read_loop, "comm-reader"), (self._poll_loop, "comm-poller")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            self._threads.append(thread)
            thread.start()
        self.send_hello()

    def close(self, error: str | None = None) -> None:
        """Close the port; CLOSED, or CLOSED_WITH_ERROR when an error ended the session."""
        if self._closing.is_set():
            return
        self._closing.set()
        with self.lock:
            self.queue.clear()
        if self.transport is not None:
            self.transport.close()
        final = State.CLOSED_WITH_ERROR if error or self.machine.state is State.ERROR else State.CLOSED
        self._set_state(final, error=error or self.machine.error)
        current = threading.current_thread()
        for thread in self._threads:
            if thread is not current:
                thread.join(timeout=2)

    def fail(self, error: str, *, emergency: bool = False) -> None:
        """A fatal condition: ERROR with the message, heaters off if asked, then close the port."""
        with self._fail_lock:
            if self._failed or self._closing.is_set():
                return  # Marlin reports a halt in two lines; the first one decides
            self._failed = True
        log.error("printer error: %s", error)
        self._set_state(State.ERROR, error=error)
        self.listener.on_error(error)
        if emergency and self.options.send_m112_on_error and self.transport is not None:
            try:
                for line in self._emergency_burst():
                    self.transport.write(line)
            except OSError:
                pass  # the port is already gone; closing is what is left to do
        self.close(error)

    def _emergency_burst(self):
        yield b"M112\n"
        for tool in range(self.options.tool_count):
            yield b"M104 T%d S0\n" % tool
        yield b"M140 S0\n"

    # -- sending --------------------------------------------------------------------------
    def send(self, command: str) -> None:
        """Queue one command from the API or a script; emergency commands jump every queue."""
        command = command.strip()
        if not command:
            return
        code = command.split(None, 1)[0].upper()
        with self.lock:
            if code == "M112":
                self._write_now(command)
                self.fail("Emergency stop (M112) sent", emergency=True)
                return
            if code in EMERGENCY and self.capabilities.get("EMERGENCY_PARSER"):
                self.queue.put(command, Lane.EMERGENCY)
            else:
                self.queue.put(command, Lane.COMMAND, numbered=self._numbered(code))
            self.pump()

    def send_hello(self) -> None:
        self._hello_sent_at = time.monotonic()
        with self.lock:
            self.queue.put(self.options.hello, Lane.COMMAND, numbered=True)
            self.pump()

    def _numbered(self, code: str) -> bool:
        if self.flavor.ignores_line_numbers:
            return False
        return (self.flavor.always_checksum or not self.firmware or code == "M110"
                or self.machine.state in (State.PRINTING, State.PAUSING, State.RESUMING, State.FINISHING))

    def pump(self) -> None:
        """Write every line the window allows now, in one write. Call with ``lock`` held.

        On the reader thread, while it works through one read's lines, this only notes that a
        pump is due: the reader pumps once after the last of them. So the host answers a batch
        of replies with one batch of lines, and sends nothing behind a Resend later in the batch.
        """
        if self._batching and threading.get_ident() == self._reader_ident:
            self._pump_due = True
            return
        queue, monotonic = self.queue, time.monotonic
        batch = []
        while True:
            item = queue.next()
            if item is None:
                break
            if item.marker is not None:
                if batch and not self._write_batch(batch):
                    return
                batch = []
                item.marker()
                continue
            item.sent_at = monotonic()
            batch.append(item.data)
            if self._long_running is None and item.command[:4].split(" ")[0] in LONG_RUNNING:
                self._long_running = item.number if item.number is not None else item.command
        if batch:
            self._write_batch(batch)

    def _write_batch(self, batch) -> bool:
        try:
            self.transport.write(batch[0] if len(batch) == 1 else b"".join(batch))
        except OSError as exc:
            threading.Thread(target=self.fail, args=(f"Could not write to serial port: {exc}",)).start()
            return False
        self.stats["transmitted"] += len(batch)
        on_sent = self.listener.on_sent
        for data in batch:
            on_sent(data)
        return True

    def _write_now(self, command: str) -> None:
        data = command.encode("ascii", "replace") + b"\n"
        try:
            self.transport.write(data)
        except OSError:
            return
        self.listener.on_sent(data)

    # -- threads --------------------------------------------------------------------------
    def _read_loop(self) -> None:
        splitter, handle, transport = LineSplitter(), self._replies.handle, self.transport
        self._reader_ident = threading.get_ident()
        while not self._closing.is_set():
            waiting_for_echoes = self.echo_wait
            try:
                data = transport.read(self.echo_quiet() if waiting_for_echoes else None)
            except Exception as exc:  # OSError, SerialException: the device went away
                if not self._closing.is_set():
                    self.fail(f"Connection lost: {exc}")
                return
            if data:
                self._last_rx = time.monotonic()
                self._batching = True
                try:
                    for line in splitter.feed(data):
                        handle(line)
                finally:
                    self._batching = False
                if self._pump_due:
                    with self.lock:
                        self._pump_due = False
                        self.pump()
            elif waiting_for_echoes:
                with self.lock:  # quiet, and the replayed line unanswered: an echo's error drained it
                    self.echo_wait = False
                    if self.queue.resend_unacknowledged():
                        self.pump()

    def echo_quiet(self) -> float:
        """How long the line must stay quiet before an unanswered replayed line counts as drained.

        Three round trips, but never under 20 ms: a replayed line whose ok is merely late (a busy
        machine, a full planner) would otherwise go twice, and the refusal of the second copy
        empties the firmware's buffer again while later lines are on the wire; with 1 ms acks
        and a loaded CPU that turned one resend into thousands.
        """
        return min(0.05, max(0.02, 3 * self.rtt))

    def note_round_trip(self, out, now) -> None:
        if out is not None and out.sent_at:
            self.rtt += 0.1 * (now - out.sent_at - self.rtt)

    def _poll_loop(self) -> None:
        while not self._closing.wait(0.1):
            now = time.monotonic()
            with self.lock:
                self._check_resend_hold(now)
                self._check_replay_stall(now)
                self._check_timeouts(now)
                self._poll_temperature(now)

    def _check_resend_hold(self, now) -> None:
        if self.hold_since is not None and now - self.hold_since >= self.options.resend_ok_wait:
            self.stats["resend_ok_waits"] += 1
            self._replies.resend_ok_missed()
            self.release_hold()

    def _check_replay_stall(self, now) -> None:
        """A replayed line that gets no ok while the line is quiet was drained with an echo's error."""
        queue = self.queue
        oldest = queue.oldest_in_flight
        if (oldest is not None and queue.recovering and not queue.holding
                and now - oldest.sent_at > REPLAY_STALL and now - self._last_rx > REPLAY_STALL):
            if queue.resend_unacknowledged():
                self.pump()

    def release_hold(self) -> None:
        self.hold_since = None
        self.echo_wait = False
        self.queue.release_resend_hold()
        self.pump()

    def _check_timeouts(self, now) -> None:
        state = self.machine.state
        if state is State.CONNECTING:
            if now - self._hello_sent_at > self.options.connect_timeout:
                self._timeouts += 1
                if self._timeouts > 2:
                    self.fail("No answer from the printer: wrong port or baud rate, or the printer is off")
                else:
                    self.queue.clear()
                    self.send_hello()
            return
        if not self.operational:
            return
        limit = self.options.busy_timeout if self._busy_seen else self.options.comm_timeout
        silent = now - self._last_rx > limit
        stalled = (self.queue.in_flight > 0 and now - self._last_ok > limit and self._long_running is None)
        if not (silent or stalled):
            return
        self._timeouts += 1
        self._last_rx = self._last_ok = now
        maximum = self.options.max_timeouts_printing if self.printing else self.options.max_timeouts_idle
        if self._timeouts > maximum:
            threading.Thread(target=self.fail, name="comm-fail", args=(
                "Too many consecutive timeouts, printer still connected and alive?",)).start()
            return
        log.warning("communication timeout (%d), %d line(s) in flight", self._timeouts, self.queue.in_flight)
        self.listener.on_log_note(f"Communication timeout, {self.queue.in_flight} line(s) unacknowledged")
        # The ok was probably lost: take it as given, and ask for a reply to resynchronise.
        if self.queue.holding:
            self.release_hold()
        elif self.queue.in_flight:
            self.acknowledged(self.queue.acknowledge(), real=False)
        self._long_running = None
        self.queue.put("M105", Lane.COMMAND, numbered=self._numbered("M105"))
        self.pump()

    def _poll_temperature(self, now) -> None:
        if self._autoreport or not self.operational or now < self._next_poll:
            return
        has_target = any((target or 0) > 25 for _, target in self.listener.current_targets())
        interval = (self.options.temperature_interval_target
                    if has_target and not self.printing else self.options.temperature_interval)
        self._next_poll = now + interval
        if self.queue.in_flight == 0 or self.printing:
            self.queue.put("M105", Lane.COMMAND, numbered=self._numbered("M105"))
            self.pump()

    def wait_operational(self, timeout: float) -> bool:
        """Block until the handshake succeeded (True) or the time is up or the session ended (False)."""
        deadline = time.monotonic() + timeout
        while not self._closing.is_set():
            if self._operational.wait(min(0.05, max(0.0, deadline - time.monotonic()))):
                return True
            if time.monotonic() >= deadline:
                return False
        return False

    # -- state ----------------------------------------------------------------------------
    def set_state(self, state: State, *, sd: bool | None = None, streaming: bool | None = None) -> None:
        """For the job layer: SD prints and uploads move through the states the firmware reports."""
        with self.lock:
            self._set_state(state, sd=sd, streaming=streaming)

    def _set_state(self, state: State, error: str | None = None, *, sd=None, streaming=None) -> None:
        machine = self.machine
        if machine.state is state and (error is None or error == machine.error) and sd is None and streaming is None:
            return
        try:
            machine.transition(state, error=error if state in ERROR_STATES else None, sd=sd, streaming=streaming)
        except InvalidTransition as exc:
            # A bug of ours, never the printer's: log it loudly and follow the printer anyway.
            log.error("state machine: %s", exc)
            machine.state = state
        if state is State.OPERATIONAL:
            self._operational.set()
        self.listener.on_state(state, machine.error)

    @property
    def operational(self) -> bool:
        return self.machine.state in OPERATIONAL_STATES

    @property
    def printing(self) -> bool:
        return self.machine.state in PRINTING_STATES

    def on_ok_received(self) -> None:
        self._last_ok = time.monotonic()
        self._timeouts = 0
        self._long_running = None

    def enable_autoreport(self) -> None:
        self._autoreport = True

    def note_busy(self) -> None:
        self._busy_seen = True
        self._last_ok = time.monotonic()
