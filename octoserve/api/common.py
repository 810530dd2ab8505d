"""Helpers every API module shares: request bodies, boolean parsing, empty answers."""
from flask import Response, request
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from octoserve.errors import Invalid

TRUE_VALUES = {"true", "yes", "y", "1"}


def truthy(value) -> bool:
    """OctoPrint's reading of a boolean-ish value from JSON, a query string or a form."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value == 1
    return isinstance(value, str) and value.strip().lower() in TRUE_VALUES


def no_content() -> Response:
    return Response(status=204, mimetype="text/plain")


def json_body() -> dict:
    """The request's JSON object: 415 when not JSON, 400 when malformed or not an object."""
    if not request.is_json:
        raise UnsupportedMediaType(
            "Did not attempt to load JSON data because the request Content-Type was not 'application/json'."
        )
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest("Malformed JSON body in request")
    return data


def json_or_form() -> dict:
    """JSON when the body is JSON, else the query and form values (as /api/login accepts)."""
    if request.is_json:
        return json_body()
    return request.values.to_dict()


def required(data: dict, *names):
    missing = [n for n in names if n not in data]
    if missing:
        raise Invalid(f"Mandatory parameters missing: {', '.join(missing)}")
    return [data[n] for n in names]
