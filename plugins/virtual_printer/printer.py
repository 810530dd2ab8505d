"""The virtual printer's thread: Marlin's main loop and idle() on a pty, and its start and stop."""
import collections
import logging
import shutil
import tempfile
import threading
import time

from .faults import Faults
from .firmware import Firmware
from .interrupts import Killed, Rebooted, Stopped, Unplugged
from .link import PtyLink
from .options import Options
from .wire import Inbox, Outbox

log = logging.getLogger(__name__)
HALTED_POLL = 0.5


class VirtualPrinter:
    """A Marlin 2.1-like board behind a real pseudo-terminal.

        printer = VirtualPrinter(heat_speed=50).start()
        port = serial.Serial(printer.slave_path, 250000, timeout=2)
        ...
        printer.stop()

    One thread does everything (read, run, write), as a single-core MCU would; a command that
    blocks (M109, G28, a dwell) keeps serving the wire through idle(), like Marlin's idle().
    """

    def __init__(self, options=None, **changes):
        if options is None or isinstance(options, dict):
            options = Options(**(options or {}))
        self.options = options.replace(**changes) if changes else options
        self.crash = None
        self.received = []
        self.faults = Faults(self)
        self.slave_path = None
        self.sd_folder = self.options.sd_folder
        self.inbox = Inbox(self.options.rx_buffer)
        self.outbox = Outbox(self.options.ack_delay_ms / 1000.0)
        self.firmware = None
        self.halted = False
        self._link = None
        self._thread = None
        self._own_folder = False
        self._stopping = False
        self._boot_until = 0.0
        self._calls = collections.deque()

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> "VirtualPrinter":
        if self._thread is not None:
            raise RuntimeError("virtual printer already started")
        if self.sd_folder is None:
            self.sd_folder = tempfile.mkdtemp(prefix="octoserve-sd-")
            self._own_folder = True
        self._link = PtyLink()
        self.slave_path = self._link.slave_path
        self.firmware = Firmware(self)
        self._thread = threading.Thread(target=self._run, name="virtual-printer", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0):
        """End the thread and release the pty, the wake pipe and a temporary SD folder."""
        self._stopping = True
        if self._thread is not None:
            self._link.wake()
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("virtual printer thread did not stop within %s s", timeout)
                return
        if self._link is not None:
            self._link.close()
        if self._own_folder:
            shutil.rmtree(self.sd_folder, ignore_errors=True)
            self._own_folder = False

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def host_connected(self) -> bool:
        """Whether a host holds the port open (as far as the printer thread has noticed)."""
        return self._link is not None and self._link.host_present

    @property
    def dropped_bytes(self) -> int:
        """Input lost to the rx_buffer limit (UART overruns)."""
        return self.inbox.dropped

    def call(self, action, timeout: float = 5.0):
        """Run `action` on the printer thread (where all state lives) and wait for it."""
        if threading.current_thread() is self._thread:
            return action()
        if not self.alive:
            return None
        done = threading.Event()
        self._calls.append((action, done))
        self._link.wake()
        done.wait(timeout)
        return None

    def hang_up(self):
        self._link.close_master()

    # -- the loop -------------------------------------------------------------------------------

    def _run(self):
        interrupt = None
        try:
            while True:
                try:
                    if isinstance(interrupt, Rebooted):
                        self._reboot(interrupt.data)
                    elif isinstance(interrupt, Killed):
                        self._halt()
                    interrupt = None
                    self._serve()
                except (Rebooted, Killed) as caught:
                    interrupt = caught
        except (Stopped, Unplugged):
            pass
        except Exception as error:
            # Kept for the owner to inspect; the host sees what a crashed board shows: silence.
            self.crash = error
            log.exception("virtual printer crashed")
        finally:
            self.firmware.sd.close()
            self._link.close_master()

    def _serve(self):
        """Marlin's loop(): take the next line from the host, else the next SD line, else idle."""
        inbox, fw = self.inbox, self.firmware
        while True:
            if self.halted:
                self.idle(HALTED_POLL)
                continue
            booting = self._boot_until - time.monotonic()
            if booting > 0:
                self.idle(booting)
                continue
            line = inbox.pop()
            if line is not None:
                fw.handle_line(line)
            elif fw.sd.active:
                fw.sd.step()
                self.idle(0.0)
            else:
                self.idle(3600.0)

    def idle(self, timeout: float = 0.0):
        """Service fault requests, timers and the wire, waiting at most `timeout` seconds.

        Called from inside blocking commands too: this is where a stop, a reboot, a kill by the
        emergency parser or an unplug interrupts them.
        """
        if self._stopping:
            raise Stopped()
        if self._calls:
            self._run_calls()
        now = time.monotonic()
        next_report = self.firmware.reports.tick(now) if not self.halted else now + HALTED_POLL
        next_output = self.outbox.flush(now, self._link)
        wait = min(now + timeout, next_report, next_output) - now
        data, opened = self._link.wait(wait, want_write=bool(self.outbox.unsent))
        if opened and self.options.reset_on_open:
            raise Rebooted(data)
        if data:
            self._receive(data)

    def sleep(self, seconds: float, until=None):
        """Block the current command for `seconds`, or until `until()` turns true."""
        deadline = time.monotonic() + seconds
        while not (until and until()):
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self.idle(left)

    def _receive(self, data: bytes):
        if self.halted:
            return
        if self.options.drop_input_while_booting and time.monotonic() < self._boot_until:
            return
        for code in self.inbox.feed(data, scan=self.options.emergency_parser):
            self.firmware.emergency(code)

    def _run_calls(self):
        while self._calls:
            action, done = self._calls.popleft()
            try:
                action()
            finally:
                done.set()

    def _reboot(self, data: bytes = b""):
        previous = self.firmware
        previous.sd.close()
        self.inbox.drain()
        self.outbox.clear()
        self.outbox.muted = False
        self.halted = False
        self.firmware = Firmware(self, previous)
        self._boot_until = time.monotonic() + self.options.boot_delay
        self.outbox.schedule(self.firmware.banner(), self._boot_until)
        if data:
            self._receive(data)

    def _halt(self):
        """After kill(): the last words go out, then the board reads and ignores everything."""
        self.halted = True
        self.inbox.drain()
        self.firmware.sd.close()
        self.outbox.flush(time.monotonic(), self._link)
        self.outbox.muted = True
