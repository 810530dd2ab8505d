"""/sockjs: the push API's URL space, a WSGI layer in front of the Flask app.

Routes (``{server}`` and ``{session}`` are SockJS's, any text without ``/`` or ``.``):

- ``GET /sockjs/websocket``: raw WebSocket (OctoPod, OctoApp, FDM Monster);
- ``GET /sockjs/info``: SockJS's server description;
- ``GET /sockjs/{server}/{session}/websocket``: SockJS over WebSocket;
- ``POST /sockjs/{server}/{session}/xhr_streaming``, ``.../xhr`` and ``.../xhr_send``.

A WebSocket connection takes over gunicorn's socket; when it ends, ``StopIteration`` tells
gunicorn's worker to close the connection without writing a response of its own.
"""
import json
import logging
import re
import secrets
from http import HTTPStatus
from urllib.parse import urlsplit

from octoserve.push import sockjs
from octoserve.push.session import PushSession
from octoserve.push.transports import serve_raw, serve_sockjs_websocket
from octoserve.push.websocket import HandshakeRefused, WebSocket, is_upgrade

log = logging.getLogger(__name__)

PREFIX = "/sockjs"
_SESSION_PATH = re.compile(r"^/sockjs/([^/.]+)/([^/.]+)/(websocket|xhr_streaming|xhr_send|xhr)$")
_NO_CACHE = ("Cache-Control", "no-store, no-cache, no-transform, must-revalidate, max-age=0")


class PushRouter:
    """WSGI middleware: /sockjs/* is ours, everything else goes to ``app``."""

    def __init__(self, app, hub, settings):
        self.app = app
        self.hub = hub
        self.settings = settings
        self.xhr = sockjs.XhrSessions(hub)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path != PREFIX and not path.startswith(PREFIX + "/"):
            return self.app(environ, start_response)
        try:
            return self._route(environ, start_response, path)
        except HandshakeRefused as exc:
            return _json(start_response, exc.status, {"error": str(exc)})

    def _route(self, environ, start_response, path):
        method = environ.get("REQUEST_METHOD", "GET")
        if path in (PREFIX, PREFIX + "/"):
            return _respond(start_response, 200, b"Welcome to SockJS!\n", "text/plain; charset=UTF-8")
        if path == PREFIX + "/info":
            return self._info(environ, start_response, method)
        if path == PREFIX + "/websocket":
            return self._websocket(environ, serve_raw)
        match = _SESSION_PATH.match(path)
        if match is None:
            return _json(start_response, 404, {"error": "Not found"})
        kind = match.group(3)
        if method == "OPTIONS":
            return _respond(start_response, 204, b"", "text/plain", _cors(environ, "OPTIONS, POST"))
        if kind == "websocket":
            return self._websocket(environ, serve_sockjs_websocket)
        if method != "POST":
            return _json(start_response, 405, {"error": "Method not allowed"})
        return self._xhr(environ, start_response, match.group(2), kind)

    def _info(self, environ, start_response, method):
        if method == "OPTIONS":
            return _respond(start_response, 204, b"", "text/plain", _cors(environ, "OPTIONS, GET"))
        body = {"websocket": True, "cookie_needed": False, "origins": ["*:*"], "entropy": secrets.randbits(31)}
        return _respond(start_response, 200, json.dumps(body).encode(), "application/json; charset=UTF-8",
                        _cors(environ))

    def _websocket(self, environ, serve):
        if not is_upgrade(environ):
            raise HandshakeRefused(400, 'Can "Upgrade" only to "WebSocket".')
        if not self.origin_allowed(environ):
            raise HandshakeRefused(403, "Cross-origin push connections are not allowed")
        ws = WebSocket.accept(environ)
        serve(ws, PushSession(self.hub, _remote(environ)))
        raise StopIteration  # the connection was ours: gunicorn closes it and writes nothing

    def _xhr(self, environ, start_response, session_id, kind):
        xhr = self.xhr.get(session_id, _remote(environ), create=kind != "xhr_send")
        if xhr is None:
            return _json(start_response, 404, {"error": "No such session"})
        if kind == "xhr_send":
            body = _body(environ)
            try:
                valid = isinstance(json.loads(body), list)
            except ValueError:
                valid = False
            if not valid:
                return _respond(start_response, 500, b"Broken JSON encoding.", "text/plain; charset=UTF-8")
            sockjs.send(xhr, body)
            return _respond(start_response, 204, b"", "text/plain; charset=UTF-8", _cors(environ))
        headers = [*_cors(environ), _NO_CACHE]
        start_response("200 OK", [("Content-Type", "application/javascript; charset=UTF-8"), *headers])
        return sockjs.streaming(xhr) if kind == "xhr_streaming" else [sockjs.polling(xhr)]

    def origin_allowed(self, environ) -> bool:
        """OctoPrint's rule: no Origin, or the same host as the request, or CORS allowed."""
        origin = environ.get("HTTP_ORIGIN")
        if not origin or self.settings.get("api.allowCrossOrigin"):
            return True
        host = (environ.get("HTTP_HOST") or "").lower()
        return urlsplit(origin).netloc.lower() == host


def _remote(environ) -> str:
    return environ.get("REMOTE_ADDR") or "unknown"


def _body(environ) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(min(max(length, 0), sockjs.MAX_BODY)) if length else b""


def _cors(environ, methods=None) -> list:
    origin = environ.get("HTTP_ORIGIN")
    headers = [("Access-Control-Allow-Origin", origin or "*")]
    if origin:
        headers.append(("Access-Control-Allow-Credentials", "true"))
    if methods:
        headers += [("Access-Control-Allow-Methods", methods), ("Access-Control-Max-Age", "31536000")]
        requested = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS")
        if requested:
            headers.append(("Access-Control-Allow-Headers", requested))
    return headers


def _respond(start_response, status: int, body: bytes, content_type: str, headers=()):
    start_response(f"{status} {HTTPStatus(status).phrase}",
                   [("Content-Type", content_type), ("Content-Length", str(len(body))), *headers])
    return [body]


def _json(start_response, status: int, body: dict):
    return _respond(start_response, status, json.dumps(body).encode(), "application/json")
