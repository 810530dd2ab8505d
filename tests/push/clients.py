"""Push clients over real sockets, as the phone apps and sockjs-client speak to the server."""
import json
import threading
import time

import requests
import websocket

from tests.daemon_helpers import wait_for


class PushClient:
    """A WebSocket client that reads on a thread of its own and keeps every message with its arrival time."""

    sockjs = False

    def __init__(self, server, path="/sockjs/websocket", read=True, **options):
        self.server = server
        self.ws = websocket.create_connection(server.url.replace("http", "ws") + path, timeout=10, **options)
        self.received = []  # (monotonic time, message)
        self.frames = []  # raw text frames (SockJS: o, h, a[...], c[...])
        self.closed = False
        if read:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        try:
            while True:
                text = self.ws.recv()
                if not text:
                    break
                self.frames.append(text)
                for message in self.decode(text):
                    self.received.append((time.monotonic(), message))
        except Exception:
            pass
        self.closed = True

    def decode(self, text) -> list:
        return [json.loads(text)]

    def send(self, message: dict) -> None:
        self.ws.send(json.dumps(message))

    def messages(self, kind=None) -> list:
        return [m for _, m in list(self.received) if kind is None or kind in m]

    def events(self, name=None) -> list:
        return [m["event"] for m in self.messages("event") if name is None or m["event"]["type"] == name]

    def wait(self, kind, timeout=10.0, count=1, where=lambda message: True):
        return wait_for(lambda: len([m for m in self.messages(kind) if where(m)]) >= count, timeout,
                        f"{count} {kind} message(s)")

    def wait_event(self, name, timeout=15.0):
        wait_for(lambda: self.events(name), timeout, f"the {name} event")
        return self.events(name)[-1]

    def authenticate(self, name, session) -> None:
        self.send({"auth": f"{name}:{session}"})
        wait_for(lambda: self.messages("history"), 10, "the history after auth")

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass


class SockJSClient(PushClient):
    """The same over SockJS's WebSocket transport: frames o, h, a[...], c[...]; sends arrays of strings."""

    def __init__(self, server, **options):
        super().__init__(server, path="/sockjs/123/sockjstest/websocket", **options)

    def decode(self, text) -> list:
        if text.startswith("a"):
            return json.loads(text[1:])
        return []

    def send(self, message: dict) -> None:
        self.ws.send(json.dumps([json.dumps(message)]))


def passive_session(server, key) -> tuple:
    """POST /api/login {"passive": true} with an API key: (user name, session), as OctoPod does."""
    response = requests.post(server.url + "/api/login", json={"passive": True}, headers={"X-Api-Key": key},
                             timeout=10)
    assert response.status_code == 200, response.text
    body = response.json()
    return body["name"], body["session"]
