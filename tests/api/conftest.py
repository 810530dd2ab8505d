"""Fixtures of the API tests: a scripted printer by default, the daemon's printer where a module asks.

The app's printer here is a ScriptedPrinter (tests/files/api_helpers.py), which answers at once.
A module whose tests go down to the virtual printer defines ``printer`` as ``printer_client``.
"""
import pytest

from tests.api.printer_helpers import HEAT_SPEED, Wire, connect, settle
from tests.daemon_helpers import RunningDaemon
from tests.files.api_helpers import ScriptedPrinter


@pytest.fixture
def printer():
    return ScriptedPrinter()


@pytest.fixture
def printer_daemon(basedir, printer_options):
    """As tests/conftest.py's, with the thermal model fast enough for heating tests."""
    daemon = RunningDaemon(basedir, **{"heat_speed": HEAT_SPEED, **printer_options})
    yield daemon
    daemon.stop()


@pytest.fixture
def connected(app, client, personas, printer_daemon):
    """The printer connected through the API with the default profile, card mounted, temperatures in."""
    connect(client, app)
    settle(app)
    return printer_daemon


@pytest.fixture
def wire(connected):
    return Wire(connected)
