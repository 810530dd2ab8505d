"""The daemon's socket protocol: JSON lines over a Unix socket, requests, replies, snapshots, events.

A request is ``{"id": n, "method": name, "params": {...}}``; its reply is ``{"id": n, "result": ...}``
or ``{"id": n, "error": {"type": "Conflict", "message": "..."}}``, ``type`` naming a class of
octoserve.errors so the web process re-raises the same domain error. A connection that sends
``{"method": "subscribe"}`` then receives ``{"snapshot": {...}}`` and ``{"event": {...}}`` lines
until it closes.
"""
import json
from pathlib import Path

from octoserve import errors

SOCKET_NAME = "printer.sock"
MAX_LINE = 16 * 1024 * 1024

_ERROR_TYPES = {cls.__name__: cls for cls in (
    errors.Invalid, errors.NotFound, errors.Conflict, errors.Forbidden, errors.NotOperational,
    errors.OctoserveError,
)}


def socket_path(basedir) -> Path:
    return Path(basedir) / SOCKET_NAME


def encode(message: dict) -> bytes:
    return json.dumps(message, separators=(",", ":"), allow_nan=False).encode("utf-8") + b"\n"


def decode(line: bytes) -> dict:
    message = json.loads(line)
    if not isinstance(message, dict):
        raise ValueError("a message must be a JSON object")
    return message


def error_reply(request_id, exc: Exception) -> dict:
    if isinstance(exc, errors.OctoserveError):
        kind = type(exc).__name__ if type(exc).__name__ in _ERROR_TYPES else "OctoserveError"
        return {"id": request_id, "error": {"type": kind, "message": exc.message}}
    return {"id": request_id, "error": {"type": "OctoserveError", "message": f"printer daemon failed: {exc}"}}


def raise_error(error: dict):
    kind = _ERROR_TYPES.get(error.get("type"), errors.OctoserveError)
    raise kind(str(error.get("message", "printer daemon error")))
