"""The WebSocket glue on a real socket pair: frames in order, direct sends that never wait, a stalled client."""
import socket
import threading

import pytest
from wsproto import ConnectionType, WSConnection
from wsproto.connection import Connection
from wsproto.events import AcceptConnection, Request, TextMessage

from octoserve.push import websocket as websocket_module
from octoserve.push.transports import _direct
from octoserve.push.websocket import WebSocket

HANDSHAKE = [(b"Host", b"printer"), (b"Upgrade", b"websocket"), (b"Connection", b"Upgrade"),
             (b"Sec-WebSocket-Key", b"dGhlIHNhbXBsZSBub25jZQ=="), (b"Sec-WebSocket-Version", b"13")]


def server_side(sock) -> WebSocket:
    connection = WSConnection(ConnectionType.SERVER)
    connection.initiate_upgrade_connection(HANDSHAKE, "/sockjs/websocket")
    assert any(isinstance(e, Request) for e in connection.events())
    connection.send(AcceptConnection())
    return WebSocket(sock, connection)


class Reader:
    """The client's side: the server's frames decoded by a client-mode wsproto, whole messages kept."""

    def __init__(self, sock):
        self.sock = sock
        self.proto = Connection(ConnectionType.CLIENT)
        self.texts = []
        self._parts = []

    def read(self, timeout=2.0):
        self.sock.settimeout(timeout)
        try:
            while True:
                data = self.sock.recv(1 << 20)
                if not data:
                    break
                self.proto.receive_data(data)
                for event in self.proto.events():
                    if isinstance(event, TextMessage):
                        self._parts.append(event.data)
                        if event.message_finished:
                            self.texts.append("".join(self._parts))
                            self._parts = []
        except TimeoutError:
            pass
        return self.texts


@pytest.fixture
def pair():
    ours, theirs = socket.socketpair()
    ours.setblocking(False)  # as gevent keeps it; try_send writes the fd without waiting
    yield server_side(ours), Reader(theirs)
    ours.close()
    theirs.close()


def test_direct_and_queued_frames_arrive_in_order(pair):
    ws, reader = pair

    class FakeSession:
        woken = 0

        def flush_wanted(self):
            self.woken += 1

    send = _direct(ws, FakeSession())
    assert send("one") and send("two")
    ws.sock.setblocking(True)
    assert ws.send_text("three", "four")
    assert reader.read(0.3) == ["one", "two", "three", "four"]


def test_a_direct_send_never_waits_and_leaves_the_rest_for_the_writer(pair, monkeypatch):
    ws, reader = pair
    monkeypatch.setattr(websocket_module, "MAX_PENDING", 64 * 1024 * 1024)
    big = "x" * 100_000
    for _ in range(40):  # 4 MB: far more than the socket pair buffers
        assert ws.try_send(big)
    assert ws.pending  # what the socket did not take waits, in order
    drained = threading.Thread(target=reader.read, args=(2.0,))
    drained.start()
    ws.sock.setblocking(True)
    assert ws.send_text("last")
    drained.join()
    assert reader.texts[-1] == "last" and len(reader.texts) == 41


def test_a_client_that_takes_nothing_is_closed(pair, monkeypatch):
    ws, _reader = pair
    monkeypatch.setattr(websocket_module, "MAX_PENDING", 300_000)
    for _ in range(10):
        ws.try_send("y" * 100_000)
    assert ws.closed.is_set()
    assert ws.send_text("more") is False
