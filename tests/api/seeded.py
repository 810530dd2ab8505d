"""Helpers of the API and access tests: persona credentials and OctoPrint's error shape.

The persona users themselves are fixtures of tests/conftest.py (``personas``).
"""
from tests.conftest import persona_key


def key(name: str) -> dict:
    """Headers authenticating as a persona (or OTHER) by API key."""
    return {"X-Api-Key": persona_key(name)}


def assert_error(response, status: int, text: str | None = None) -> dict:
    """The response is an OctoPrint error: the status and a JSON body {"error": "<text>"}."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], body
    if text is not None:
        assert body["error"] == text
    return body


FORBIDDEN_TEXT = (
    "You don't have the permission to access the requested resource. "
    "It is either read-protected or not readable by the server."
)
