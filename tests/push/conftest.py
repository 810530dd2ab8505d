"""Fixtures of the push tests: a hub on real services, fed by hand like the daemon would feed it."""
import json
import time

import pytest

from octoserve.access.groups import ADMINS, USERS
from octoserve.printer.comm.state import Flags
from octoserve.printer.snapshot import PrinterState, Snapshot
from octoserve.push.hub import PushHub
from octoserve.push.session import PushSession


class FeedPrinter:
    """Stands in for the PrinterClient: the test pushes updates the way its subscription thread does."""

    def __init__(self):
        self.snapshot = Snapshot(state=PrinterState("OPERATIONAL", "Operational", "",
                                                    Flags(operational=True, ready=True, closed_or_error=False)))
        self.update_listeners = []

    def update(self, temps=(), logs=(), messages=(), **changes):
        if changes:
            self.snapshot = self.snapshot.with_changes(seq=self.snapshot.seq + 1, **changes)
        for listener in self.update_listeners:
            listener(self.snapshot, {"temps": list(temps), "logs": list(logs), "messages": list(messages)})


class Client:
    """A session read the way a transport reads it, messages decoded."""

    def __init__(self, hub, remote="192.0.2.10"):
        self.session = PushSession(hub, remote)
        self.session.open()

    def take(self, timeout=0.0, others=False) -> list:
        """What is due (waiting up to ``timeout``); other clients' comings and goings left out unless asked."""
        texts = self.session.next_messages(0)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            texts += self.session.next_messages(max(0.0, deadline - time.monotonic()))
        messages = [json.loads(text) for text in texts]
        if others:
            return messages
        return [m for m in messages if not m.get("event", {}).get("type", "").startswith("Client")]

    def send(self, message) -> None:
        self.session.receive(json.dumps(message) if not isinstance(message, str) else message)

    def auth(self, services, name) -> list:
        self.send({"auth": f"{name}:{services.tokens.issue(name)}"})
        return self.take()


@pytest.fixture
def people(services):
    services.users.add("ada", "pw", groups=[USERS, ADMINS])
    services.users.add("bob", "pw", groups=[USERS])
    services.users.add("rea", "pw", groups=["readonly"])
    return services


@pytest.fixture
def feed():
    return FeedPrinter()


@pytest.fixture
def hub(people, feed):
    return PushHub(people, feed)  # not started: the tests cut the ticks themselves


@pytest.fixture
def connect(hub):
    return lambda remote="192.0.2.10": Client(hub, remote)
