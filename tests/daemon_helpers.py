"""The printer daemon in a thread of the test process, through its real socket protocol."""
import time

from octoserve.printer.daemon import DaemonServer
from octoserve.printer.protocol import socket_path
from octoserve.printer.service import PrinterService
from octoserve_plugins.virtual_printer import VirtualPrinter


class VirtualPorts:
    """Port providers for the service: VIRTUAL starts a virtual printer the test can reach."""

    def __init__(self, **options):
        self.options = {"heat_speed": 20, **options}
        self.printers = []

    def start(self):
        printer = VirtualPrinter(**self.options).start()
        self.printers.append(printer)
        return printer.slave_path, printer.stop

    @property
    def printer(self) -> VirtualPrinter:
        return self.printers[-1]

    def providers(self):
        return {"VIRTUAL": self.start}

    def stop(self):
        for printer in self.printers:
            printer.stop()


class RunningDaemon:
    def __init__(self, basedir, **printer_options):
        self.basedir = basedir
        self.ports = VirtualPorts(**printer_options)
        opened = PrinterService.open(basedir)
        self.service = PrinterService(basedir, opened.settings, opened.profiles, self.ports.providers(),
                                      opened.job.history)
        self.server = DaemonServer(socket_path(basedir), self.service).start()

    def stop(self):
        self.service.shutdown()
        self.server.stop()
        self.ports.stop()


def wait_for(predicate, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def connect_virtual(client, timeout=10.0):
    """Connect the daemon to VIRTUAL and wait until the snapshot says Operational."""
    client.call("connect", port="VIRTUAL", baudrate=250000)
    wait_for(lambda: client.snapshot.flags.operational, timeout, "the printer to be operational")
