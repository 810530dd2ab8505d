"""Fault injection: the failures a host must survive, on request from a test or over the wire."""
from .interrupts import Killed, Rebooted, Unplugged

ACTIONS = ("pause", "paused", "resume", "resumed", "cancel", "disconnect", "start", "shutdown")


class Faults:
    """The injection API (`printer.faults`); also serves `!!DEBUG:<cmd>` lines from the host.

    Settings (resend_every, corrupt_next, drop_next_ok, busy_next) survive firmware resets: they
    belong to the test bench, not to the board.
    """

    def __init__(self, printer):
        self._printer = printer
        self.resend_period = printer.options.resend_every
        self._resend_count = 0
        self.corrupt_count = 0
        self.drop_ok_count = 0
        self.busy_plan = None

    # -- line faults, checked by the firmware as lines arrive -----------------------------------

    def resend_every(self, n: int):
        """Reject every n-th numbered line with a checksum mismatch (0 turns it off)."""
        self.resend_period = max(0, int(n))
        self._resend_count = 0

    def resend_due(self) -> bool:
        self._resend_count += 1
        if self._resend_count >= self.resend_period:
            self._resend_count = 0
            return True
        return False

    def corrupt_next(self, lines: int = 1):
        """Flip one bit of the next numbered line(s) before the checksum is checked.

        Unnumbered lines carry no checksum, so they are left alone: the damage must be detectable.
        """
        self.corrupt_count += int(lines)

    def corrupt(self, raw: bytes) -> bytes:
        self.corrupt_count -= 1
        star = raw.rfind(b"*")
        end = star if star > 0 else len(raw)
        # The last letter or digit of the command: flipping bit 0 keeps it a letter or a digit,
        # so the line keeps its shape and only the checksum can tell.
        for index in range(end - 1, 0, -1):
            if chr(raw[index]).isalnum():
                return raw[:index] + bytes([raw[index] ^ 1]) + raw[index + 1:]
        return raw

    def drop_next_ok(self, count: int = 1):
        """Swallow the next ok(s); M105's temperatures still arrive, without the ok."""
        self.drop_ok_count += int(count)

    def busy_next(self, seconds: float, code: str = None):
        """Make the next command (or the next `code`, e.g. "G28") block for `seconds` while
        printing `echo:busy: processing` every M113 interval."""
        self.busy_plan = (float(seconds), code.upper() if code else None)

    def run_busy_plan(self, fw, word: str):
        seconds, code = self.busy_plan
        if code is None or code == word:
            self.busy_plan = None
            with fw.reports.busy():
                fw.wait(seconds)

    def ack_delay(self, ms: float):
        """Delay everything the firmware sends by `ms` milliseconds from now on."""
        self._printer.outbox.delay = max(0.0, float(ms)) / 1000.0

    def clear(self):
        """Turn off every line fault (not the board state)."""
        self.resend_every(0)
        self.corrupt_count = self.drop_ok_count = 0
        self.busy_plan = None

    # -- events, run on the printer thread --------------------------------------------------------

    def reset(self):
        """Reboot mid-whatever: banner with `start`, line number 0, all firmware state lost."""
        self._printer.call(_raise(Rebooted))

    def disconnect(self):
        """Hang up the pty (USB unplug): the host's reads and writes fail from now on."""
        self._printer.call(self._disconnect)

    def _disconnect(self):
        self._printer.hang_up()
        raise Unplugged()

    def thermal_runaway(self, heater: str = "0"):
        """Marlin's thermal protection trips: two Error: lines, heaters off, then silence."""
        def trip():
            self._printer.firmware.kill(f"Error:Thermal Runaway, system stopped! Heater_ID: {heater}",
                                        "Error:Printer halted. kill() called!")
        self._printer.call(trip)

    def go_silent(self):
        """The firmware hangs: it reads but never answers again (until a reset)."""
        self._printer.call(_raise(Killed))

    def action(self, name: str):
        """Emit `//action:<name>` (pause, resume, cancel, disconnect, or any custom text)."""
        self.send(f"//action:{name}")

    def send(self, text: str):
        """Emit one arbitrary line, as if the firmware printed it."""
        self._printer.call(lambda: self._printer.outbox.emit(text))

    # -- the wire channel ------------------------------------------------------------------------

    def debug(self, command: str):
        """Serve `!!DEBUG:<command>`; see DEBUG_COMMANDS for the vocabulary."""
        name, _, argument = command.strip().partition(" ")
        name = name.lower()
        if name.startswith("action_"):
            return self.action(name[len("action_"):] + (f" {argument}" if argument else ""))
        entry = DEBUG_COMMANDS.get(name)
        if entry is None:
            return self._printer.outbox.emit(f"echo:Unknown debug command: {name}")
        method, parse = entry
        try:
            args = parse(argument)
        except (ValueError, IndexError):
            return self._printer.outbox.emit(f"echo:Bad debug argument: {command.strip()}")
        getattr(self, method)(*args)


def _raise(kind):
    def raiser():
        raise kind()
    return raiser


def _none(argument):
    return ()


def _optional_int(argument):
    return (int(argument),) if argument.strip() else ()


def _busy(argument):
    words = argument.split()
    return (float(words[0]),) + ((words[1],) if len(words) > 1 else ())


# `!!DEBUG:<name> [argument]` -> (Faults method, argument parser). Plus action_<name> [text].
DEBUG_COMMANDS = {
    "resend_every": ("resend_every", lambda a: (int(a),)),
    "corrupt_next": ("corrupt_next", _optional_int),
    "drop_ok": ("drop_next_ok", _optional_int),
    "drop_next_ok": ("drop_next_ok", _optional_int),
    "busy": ("busy_next", _busy),
    "ack_delay": ("ack_delay", lambda a: (float(a),)),
    "send": ("send", lambda a: (a,)),
    "action": ("action", lambda a: (a.strip(),)),
    "reset": ("reset", _none),
    "disconnect": ("disconnect", _none),
    "thermal_runaway": ("thermal_runaway", lambda a: (a.strip() or "0",)),
    "go_silent": ("go_silent", _none),
    "clear": ("clear", _none),
}
