"""Maps domain errors and HTTP exceptions to OctoPrint's JSON error bodies and status codes."""
import logging

from flask import jsonify
from werkzeug.exceptions import HTTPException

from octoserve import errors

log = logging.getLogger(__name__)

STATUS = (
    (errors.PermissionDenied, 403),
    (errors.Forbidden, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.Invalid, 400),
)


def status_of(exc: errors.OctoserveError) -> int:
    for kind, status in STATUS:
        if isinstance(exc, kind):
            return status
    return 500


def error_response(exc: Exception):
    """A JSON ``{"error": ...}`` response for any exception; internals are logged, never shown."""
    if isinstance(exc, errors.OctoserveError):
        status, message = status_of(exc), exc.message
    elif isinstance(exc, HTTPException):
        status, message = exc.code or 500, exc.description
    else:
        log.exception("unhandled error in an API request")
        status, message = 500, "Internal server error, see the server log"
    response = jsonify({"error": message})
    response.status_code = status
    if isinstance(exc, HTTPException) and status == 405 and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response
