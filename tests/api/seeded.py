"""Fixtures shared by tests/api and tests/access: persona users made once per session.

Hashing a password costs ~30-50 ms (scrypt), and the permission matrix alone runs about
150 tests. So the personas (plus a second ordinary user, ``other``, and a removable custom
group, ``custom``) are created once in a template base directory; every test that asks for
``personas`` gets its own fresh copy of that directory, never a shared one.

Unlike tests/conftest.py's ``personas``, the copy has finished the setup wizard
(``server.firstRun`` is false), as a server in use has. Tests that need a first-run state
use no personas (an empty base directory) or set the flag themselves.
"""
import shutil

import pytest

from octoserve.services import open_services
from tests.conftest import PASSWORD, PERSONAS, persona_key

OTHER = "other"  # an ordinary user nobody in the matrix is
CUSTOM_GROUP = "custom"  # a changeable, removable group


@pytest.fixture(scope="session")
def persona_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "base"
    path.mkdir()
    services = open_services(path)
    for name, groups in PERSONAS.items():
        services.users.add(name, PASSWORD, groups=groups, apikey=persona_key(name))
    services.users.add(OTHER, PASSWORD, groups=["users"], apikey=persona_key(OTHER))
    services.groups.add(CUSTOM_GROUP, "Custom", description="made by the tests", permissions=["STATUS"])
    services.settings.set("server.firstRun", False)
    return path


@pytest.fixture
def basedir(tmp_path, request):
    """An empty base directory, or a copy of the template when the test uses ``personas``."""
    path = tmp_path / "base"
    if "personas" in request.fixturenames:
        shutil.copytree(request.getfixturevalue("persona_template"), path)
    else:
        path.mkdir()
    return path


@pytest.fixture
def personas(services):
    """The persona users (see the module docstring); the base directory already holds them."""
    return PERSONAS


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
