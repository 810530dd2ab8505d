"""What the host does with each kind of firmware reply; runs on the comm reader thread."""
import logging
import threading
import time

from octoserve.printer.comm import responses as r
from octoserve.printer.comm.flavors import detect
from octoserve.printer.comm.sendqueue import ResendResult
from octoserve.printer.comm.state import State

log = logging.getLogger(__name__)

_ECHO_ERRORS = ("line number", "linenumber", "expected line")


class ReplyHandler:
    """Dispatches classified lines to small handlers; the connection owns all the state."""

    def __init__(self, connection):
        self.c = connection
        self._handlers = {
            r.Ok: self._ok, r.Wait: self._wait, r.Resend: self._resend, r.Busy: self._busy,
            r.Error: self._error, r.Temperatures: self._temperatures, r.FirmwareInfo: self._firmware,
            r.Capability: self._capability, r.Action: self._action, r.SdMessage: self._sd,
            r.Position: self._position, r.Start: self._start, r.TargetTemperature: self._target,
        }
        self._max_buffer_free = 0
        self._held_error = None     # Marlin 1.0's `Error:0`, waiting for its `: reason` line
        self._last_error = ""       # the Error line before a Resend tells whether echoes may follow
        self._sends_ok_after_resend = None  # learnt from the firmware when its flavor does not say
        self.current_tool = 0

    def handle(self, line: str) -> None:
        c = self.c
        c.listener.on_received(line)
        if self._held_error is not None:
            held, self._held_error = self._held_error, None
            if line.startswith(":"):
                self._error(r.join_error(held, line))
                return
            self._error(held, final=True)
        message = r.classify(line, self.current_tool)
        kind = type(message)
        if c.hold_since is not None and kind is not r.Ok:
            self._release_without_ok()
        handler = self._handlers.get(kind)
        if handler is not None:
            handler(message)

    # -- acknowledgements ------------------------------------------------------------------
    def _ok(self, message) -> None:
        c = self.c
        with c.lock:
            if c.hold_since is not None:
                self._sends_ok_after_resend = True
                self._after_resend_ok()  # this ok answers the Resend, not a line in flight
            else:
                out = c.queue.acknowledge(message.line_number)
                c.note_round_trip(out, time.monotonic())
                c.acknowledged(out, real=True)
                c.on_ok_received()
                if message.buffer_free is not None:
                    self._adapt_window(message.buffer_free)
                c.pump()
        if message.temperatures:
            c.listener.on_temperatures(message.temperatures)
        if message.firmware:
            self._firmware(r.FirmwareInfo(message.firmware))
        if message.position is not None:
            c.listener.on_position(message.position)
        if c.machine.state is State.CONNECTING:
            self._connected()

    def _after_resend_ok(self) -> None:
        """Replay at once. If echoes of lines in flight behind the bad one may still come, one of
        them can arrive together with the replayed line, and Marlin drains its receive buffer on
        the echo's error: then the replayed line gets no ok, and the reader sends it again once the
        line has been quiet for Connection.echo_quiet() (three round trips, at least 20 ms). The same
        goes for a replayed line already in flight when an echo came."""
        c = self.c
        queue = c.queue
        drained = queue.recovering and queue.in_flight > 0
        c.release_hold()
        if queue.echoes_pending or drained:
            c.echo_wait = True

    def _wait(self, _message) -> None:
        # `wait` means the firmware's queue is empty: a line still counted in flight lost its ok.
        c = self.c
        with c.lock:
            if c.queue.in_flight and c.printing:
                c.acknowledged(c.queue.acknowledge(), real=False)
                c.pump()
        if c.machine.state is State.CONNECTING:
            self._connected()

    def _adapt_window(self, buffer_free: int) -> None:
        c = self.c
        if not c.options.send_ahead or c.flavor.ignores_line_numbers or buffer_free <= self._max_buffer_free:
            return
        self._max_buffer_free = buffer_free
        lines = c.options.max_in_flight or max(1, buffer_free)
        c.queue.set_window(max_in_flight=lines, rx_buffer=c.options.rx_buffer or 128)

    def _resend(self, message) -> None:
        c = self.c
        maybe_echo = any(marker in self._last_error for marker in _ECHO_ERRORS) or not self._last_error
        self._last_error = ""
        with c.lock:
            c.stats["resends"] += 1
            result = c.queue.request_resend(message.line_number, maybe_echo=maybe_echo)
            if c.flavor.ok_after_resend is False or self._sends_ok_after_resend is False:
                c.release_hold()
            else:
                c.hold_since = time.monotonic()  # released by the ok that follows, or after a while
        if result is ResendResult.UNAVAILABLE:
            c.fail(f"Printer requested line {message.line_number} but it is no longer in the resend history")
        elif result is ResendResult.STUCK:
            c.fail(f"Printer keeps requesting line {message.line_number} again and again, communication stuck")

    def _release_without_ok(self) -> None:
        """Another line came where Marlin 2.0.x would have sent no ok after its Resend."""
        c = self.c
        self.resend_ok_missed()
        with c.lock:
            c.release_hold()

    def resend_ok_missed(self) -> None:
        """No ok followed a Resend (another line came, or none within resend_ok_wait): the
        firmware is one that sends none, so later holds are released right after the Resend."""
        if self._sends_ok_after_resend is None and self.c.flavor.ok_after_resend is None:
            self._sends_ok_after_resend = False

    def _busy(self, _message) -> None:
        self.c.note_busy()

    # -- errors ---------------------------------------------------------------------------
    def _error(self, message, final: bool = False) -> None:
        c, kind = self.c, message.kind
        if message.awaits_continuation and not final:
            self._held_error = message
            return
        if kind is r.ErrorKind.COMM_RESEND:
            self._last_error = message.text.lower()
        elif kind is r.ErrorKind.COMM_NO_RESEND:
            with c.lock:  # no Resend is coming: take the line as acknowledged, the next one mismatches
                c.acknowledged(c.queue.acknowledge(), real=False)
                c.pump()
        elif kind is r.ErrorKind.FATAL or (kind is r.ErrorKind.OTHER and c.options.disconnect_on_errors):
            threading.Thread(target=c.fail, args=(message.text,), kwargs={"emergency": True},
                             name="comm-fail").start()
        elif kind is r.ErrorKind.SD:
            c.listener.on_sd(message)
        else:
            c.listener.on_log_note(f"Firmware reported: {message.text}")

    # -- information ----------------------------------------------------------------------
    def _temperatures(self, message) -> None:
        self.c.listener.on_temperatures(message.readings)

    def _target(self, message) -> None:
        self.c.listener.on_temperatures({message.heater: (None, message.target)})

    def _firmware(self, message) -> None:
        c = self.c
        c.firmware = dict(message.fields)
        c.flavor = detect(c.firmware.get("FIRMWARE_NAME") or message.name)
        c.listener.on_firmware(c.firmware, c.capabilities)

    def _capability(self, message) -> None:
        c = self.c
        c.capabilities[message.name] = message.enabled
        if message.enabled and message.name == "AUTOREPORT_TEMP":
            c.enable_autoreport()
            c.send(f"M155 S{c.options.autoreport_interval}")
        elif message.enabled:
            c.listener.on_capability(message.name)

    def _action(self, message) -> None:
        if message.name == "disconnect":
            threading.Thread(target=self.c.close, name="comm-close").start()
        self.c.listener.on_action(message.name, message.argument)

    def _sd(self, message) -> None:
        if message.fields.get("glued_ok"):
            self._ok(r.Ok())  # Marlin 1.0 printed M30's ok on the same line
        self.c.listener.on_sd(message)

    def _position(self, message) -> None:
        self.c.listener.on_position(message)

    def _start(self, _message) -> None:
        c = self.c
        if c.machine.state is State.CONNECTING:
            c.send_hello()
            return
        # The firmware rebooted: line numbers and all its state are gone.
        was_job = c.machine.state in (State.PRINTING, State.PAUSING, State.PAUSED, State.RESUMING,
                                      State.FINISHING, State.STARTING)
        with c.lock:
            c.queue.clear()
            c.queue.reset_numbering(0)
            c.hold_since = None
            if was_job:
                c.abandon_job()
        c.listener.on_reset(was_job)
        c.send_hello()

    def _connected(self) -> None:
        c = self.c
        c._set_state(State.OPERATIONAL)
        c.send("M115")
        c.listener.on_connected()
