"""Fixtures: virtual printers on real ptys, and pyserial hosts connected to them."""
import pytest

from tests.plugins.serial_host import Host


@pytest.fixture
def connect():
    """Host factory: opens the printer's pty with pyserial and waits for the boot banner."""
    hosts = []

    def open_host(printer, **kwargs):
        host = Host.connect(printer, **kwargs)
        hosts.append(host)
        return host

    yield open_host
    for host in hosts:
        host.close()


@pytest.fixture
def printer(make_printer):
    return make_printer()


@pytest.fixture
def host(printer, connect):
    return connect(printer)
