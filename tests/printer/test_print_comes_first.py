"""Nothing a subscriber or the disk does can hold up a print: the daemon-side guard of "the print comes first"."""
import json
import socket
import threading
import time

from octoserve import events
from octoserve.printer import protocol
from octoserve.printer import publisher as publisher_module
from octoserve.printer.sent_commands import command_of
from tests.daemon_helpers import connect_virtual, wait_for
from tests.printer.test_job import MOVES, received, select, write_job


def stalled_subscription(basedir):
    """Subscribe to the daemon and never read again; a tiny receive buffer fills at once."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(str(protocol.socket_path(basedir)))
    sock.sendall(protocol.encode({"id": 0, "method": "subscribe", "params": {}}))
    return sock


class SlowHistory:
    """A history whose writes take a second (an SD card under load); it notes the threads writing."""

    def __init__(self, history):
        self.history = history
        self.threads = []

    def record(self, *args, **kwargs):
        self.threads.append(threading.current_thread().name)
        time.sleep(1.0)
        return self.history.record(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.history, name)


def test_a_stalled_subscriber_and_a_slow_disk_do_not_touch_the_print(printer_daemon, printer_client, monkeypatch,
                                                                     services, writer_threads):
    monkeypatch.setattr(publisher_module, "SEND_TIMEOUT", 1.0)
    job = printer_daemon.service.job
    job.history = slow = SlowHistory(job.history)
    seen = []
    services.events.subscribe(lambda name, payload: seen.append((time.monotonic(), name)))
    connect_virtual(printer_client)
    stalled = stalled_subscription(printer_daemon.basedir)
    publisher = printer_daemon.server.publisher
    try:
        wait_for(lambda: len(publisher.subscribers) == 2, what="the stalled subscription")
        path = write_job(printer_daemon.basedir, MOVES * 10)
        select(printer_client, path, print=True)
        wait_for(lambda: any(name == events.PRINT_DONE for _, name in seen), 60, "the end of the print")
        done = next(at for at, name in seen if name == events.PRINT_DONE)
        lines = received(printer_daemon)
        start = lines.index("G28")
        assert lines[start:start + len(MOVES) * 10 + 2] == ["G28", *MOVES * 10, "M84"]
        # The slow history write happened on the chores thread: the printer answered meanwhile.
        printer_client.call("commands", commands=["M117 after"])
        wait_for(lambda: "M117 after" in received(printer_daemon), 0.8, "the printer to take a command at once")
        assert time.monotonic() - done < 0.9
        wait_for(lambda: slow.threads, what="the history write")
        assert slow.threads == ["chores"]
        wait_for(lambda: len(publisher.subscribers) == 1, 10, "the stalled subscriber to be dropped")
        assert writer_threads == {"subscriber-writer"}
    finally:
        stalled.close()


def test_updates_carry_the_terminal_and_temperatures_as_deltas(printer_daemon, printer_client):
    updates = []
    printer_client.update_listeners.append(lambda snapshot, update: updates.append(update))
    connect_virtual(printer_client)
    for number in range(20):
        printer_client.call("commands", commands=[f"M117 line {number}", "M105"])
    wait_for(lambda: "M117 line 19" in received(printer_daemon), what="the commands")
    wait_for(lambda: any("Send: M117 line 19" in line for u in updates for line in u.get("logs", [])),
             what="the last line in an update")
    logs = [line for update in updates for line in update.get("logs", [])]
    sent = [command_of(line[6:].encode()) for line in logs if line.startswith("Send: ") and "M117 line" in line]
    assert sent == [f"M117 line {n}" for n in range(20)]  # each once, in order
    temps = [point["time"] for update in updates for point in update.get("temps", [])]
    assert temps == sorted(temps) and len(temps) >= 20
    assert json.dumps(updates)  # plain JSON all the way
