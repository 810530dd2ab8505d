"""CSRF double-submit: cookie csrf_token_P<port> and header X-CSRF-Token must agree on writes."""
import pytest

from tests.api.seeded import assert_error, key
from tests.conftest import CSRF_COOKIE, PASSWORD, login, with_csrf

FAILED = "CSRF validation failed"
SETTINGS = "/api/access/users/user/settings"


@pytest.fixture
def logged_in(client, personas):
    """A client logged in as ``user`` by password: a cookie session."""
    assert login(client, "user").status_code == 200
    return client


def test_cookie_session_write_without_header_fails(logged_in):
    assert_error(logged_in.patch(SETTINGS, json={"a": 1}), 400, FAILED)


def test_cookie_session_write_without_cookie_fails(logged_in):
    logged_in.delete_cookie(CSRF_COOKIE)
    response = logged_in.patch(SETTINGS, json={"a": 1}, headers={"X-CSRF-Token": "test-csrf-token"})
    assert_error(response, 400, FAILED)


def test_cookie_session_write_with_mismatched_header_fails(logged_in, services):
    with_csrf(logged_in)
    response = logged_in.patch(SETTINGS, json={"a": 1}, headers={"X-CSRF-Token": "something-else"})
    assert_error(response, 400, FAILED)
    assert services.users.get("user").settings == {}


def test_cookie_session_write_with_matching_cookie_and_header_passes(logged_in, services):
    response = logged_in.patch(SETTINGS, json={"a": 1}, headers=with_csrf(logged_in))
    assert response.status_code == 204
    assert services.users.get("user").settings == {"a": 1}


def test_anonymous_login_without_csrf_fails(client, personas):
    """A script posting credentials without fetching the token first gets 400, not a session."""
    response = client.post("/api/login", json={"user": "user", "pass": PASSWORD})
    assert_error(response, 400, FAILED)
    assert client.get("/api/currentuser").get_json()["name"] is None


def test_empty_token_in_cookie_and_header_fails(client, personas):
    client.set_cookie(CSRF_COOKIE, "")
    response = client.post("/api/login", json={"passive": True}, headers={"X-CSRF-Token": ""})
    assert_error(response, 400, FAILED)


@pytest.mark.parametrize("transport", ["header", "bearer", "query"])
def test_api_key_writes_are_exempt(client, personas, services, transport):
    headers, query = {}, {}
    if transport == "header":
        headers = key("user")
    elif transport == "bearer":
        headers = {"Authorization": "Bearer " + key("user")["X-Api-Key"]}
    else:
        query = {"apikey": key("user")["X-Api-Key"]}
    response = client.patch(SETTINGS, json={"via": transport}, headers=headers, query_string=query)
    assert response.status_code == 204
    assert services.users.get("user").settings == {"via": transport}


def test_api_key_form_field_write_is_exempt(client, personas):
    response = client.post("/api/login", data={"passive": "1", "apikey": key("user")["X-Api-Key"]})
    assert response.status_code == 200
    assert response.get_json()["name"] == "user"


def test_invalid_api_key_is_not_exempt(client, personas):
    response = client.post("/api/login", json={"passive": True}, headers={"X-Api-Key": "x" * 43})
    assert_error(response, 400, FAILED)


def test_session_wins_over_api_key_so_csrf_is_still_needed(logged_in):
    """With a session cookie the key is never consulted: the request is a cookie request."""
    response = logged_in.patch(SETTINGS, json={"a": 1}, headers=key("user"))
    assert_error(response, 400, FAILED)


@pytest.mark.parametrize("path", ["/api/currentuser", "/api/access/users/user/settings", "/api/access/permissions"])
def test_reads_never_need_csrf(logged_in, path):
    logged_in.delete_cookie(CSRF_COOKIE)
    assert logged_in.get(path).status_code == 200
    assert logged_in.head(path).status_code == 200


def test_token_cookie_is_issued_to_a_client_without_one(client):
    response = client.get("/api/currentuser")
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(CSRF_COOKIE + "=")]
    assert len(cookies) == 1
    assert "httponly" not in cookies[0].lower()  # page script reads it to echo it in the header
    token = client.get_cookie(CSRF_COOKIE).value
    assert len(token) >= 16

    # The issued token works: echoing it lets an anonymous write through.
    response = client.post("/api/login", json={"passive": True}, headers={"X-CSRF-Token": token})
    assert response.status_code == 200


def test_token_cookie_is_issued_even_on_an_error_answer(client):
    response = client.get("/api/version")
    assert response.status_code == 403
    assert client.get_cookie(CSRF_COOKIE) is not None


def test_token_cookie_is_kept_once_the_client_has_one(client):
    with_csrf(client)
    response = client.get("/api/currentuser")
    assert not [c for c in response.headers.getlist("Set-Cookie") if c.startswith(CSRF_COOKIE + "=")]
    assert client.get_cookie(CSRF_COOKIE).value == "test-csrf-token"


def test_plugin_blueprints_are_protected(client):
    response = client.post("/plugin/corewizard/acl", json={"user": "a", "pass1": "b", "pass2": "b"})
    assert_error(response, 400, FAILED)


def test_csrf_protection_can_be_switched_off(client, personas, services):
    services.settings.set("devel.enableCsrfProtection", False)
    response = client.post("/api/login", json={"user": "user", "pass": PASSWORD})
    assert response.status_code == 200
