"""Marlin 2.1's serial line rules (line numbers, checksums, resends) and the command dispatch."""
import logging

from .commands import HANDLERS as BASIC_HANDLERS
from .gcode import NO_ACK, split, strtol, xor_checksum
from .heaters import Thermals
from .interrupts import Interrupt, Killed
from .motion import HANDLERS as MOTION_HANDLERS
from .motion import Motion
from .options import FIRMWARE_VERSION
from .reports import Reports
from .sdcard import HANDLERS as SD_HANDLERS
from .sdcard import SdCard

log = logging.getLogger(__name__)
HANDLERS = {**BASIC_HANDLERS, **MOTION_HANDLERS, **SD_HANDLERS}

ERR_LINE_NO = "Line Number is not Last Line Number+1, Last Line: "
ERR_CHECKSUM = "checksum mismatch, Last Line: "
ERR_NO_CHECKSUM = "No Checksum with line number, Last Line: "
KILLED = "Error:Printer halted. kill() called!"
DEBUG_PREFIX = "!!DEBUG:"
OK = b"ok\n"


class Firmware:
    """Everything a reset forgets: line counter, modes, targets, auto-reports, the SD job."""

    def __init__(self, printer, previous=None):
        options = printer.options
        self.printer = printer
        self.options = options
        self.out = printer.outbox
        self.inbox = printer.inbox
        self.faults = printer.faults
        self.received = printer.received if options.record else None
        self.last_n = 0
        self.thermals = Thermals(options.ambient, options.heat_speed, options.has_chamber)
        if previous is not None:
            self.thermals.carry_over(previous.thermals)
        self.motion = Motion()
        self.sd = SdCard(self, printer.sd_folder, options.sd_card)
        self.reports = Reports(self, options.busy_interval)
        self.wait_broken = False
        self.quickstop = False
        self.current = ""

    def banner(self) -> bytes:
        lines = [
            b"start",
            b"echo:Marlin " + FIRMWARE_VERSION.encode(),
            b"echo: Last Updated: 2024-07-19 | Author: (virtual)",
            b"echo:Compiled: Jul 19 2024",
            # Real boards often glue bootloader noise to the first lines; hosts must survive it.
            b"\x80echo: Free Memory: 4096  PlannerBufferBytes: 1280",
            b"echo:SD card ok" if self.sd.mounted else b"echo:No SD card",
        ]
        return b"\n".join(lines) + b"\n"

    # -- line rules ------------------------------------------------------------------------

    def handle_line(self, raw: bytes):
        """One line from the host, without its EOL, through Marlin's get_serial_commands()."""
        if len(raw) >= self.options.max_line:
            raw = raw[:self.options.max_line - 1]
        if b";" in raw:
            raw = raw[:raw.index(b";")]
        raw = raw.strip()
        if not raw:
            return
        if raw[0] == 78:  # b"N"
            checked = self._check_numbered(raw)
            if checked is None:
                return
            n, raw = checked
        else:
            n = None
            if self.sd.saving and not _is_m29(raw):
                self.line_error(ERR_NO_CHECKSUM)
                return
            star = raw.find(b"*")
            if star >= 0:
                raw = raw[:star].rstrip()
        text = raw.decode("latin-1")
        if text.startswith(DEBUG_PREFIX):
            self.faults.debug(text[len(DEBUG_PREFIX):])
            if n is not None:
                self.ack(n)
            return
        if self.received is not None:
            self.received.append((n, text))
        if self.sd.saving and not _is_m29(raw):
            self.sd.write_line(text)
            self.ack(n)
            return
        self.execute(text, n)

    def _check_numbered(self, raw: bytes):
        faults = self.faults
        if faults.corrupt_count:
            raw = faults.corrupt(raw)
        n, end = strtol(raw, 1)
        m110 = b"M110" in raw
        if m110:
            # Marlin takes the first N after the line number: "N101 M110 N100" sets 100.
            second = raw.find(b"N", 4)
            if second > 0:
                n = strtol(raw, second + 1)[0]
        elif n != self.last_n + 1:
            return self.line_error(ERR_LINE_NO)
        star = raw.rfind(b"*")
        if star < 0:
            return self.line_error(ERR_NO_CHECKSUM)
        if strtol(raw, star + 1)[0] != xor_checksum(raw[:star]):
            return self.line_error(ERR_CHECKSUM)
        if faults.resend_period and faults.resend_due():
            return self.line_error(ERR_CHECKSUM)
        self.last_n = n
        return n, raw[end:star].strip()

    def line_error(self, message: str):
        """Marlin's gcode_line_error(): report, drain RX, ask for the next expected line."""
        self.out.emit(f"Error:{message}{self.last_n}")
        self.inbox.drain()
        self.out.emit(f"Resend: {self.last_n + 1}")
        if self.options.ok_after_resend:
            self.ack()
        return None

    def resend(self):
        """M999's flush_and_request_resend(): no error line, same drain."""
        self.inbox.drain()
        self.out.emit(f"Resend: {self.last_n + 1}")

    # -- execution ---------------------------------------------------------------------------

    def execute(self, text: str, n=None, ack=True):
        """Run one command; `ack` is False for lines read from the SD card (they get no ok)."""
        word, args = split(text)
        self.current = text
        if self.faults.busy_plan is not None:
            self.faults.run_busy_plan(self, word)
        handler = HANDLERS.get(word)
        try:
            result = handler(self, args) if handler is not None else self.unknown()
        except Interrupt:
            raise
        except Exception:
            # A board does not crash on odd input; a bug here must not look like a firmware fault.
            log.exception("virtual printer failed on %r", text)
            self.out.emit(f"echo:Internal error handling {text}")
            result = None
        if ack and result is not NO_ACK:
            self.ack(n)

    def unknown(self):
        self.out.emit(f'echo:Unknown command: "{self.current}"')

    def ack(self, n=None, text: str = ""):
        """ok (with M105's temperatures in `text`), or ADVANCED_OK's 'ok N<n> P<p> B<b>'."""
        out = self.out
        if self.faults.drop_ok_count:
            self.faults.drop_ok_count -= 1
            if text:
                out.emit(text)
            return
        if text:
            out.emit("ok" + text)
        elif self.options.advanced_ok:
            free_slots = max(0, self.options.bufsize - 1 - self.inbox.waiting())
            line = f" N{n}" if n is not None else ""
            out.emit(f"ok{line} P{self.options.planner_blocks - 1} B{free_slots}")
        elif not out.muted:
            out.batch.append(OK)

    def emergency(self, code: bytes):
        """What the emergency parser does the moment one of its commands is read."""
        if code == b"M112":
            self.kill("echo:EMERGENCY SHUTDOWN DETECTED. KILLED.", KILLED)
        elif code == b"M108":
            self.wait_broken = True
        else:
            self.quickstop = True

    def kill(self, *messages: str):
        """Marlin's kill(): heaters off, last words, then nothing until a reset."""
        self.thermals.switch_off()
        self.sd.abort()
        for message in messages:
            self.out.emit(message)
        raise Killed()

    def wait(self, seconds: float, until=None):
        """Block this command for `seconds` (or until `until()`), serving the wire meanwhile."""
        self.printer.sleep(seconds, until)


def _is_m29(raw: bytes) -> bool:
    return raw.startswith(b"M29") and not raw[3:4].isdigit()
