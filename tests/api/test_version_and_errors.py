"""GET /api/version and /api/server; every error under /api/ is JSON {"error": "..."}."""
import pytest

from tests.api.seeded import FORBIDDEN_TEXT, assert_error, key
from tests.conftest import with_csrf

ADMIN = key("admin")


# -- version / server ----------------------------------------------------------------------
def test_version(client, personas):
    response = client.get("/api/version", headers=key("readonly"))
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"api", "server", "text"}
    assert body["api"] == "0.1"
    assert body["server"] == "1.11.8"
    assert body["text"].startswith("OctoPrint")  # what slicers look for


def test_version_text_names_octoserve_after_octoprint(client, personas):
    """As Moonraker does: slicers need the "OctoPrint" prefix; the rest says who really answers."""
    body = client.get("/api/version", headers=key("readonly")).get_json()
    assert body["text"] == "OctoPrint (octoserve 0.1.0)"
    assert body["server"] == "1.11.8"


def test_server(client, personas):
    response = client.get("/api/server", headers=key("readonly"))
    assert response.status_code == 200
    assert response.get_json() == {"version": "1.11.8", "safemode": None}


def test_status_endpoints_refuse_anonymous_with_403_not_401(client, personas):
    for path in ("/api/version", "/api/server"):
        assert_error(client.get(path), 403, FORBIDDEN_TEXT)


# -- errors --------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/api/nope", "/api/access/nope", "/api/access/users/user/nope", "/api/version/x"])
@pytest.mark.parametrize("who", ["anonymous", "admin"])
def test_unknown_path_is_404_json(client, personas, path, who):
    headers = ADMIN if who == "admin" else {}
    assert_error(client.get(path, headers=headers), 404)


@pytest.mark.parametrize("method, path", [
    ("DELETE", "/api/version"),
    ("POST", "/api/server"),
    ("GET", "/api/login"),
    ("GET", "/api/logout"),
    ("PATCH", "/api/access/groups"),
    ("POST", "/api/access/permissions"),
    ("PATCH", "/api/access/users/user"),
    ("GET", "/api/access/users/user/password"),
    ("GET", "/api/access/users/user/apikey"),
    ("PUT", "/api/setup/wizard"),
])
def test_wrong_method_is_405_json(client, personas, method, path):
    response = client.open(path, method=method, headers=ADMIN)
    assert_error(response, 405)
    assert "Allow" in response.headers


@pytest.mark.parametrize("method, path", [
    ("POST", "/api/access/groups"),
    ("PUT", "/api/access/groups/custom"),
    ("POST", "/api/access/users"),
    ("PUT", "/api/access/users/other"),
    ("PUT", "/api/access/users/other/password"),
    ("PATCH", "/api/access/users/other/settings"),
    ("POST", "/api/setup/wizard"),
    ("POST", "/api/login"),
])
def test_malformed_json_is_400_json(client, personas, method, path):
    response = client.open(path, method=method, data='{"key": "broken"', content_type="application/json", headers=ADMIN)
    assert_error(response, 400)


@pytest.mark.parametrize("method, path", [
    ("POST", "/api/access/groups"),
    ("PUT", "/api/access/groups/custom"),
    ("POST", "/api/access/users"),
    ("PUT", "/api/access/users/other"),
    ("PUT", "/api/access/users/other/password"),
    ("PATCH", "/api/access/users/other/settings"),
    ("POST", "/api/setup/wizard"),
])
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_non_json_body_on_a_json_only_endpoint_is_415(client, personas, method, path, content_type):
    response = client.open(path, method=method, data="key=value", content_type=content_type, headers=ADMIN)
    assert_error(
        response, 415,
        "Did not attempt to load JSON data because the request Content-Type was not 'application/json'.",
    )


def test_login_takes_a_form_body_so_it_is_no_415(client, personas):
    response = client.post("/api/login", data={"passive": "1"}, headers=with_csrf(client))
    assert response.status_code == 200


def test_errors_of_domain_checks_are_json(client, personas):
    assert_error(client.get("/api/access/groups/nosuch", headers=ADMIN), 404)
    assert_error(client.post("/api/access/users", json={"name": "user", "password": "x", "active": True},
                             headers=ADMIN), 409)
    assert_error(client.post("/api/login", json={"passive": True}), 400, "CSRF validation failed")


def test_cache_headers(client, personas):
    assert client.get("/api/currentuser").headers["Cache-Control"] == "max-age=0"
    response = client.post("/api/login", json={"passive": True}, headers=ADMIN)
    assert "no-cache" in response.headers["Cache-Control"]
    assert response.headers["Pragma"] == "no-cache"
