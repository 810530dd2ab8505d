"""The virtual printer on a real pseudo-terminal, and a Connection to it through pyserial."""
import threading

import pytest

from octoserve.printer import publisher as publisher_module
from octoserve.printer.comm.connection import Connection
from octoserve.printer.comm.options import ConnectionOptions
from tests.daemon_helpers import wait_for


class RecordingListener:
    """Remembers what the connection reported, for assertions; every method is thread-safe."""

    def __init__(self):
        self.lock = threading.Lock()
        self.states, self.errors, self.notes, self.actions, self.resets = [], [], [], [], []
        self.temperatures, self.sent, self.received = [], [], []
        self.abandoned = 0

    def on_state(self, state, error):
        with self.lock:
            self.states.append((state.name, error))

    def on_error(self, error):
        self.errors.append(error)

    def on_sent(self, data):
        self.sent.append(data)

    def on_received(self, line):
        self.received.append(line)

    def on_log_note(self, text):
        self.notes.append(text)

    def on_temperatures(self, readings):
        self.temperatures.append(readings)

    def current_targets(self):
        return []

    def on_firmware(self, info, capabilities):
        pass

    def on_capability(self, name):
        pass

    def on_action(self, name, argument):
        self.actions.append((name, argument))

    def on_position(self, position):
        pass

    def on_sd(self, message):
        pass

    def on_reset(self, was_printing):
        self.resets.append(was_printing)

    def on_connected(self):
        pass

    def on_job_abandoned(self):
        self.abandoned += 1

    @property
    def state(self):
        with self.lock:
            return self.states[-1][0] if self.states else None


wait_until = wait_for


@pytest.fixture
def connect(make_printer):
    """connect(printer_options..., options=ConnectionOptions(...)) -> (printer, connection, listener)."""
    connections = []

    def open_connection(options=None, **printer_options):
        printer = make_printer(**printer_options)
        listener = RecordingListener()
        connection = Connection(printer.slave_path, 250000, listener, options or ConnectionOptions())
        connections.append(connection)
        connection.open()
        assert connection.wait_operational(10), listener.states
        wait_until(lambda: "AUTOREPORT_TEMP" in connection.capabilities, what="the capability report")
        return printer, connection, listener

    yield open_connection
    for connection in connections:
        connection.close()


def job_lines(count, prefix="G1"):
    return [f"{prefix} X{i % 200} Y{(i * 7) % 200} E{i * 0.01:.3f}" for i in range(count)]


def run_job(connection, lines, timeout=60.0):
    """Stream the lines as a job and wait until the printer acknowledged the last of them."""
    done = threading.Event()
    feed = iter(lines)
    connection.start_job(lambda: next(feed, None), done.set)
    assert done.wait(timeout), "the job did not finish"


def executed(printer, prefix="G1"):
    """The job lines the firmware accepted, in the order it accepted them."""
    return [command for _number, command in list(printer.received) if command.startswith(prefix)]


@pytest.fixture
def writer_threads(monkeypatch):
    """The names of the threads that write to the daemon's subscriber sockets, gathered as they do."""
    names = set()
    original = publisher_module.Subscriber._write

    def recording(self, data):
        names.add(threading.current_thread().name)
        original(self, data)

    monkeypatch.setattr(publisher_module.Subscriber, "_write", recording)
    return names
