"""The two ways a push session rides a WebSocket: raw (OctoPod's /sockjs/websocket) and SockJS-framed.

Raw: every message is one text frame holding one JSON object, and the client sends plain
JSON; no heartbeat. SockJS: ``o`` on open, ``a[...]`` carrying JSON objects, ``h`` after
``HEARTBEAT`` seconds of silence, ``c[code,"reason"]`` on close, and the client sends a JSON
array of strings, each one message.
"""
import json
import threading
import time

from octoserve.push.session import PushSession
from octoserve.push.websocket import WebSocket

HEARTBEAT = 25.0  # SockJS's default heartbeat delay
RAW_WAIT = 30.0  # how long the raw loop waits before looking whether the socket is still there
GO_AWAY = 'c[3000,"Go away!"]'


class Heartbeat:
    """SockJS's heartbeat: an ``h`` every ``HEARTBEAT`` seconds, whatever else is sent meanwhile."""

    def __init__(self):
        self.next = time.monotonic() + HEARTBEAT

    def remaining(self) -> float:
        return max(0.0, self.next - time.monotonic())

    def due(self) -> bool:
        if time.monotonic() < self.next:
            return False
        self.next = time.monotonic() + HEARTBEAT
        return True


def sockjs_frame(texts: list) -> str:
    """``a[...]`` with the messages inside as JSON objects (not strings), as OctoPrint's client reads them."""
    return "a[" + ",".join(texts) + "]"


def receive_sockjs(session: PushSession, text: str) -> None:
    """A client frame: a JSON array of strings (or one string); anything else is ignored."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return
    for item in data if isinstance(data, list) else [data]:
        if isinstance(item, str):
            session.receive(item)


def _start_reader(ws: WebSocket, session: PushSession, on_text) -> None:
    def read():
        ws.run_reader(on_text)
        session.close()  # the client went away: the writer loop ends too
    threading.Thread(target=read, name="push-reader", daemon=True).start()


def _direct(ws: WebSocket, session: PushSession, frame=lambda text: text):
    """The session's way to send a message at once (see WebSocket.try_send)."""
    def send(text: str) -> bool:
        accepted = ws.try_send(frame(text))
        if accepted and ws.pending:
            session.flush_wanted()
        return accepted
    return send


def serve_raw(ws: WebSocket, session: PushSession) -> None:
    """Run a raw-WebSocket session until either side closes."""
    _start_reader(ws, session, session.receive)
    session.direct = _direct(ws, session)
    session.open()
    try:
        while not session.closed and not ws.closed.is_set():
            texts = session.next_messages(RAW_WAIT)
            sent = ws.send_text(*texts)  # every message its own frame, all in one write
            session.sent()
            if not sent:
                return
    finally:
        session.close()
        ws.close()


def serve_sockjs_websocket(ws: WebSocket, session: PushSession) -> None:
    """Run a SockJS session over its WebSocket transport until either side closes."""
    _start_reader(ws, session, lambda text: receive_sockjs(session, text))
    if not ws.send_text("o"):
        return
    session.direct = _direct(ws, session, lambda text: sockjs_frame([text]))
    session.open()
    heartbeat = Heartbeat()
    try:
        while not session.closed and not ws.closed.is_set():
            texts = session.next_messages(heartbeat.remaining())
            if session.closed:
                break
            frames = ([sockjs_frame(texts)] if texts else []) + (["h"] if heartbeat.due() else [])
            sent = ws.send_text(*frames)
            session.sent()
            if not sent:
                return
        if not ws.closed.is_set():
            ws.send_text(GO_AWAY)
    finally:
        session.close()
        ws.close()
