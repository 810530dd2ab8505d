"""The virtual printer's plugin side: offers the port `VIRTUAL`, a virtual printer started on connect."""
from octoserve.hookspecs import hookimpl

from .options import Options
from .printer import VirtualPrinter

PORT = "VIRTUAL"


def _start():
    # No record of received lines: a session on the embedded printer may run for days.
    printer = VirtualPrinter(Options(record=False)).start()
    return printer.slave_path, printer.stop


@hookimpl
def octoserve_serial_ports():
    """Called in the printer daemon: connecting to VIRTUAL starts a fresh virtual printer."""
    return {PORT: _start}


@hookimpl
def octoserve_cli_commands():
    """Called in the CLI: `octoserve virtual-printer --link PATH` serves a virtual printer to other hosts."""
    from .cli import command  # click is only needed when the CLI asks

    return [command]
