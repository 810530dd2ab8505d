"""WebSockets on the connection gunicorn handed us: the handshake, a reader, and bounded writes.

The framing is wsproto's (a sans-I/O WebSocket library); this module only moves bytes. It
runs under gunicorn's gevent worker, where each connection is a greenlet: the reader is a
second one, and a client that stops reading costs one blocked greenlet until
``SEND_TIMEOUT``, after which it is closed.
"""
import logging
import os
import socket
import threading

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, BytesMessage, CloseConnection, Ping, Request, TextMessage
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

log = logging.getLogger(__name__)

SEND_TIMEOUT = 10.0  # a client that takes no data for this long is closed
# The kernel's send buffer per push socket (Linux doubles it). Left alone, loopback and LAN
# sockets grow theirs to megabytes for a client that stops reading: 200 of them would be
# most of a small board's memory. 128 KB still holds a minute of `current` messages.
SEND_BUFFER = 64 * 1024
MAX_MESSAGE = 64 * 1024  # the longest message a client may send (its auth, throttle, subscribe)
RECEIVE_SIZE = 16 * 1024
MAX_PENDING = 256 * 1024  # frames waiting behind a client that takes nothing: then it is closed


class HandshakeRefused(Exception):
    def __init__(self, status: int, text: str):
        super().__init__(text)
        self.status = status


def is_upgrade(environ) -> bool:
    return (environ.get("REQUEST_METHOD") == "GET"
            and environ.get("HTTP_UPGRADE", "").lower() == "websocket")


def _headers(environ) -> list:
    headers = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers.append((key[5:].replace("_", "-").title().encode("latin-1"), value.encode("latin-1")))
    return headers


class WebSocket:
    """One accepted WebSocket: ``send_text`` from the session's greenlet, messages to ``on_text``."""

    def __init__(self, sock, connection):
        self.sock = sock
        self._ws = connection
        self._lock = threading.Lock()
        self.closed = threading.Event()
        self._parts = []
        self._size = 0
        self._pending = b""  # frames try_send could not hand to the socket yet

    @classmethod
    def accept(cls, environ) -> "WebSocket":
        """Answer the upgrade on gunicorn's socket; raises HandshakeRefused when that cannot be done."""
        sock = environ.get("gunicorn.socket")
        if sock is None:
            raise HandshakeRefused(400, "WebSocket needs the server started by octoserve serve")
        connection = WSConnection(ConnectionType.SERVER)
        path = environ.get("RAW_URI") or environ.get("PATH_INFO", "/")
        try:
            connection.initiate_upgrade_connection(_headers(environ), path)
            requests = [event for event in connection.events() if isinstance(event, Request)]
            if not requests:
                raise HandshakeRefused(400, "Not a WebSocket handshake")
            data = connection.send(AcceptConnection())
        except (LocalProtocolError, RemoteProtocolError) as exc:
            raise HandshakeRefused(400, f"Bad WebSocket handshake: {exc}") from None
        sock.settimeout(SEND_TIMEOUT)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        except OSError:
            pass  # not a TCP socket (a test's socketpair, say)
        sock.sendall(data)
        return cls(sock, connection)

    def send_text(self, *texts: str) -> bool:
        """Send text frames, one per text, in one write, after whatever ``try_send`` left; False (and
        the socket closed) when the client does not take them in time."""
        if self.closed.is_set():
            return False
        try:
            with self._lock:
                send = self._ws.send
                data = self._pending + b"".join([send(TextMessage(data=text)) for text in texts])
                self._pending = b""
                if data:
                    self.sock.sendall(data)
            return True
        except (OSError, LocalProtocolError):
            self.close()
            return False

    def try_send(self, text: str) -> bool:
        """One frame now, from whoever calls, without ever waiting: what the socket does not take at
        once waits, in order, for the next ``send_text``. False when the writer holds the socket
        (then the caller queues the message instead).

        Events reach 200 clients from the firing greenlet this way, instead of waking 200 writers
        that would each queue behind the HTTP requests in the gevent loop.
        """
        if self.closed.is_set() or not self._lock.acquire(blocking=False):
            return False
        failed = False
        try:
            data = self._pending + self._ws.send(TextMessage(data=text))
            if len(data) > MAX_PENDING:
                failed = True  # the client takes nothing
            else:
                if not self._pending:
                    try:  # os.write on the non-blocking fd: a gevent socket's send would wait
                        data = data[os.write(self.sock.fileno(), data):]
                    except BlockingIOError:
                        pass
                self._pending = data
        except (OSError, LocalProtocolError):
            failed = True
        finally:
            self._lock.release()
        if failed:
            self.close()
        return True

    @property
    def pending(self) -> bool:
        return bool(self._pending)

    def run_reader(self, on_text) -> None:
        """Read until the client closes; call ``on_text(text)`` for every whole text message."""
        try:
            while not self.closed.is_set():
                try:
                    data = self.sock.recv(RECEIVE_SIZE)
                except TimeoutError:
                    continue  # an idle client is fine; the writer decides about stalled ones
                if not data:
                    break
                self._ws.receive_data(data)
                if not self._handle_events(on_text):
                    break
        except (OSError, RemoteProtocolError, LocalProtocolError):
            pass
        finally:
            self.close()

    def _handle_events(self, on_text) -> bool:
        for event in self._ws.events():
            if isinstance(event, TextMessage):
                self._parts.append(event.data)
                self._size += len(event.data)
                if self._size > MAX_MESSAGE:
                    self.close(1009, "Message too big")
                    return False
                if event.message_finished:
                    text, self._parts, self._size = "".join(self._parts), [], 0
                    on_text(text)
            elif isinstance(event, Ping):
                self._write(self._ws.send(event.response()))
            elif isinstance(event, CloseConnection):
                self._write(self._ws.send(event.response()))
                return False
            elif isinstance(event, BytesMessage):
                continue  # the push API speaks text only
        return True

    def _write(self, data: bytes) -> None:
        with self._lock:
            self.sock.sendall(data)

    def close(self, code: int = 1000, reason: str = "") -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        try:
            with self._lock:
                self.sock.sendall(self._ws.send(CloseConnection(code=code, reason=reason)))
        except (OSError, LocalProtocolError):
            pass
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
