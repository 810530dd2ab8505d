"""Standalone mode: a virtual printer behind a symlinked pty, for hosts outside this process."""
import argparse
import os
import signal
import sys
import threading

from .options import Options
from .printer import VirtualPrinter


def run_link(link_path: str, options: Options = None, stop_event: threading.Event = None):
    """Serve a virtual printer at `link_path` (a symlink to the pty) until SIGINT/SIGTERM.

    `stop_event` ends it too; signals are only hooked when called from the main thread.
    """
    stop_event = stop_event or threading.Event()
    if os.path.lexists(link_path) and not os.path.islink(link_path):
        raise FileExistsError(f"{link_path} exists and is not a symlink; not replacing it")
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, lambda *_: stop_event.set())
    printer = VirtualPrinter(options).start()
    try:
        if os.path.islink(link_path):
            os.unlink(link_path)
        os.symlink(printer.slave_path, link_path)
        print(f"virtual printer on {printer.slave_path}, linked at {link_path}", file=sys.stderr, flush=True)
        while not stop_event.wait(0.2):
            if not printer.alive:
                break
    finally:
        if os.path.islink(link_path) and os.readlink(link_path) == printer.slave_path:
            os.unlink(link_path)
        printer.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="octoserve virtual-printer",
                                     description="Run a virtual Marlin printer on a pseudo-terminal.")
    parser.add_argument("--link", required=True, help="symlink to create, pointing at the pty")
    parser.add_argument("--ack-delay", type=float, default=0.0, metavar="MS",
                        help="delay everything the printer sends by MS milliseconds")
    parser.add_argument("--resend-every", type=int, default=0, metavar="N",
                        help="reject every N-th numbered line with a checksum error")
    parser.add_argument("--advanced-ok", action="store_true", help="answer 'ok N<n> P<p> B<b>'")
    parser.add_argument("--rx-buffer", type=int, default=None, metavar="BYTES",
                        help="drop input beyond BYTES not yet processed (UART overrun)")
    parser.add_argument("--no-ok-after-resend", action="store_true",
                        help="Marlin 2.0.x: no ok after a Resend: request")
    parser.add_argument("--heat-speed", type=float, default=1.0, help="thermal model time factor")
    parser.add_argument("--sd-folder", default=None, help="folder holding the SD card's files")
    args = parser.parse_args(argv)
    options = Options(ack_delay_ms=args.ack_delay, resend_every=args.resend_every,
                      advanced_ok=args.advanced_ok, rx_buffer=args.rx_buffer,
                      ok_after_resend=not args.no_ok_after_resend, heat_speed=args.heat_speed,
                      sd_folder=args.sd_folder, record=False)  # runs for hours: keep no log
    run_link(args.link, options)
    return 0
