"""Shared fixtures: a real base directory, the services on it, the app and its users."""
import pytest

from octoserve.app import create_app
from octoserve.services import open_services

PORT = 5000
CSRF_COOKIE = f"csrf_token_P{PORT}"
PASSWORD = "correct horse"

# persona -> groups; each persona user gets an API key "<persona>" padded to 32 chars.
PERSONAS = {
    "guest": ["guests"],
    "readonly": ["readonly"],
    "user": ["users"],
    "admin": ["users", "admins"],
}


def persona_key(name: str) -> str:
    return (name + "-key-").ljust(40, "x")


@pytest.fixture
def basedir(tmp_path):
    path = tmp_path / "base"
    path.mkdir()
    return path


@pytest.fixture
def services(basedir):
    return open_services(basedir)


@pytest.fixture
def app(services):
    app = create_app(services=services, port=PORT)
    app.testing = True
    yield app
    app.extensions["octoserve.printer"].stop()


@pytest.fixture
def personas(services):
    """One user per persona, each with a known password and API key."""
    for name, groups in PERSONAS.items():
        services.users.add(name, PASSWORD, groups=groups, apikey=persona_key(name))
    return PERSONAS


@pytest.fixture
def client(app):
    return app.test_client()


def with_csrf(client) -> dict:
    """Give a test client a CSRF cookie and return the matching header."""
    token = "test-csrf-token"
    client.set_cookie(CSRF_COOKIE, token)
    return {"X-CSRF-Token": token}


def login(client, name, password=PASSWORD, remember=False):
    headers = with_csrf(client)
    return client.post("/api/login", json={"user": name, "pass": password, "remember": remember}, headers=headers)
