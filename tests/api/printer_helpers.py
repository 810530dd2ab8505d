"""Helpers of the printer API tests, end to end: Flask test client -> API -> PrinterClient ->
the real daemon socket -> comm layer -> the virtual printer on a pty.

A module whose app drives the daemon defines the fixture ``printer`` as ``printer_client``
(tests/conftest.py); ``connected`` and ``wire`` are fixtures of tests/api/conftest.py.
``printer_options`` are the virtual printer's options (parametrize it to change them, e.g.
``@pytest.mark.parametrize("printer_options", [{"has_chamber": True}])``).

What reached the virtual printer is read from its ``received`` list of (line number, command)
pairs; ``Wire`` marks a point in it and waits for what follows.
"""
from tests.api.seeded import key
from tests.daemon_helpers import wait_for

HEAT_SPEED = 50  # the thermal model 50x faster: targets are approached within seconds
ADMIN = key("admin")
# What the host sends on its own (polls, auto-report requests, the hello): never what a test asked for.
NOISE = ("M105", "M155", "M27", "M113", "M115", "M110")


def snapshot(app) -> dict:
    return app.extensions["octoserve.printer"].snapshot


def state_text(app) -> str:
    return snapshot(app).state.text


def connect(client, app, timeout=10.0, **options):
    """POST connect (VIRTUAL at 250000 unless told otherwise) and wait until Operational."""
    body = {"command": "connect", "port": "VIRTUAL", "baudrate": 250000, **options}
    response = client.post("/api/connection", json=body, headers=ADMIN)
    assert response.status_code == 204, response.get_data(as_text=True)
    wait_for(lambda: snapshot(app).flags.operational, timeout, "the printer to be operational")


def disconnect(client, app):
    assert client.post("/api/connection", json={"command": "disconnect"}, headers=ADMIN).status_code == 204
    wait_for(lambda: not snapshot(app).flags.operational, what="the printer to be disconnected")


def fresh_report(app) -> None:
    """Ask the firmware for a temperature report now (auto-reports come only every 2 s)."""
    app.extensions["octoserve.printer"].call("commands", commands=["M105"])


def settle(app, timeout=10.0):
    """Wait until the connect chatter is over: the card is mounted and a temperature report is in."""
    wait_for(lambda: snapshot(app).sd_ready, timeout, "the SD card to be mounted")
    fresh_report(app)
    wait_for(lambda: getattr(snapshot(app).temperatures.get("tool0"), "actual", None) is not None, timeout,
             "the first temperature report")


def add_profile(services, identifier, **fields):
    """A profile merged over the default one, stored directly in the repository."""
    return services.profiles.add({"id": identifier, "name": identifier.title(), **fields})


def start_printing(app, client, daemon, move_time=0.01):
    """A real print: a G-code file selected in the daemon, started with POST /api/job.

    The virtual printer is slowed down (each move takes ``move_time`` s) so the job runs
    long enough (400 moves) for the test to act while it prints.
    """
    path = daemon.basedir / "long.gcode"
    path.write_text("\n".join(f"G1 X{i % 100} Y{(i * 3) % 100} F3000" for i in range(400)) + "\n")
    daemon.ports.printer.options.move_time = move_time
    app.extensions["octoserve.printer"].call(
        "job_select", origin="local", path=path.name, abs_path=str(path), size=path.stat().st_size,
        date=int(path.stat().st_mtime))
    response = client.post("/api/job", json={"command": "start"}, headers=ADMIN)
    assert response.status_code == 204, response.get_data(as_text=True)
    wait_for(lambda: snapshot(app).flags.printing, what="the printer to be printing")


class Wire:
    """What the virtual printer receives from now on (the host's own polls left out)."""

    def __init__(self, daemon):
        self.daemon = daemon
        self.printer = daemon.ports.printer
        self.start = len(self.printer.received)

    def commands(self) -> list:
        return [command for _number, command in list(self.printer.received)[self.start:]
                if command.split(" ", 1)[0] not in NOISE]

    def expect(self, expected, timeout=5.0) -> list:
        """Wait until exactly ``expected`` (in order) has arrived since the mark, then move the mark on."""
        expected = list(expected)
        wait_for(lambda: len(self.commands()) >= len(expected), timeout, f"{expected} at the printer")
        assert self.commands() == expected
        self.start = len(self.printer.received)
        return expected

    def nothing(self) -> None:
        """Nothing was sent since the mark: a marker sent now arrives first (the queue keeps order)."""
        self.daemon.service.rpc_commands(["M117 wire check"])
        self.expect(["M117 wire check"])
