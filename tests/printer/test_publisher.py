"""The publisher never blocks whoever fires an event, drops a subscriber that stops reading, and hands
each update exactly what is new: the guard of "the print comes first" on the daemon's side."""
import json
import socket
import threading
import time

from octoserve.printer import publisher as publisher_module
from octoserve.printer.publisher import Publisher
from octoserve.printer.snapshot import Snapshot
from octoserve.printer.temperatures import Temperatures
from octoserve.printer.terminal import TerminalLog
from tests.daemon_helpers import wait_for


class FakeService:
    """What the publisher reads: a snapshot, temperatures and the terminal."""

    def __init__(self):
        self.temperatures = Temperatures()
        self.terminal = TerminalLog()
        self.seq = 0

    def snapshot(self):
        self.seq += 1
        return Snapshot(seq=self.seq, log_count=self.terminal.count)


class Reader:
    """A subscriber that reads everything on a thread of its own."""

    def __init__(self, sock):
        self.messages = []
        self._file = sock.makefile("rb")
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        for line in self._file:
            self.messages.append(json.loads(line))

    def events(self):
        return [m["event"]["payload"] for m in self.messages if "event" in m]

    def updates(self):
        return [m["update"] for m in self.messages if "update" in m]


def subscribe(publisher):
    ours, theirs = socket.socketpair()
    publisher.add(ours)
    return theirs


def test_firing_never_waits_for_a_subscriber_that_stopped_reading(monkeypatch):
    monkeypatch.setattr(publisher_module, "SEND_TIMEOUT", 1.0)
    publisher = Publisher(FakeService())
    publisher.start()
    try:
        stalled = subscribe(publisher)  # never read
        healthy = Reader(subscribe(publisher))
        wait_for(lambda: len(publisher.subscribers) == 2, what="both subscribers")
        payload = {"text": "x" * 1000}
        slowest = 0.0
        for number in range(5_000):  # 5 MB: far more than the stalled socket's buffers hold
            started = time.perf_counter()
            publisher.event("Tick", {**payload, "n": number})
            slowest = max(slowest, time.perf_counter() - started)
        assert slowest < 0.05, f"an event() call took {slowest * 1000:.1f} ms"
        wait_for(lambda: len(publisher.subscribers) == 1, 10, "the stalled subscriber to be dropped")
        wait_for(lambda: len(healthy.events()) == 5_000, 20, "every event at the healthy subscriber")
        assert [e["n"] for e in healthy.events()] == list(range(5_000))
    finally:
        publisher.stop()
        stalled.close()


def test_the_writes_happen_on_the_subscriber_threads_only(writer_threads):
    publisher = Publisher(FakeService())
    publisher.start()
    try:
        reader = Reader(subscribe(publisher))
        firing = threading.Thread(target=lambda: [publisher.event("Tick", n) for n in range(100)], name="comm-reader")
        firing.start()
        firing.join()
        wait_for(lambda: len(reader.events()) == 100, what="the events")
        assert writer_threads == {"subscriber-writer"}
    finally:
        publisher.stop()


def test_updates_hand_out_each_line_and_point_once():
    service = FakeService()
    for number in range(5):
        service.terminal.note(f"before {number}")
    service.temperatures.record({"tool0": (20.0, 0.0)})
    publisher = Publisher(service)
    publisher.start()
    try:
        reader = Reader(subscribe(publisher))
        wait_for(lambda: reader.updates(), what="the first update")
        first = reader.updates()[0]
        assert first["backlog"] and first["logs"] == [f"before {n}" for n in range(5)]
        assert len(first["temps"]) == 1
        for number in range(50):
            service.terminal.received(f"echo:{number}")
            service.terminal.received("ok")
            if number % 10 == 0:
                service.temperatures.record({"tool0": (20.0 + number, 200.0)})
            publisher.changed()
            time.sleep(0.005)
        wait_for(lambda: sum(len(u["logs"]) for u in reader.updates()) == 105, what="every line")
        updates = reader.updates()
        logs = [line for update in updates for line in update["logs"]]
        assert logs[5:] == [line for n in range(50) for line in (f"Recv: echo:{n}", "Recv: ok")]
        messages = [line for update in updates for line in update["messages"]]
        assert messages == [f"echo:{n}" for n in range(50)]  # what the printer said, its acks left out
        temps = [point["tool0"]["actual"] for update in updates for point in update["temps"]]
        assert temps == [20.0, 20.0, 30.0, 40.0, 50.0, 60.0]
    finally:
        publisher.stop()


def test_a_late_subscriber_starts_where_the_others_are():
    service = FakeService()
    publisher = Publisher(service)
    publisher.start()
    try:
        early = Reader(subscribe(publisher))
        wait_for(lambda: early.updates(), what="the first update")
        service.terminal.note("one")
        publisher.changed()
        late = Reader(subscribe(publisher))
        wait_for(lambda: late.updates(), what="the late subscriber's backlog")
        service.terminal.note("two")
        publisher.changed()
        wait_for(lambda: "two" in [line for u in late.updates() for line in u["logs"]], what="the next line")
        for reader in (early, late):
            assert [line for u in reader.updates() for line in u["logs"]] == ["one", "two"]
    finally:
        publisher.stop()


def test_a_quiet_subscription_stays_open_past_the_send_timeout(printer_daemon, printer_client, monkeypatch):
    monkeypatch.setattr(publisher_module, "SEND_TIMEOUT", 0.3)
    publisher = printer_daemon.server.publisher
    for subscriber in publisher.subscribers:  # reconnect under the short timeout
        subscriber.drop("test")
    wait_for(lambda: publisher.subscribers, what="the client to subscribe again")
    first = publisher.subscribers[0]
    time.sleep(1.2)  # four send timeouts without a word from the client
    assert publisher.subscribers == [first] and first.alive
