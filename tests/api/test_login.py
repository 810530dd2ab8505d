"""POST /api/login (active, passive), POST /api/logout, remember-me, GET /api/currentuser."""
import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.api.seeded import FORBIDDEN_TEXT, assert_error, key
from tests.conftest import PASSWORD, PORT, login, with_csrf

SESSION_COOKIE = f"session_P{PORT}"
REMEMBER_COOKIE = f"remember_token_P{PORT}"
ANONYMOUS = {"name": None, "permissions": [], "groups": ["guests"]}
ALL_ROLES = [
    "admin", "status", "connection", "webcam", "system", "files_list", "files_upload",
    "files_download", "files_delete", "files_select", "print", "gcodeviewer", "monitor_terminal",
    "control", "slice", "timelapse_list", "timelapse_download", "timelapse_delete",
    "timelapse_manage_unrendered", "timelapse_admin", "settings_read", "settings",
]


def current_name(client, **kwargs):
    response = client.get("/api/currentuser", **kwargs)
    assert response.status_code == 200
    return response.get_json()["name"]


# -- active login --------------------------------------------------------------------------
def test_active_login_with_json(client, personas):
    response = login(client, "user")
    assert response.status_code == 200
    assert response.get_json()["name"] == "user"
    assert client.get_cookie(SESSION_COOKIE) is not None
    assert current_name(client) == "user"


def test_active_login_with_form_body(client, personas):
    headers = with_csrf(client)
    response = client.post("/api/login", data={"user": "user", "pass": PASSWORD}, headers=headers)
    assert response.status_code == 200
    assert response.get_json()["name"] == "user"
    assert current_name(client) == "user"


def test_login_response_shape(client, personas):
    before = datetime.now(UTC).replace(microsecond=0)
    body = login(client, "admin").get_json()
    after = datetime.now(UTC)

    assert body["name"] == "admin"
    assert body["active"] is True
    assert body["permissions"] == []  # given to the user directly, not the effective ones
    assert body["groups"] == ["users", "admins"]
    assert body["needs"] == {"role": ALL_ROLES, "group": ["users", "admins"]}
    assert body["apikey"] == "admin-key-".ljust(40, "x")
    assert body["settings"] == {}
    assert body["admin"] is True and body["user"] is True
    assert sorted(body["roles"]) == ["admin", "user"]
    assert re.fullmatch(r"[0-9a-f]{64}", body["session"])
    assert body["_is_external_client"] is False  # the test client comes from 127.0.0.1
    assert body["_login_mechanism"] == "password"
    seen = datetime.fromisoformat(body["_credentials_seen"])
    assert seen.utcoffset() == timedelta(0) and seen.microsecond == 0
    assert before <= seen <= after


def test_login_response_of_ordinary_user(client, personas):
    body = login(client, "readonly").get_json()
    assert body["admin"] is False and body["roles"] == ["user"]
    assert body["needs"]["group"] == ["readonly"]
    assert "admin" not in body["needs"]["role"] and "status" in body["needs"]["role"]


@pytest.mark.parametrize("name, password", [("user", "wrong"), ("nobody", PASSWORD)],
                         ids=["wrong-password", "unknown-user"])
def test_bad_credentials_are_403(client, personas, name, password):
    assert_error(login(client, name, password), 403, FORBIDDEN_TEXT)
    assert current_name(client) is None


def test_deactivated_user_cannot_log_in(client, personas, services):
    services.users.update("user", active=False)
    assert_error(login(client, "user"), 403)
    assert current_name(client) is None


@pytest.mark.parametrize("body", [{}, {"user": "user"}, {"pass": PASSWORD}, {"remember": True}])
def test_neither_credentials_nor_passive_is_400(client, personas, body):
    response = client.post("/api/login", json=body, headers=with_csrf(client))
    assert_error(response, 400, "Neither user and pass attributes nor passive flag present")


def test_relogin_as_same_user_keeps_the_session(client, personas):
    first = login(client, "user").get_json()
    again = login(client, "user").get_json()
    assert again["session"] == first["session"]
    assert again["_login_mechanism"] == "password"


def test_login_as_another_user_replaces_the_session(client, personas, services):
    first = login(client, "user").get_json()
    second = login(client, "readonly").get_json()
    assert second["name"] == "readonly"
    assert second["session"] != first["session"]
    assert services.tokens.user_for(second["session"]) == "readonly"
    assert current_name(client) == "readonly"


def test_login_fires_user_logged_in(client, personas, services):
    seen = []
    services.events.subscribe(lambda event, payload: seen.append((event, payload)))
    login(client, "user")
    assert ("UserLoggedIn", {"username": "user"}) in seen


# -- passive login -------------------------------------------------------------------------
def test_passive_login_by_api_key(client, personas, services):
    response = client.post("/api/login", json={"passive": True}, headers=key("user"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["name"] == "user"
    assert body["_login_mechanism"] == "apikey"
    assert re.fullmatch(r"[0-9a-f]{64}", body["session"])
    assert services.tokens.user_for(body["session"]) == "user"
    assert isinstance(body["_credentials_seen"], str)  # a key proves itself on every request


def test_passive_login_of_a_cookie_session(client, personas):
    active = login(client, "user").get_json()
    response = client.post("/api/login", json={"passive": True}, headers=with_csrf(client))
    body = response.get_json()
    assert body["name"] == "user"
    assert body["session"] == active["session"]
    assert body["_login_mechanism"] == "password"


def test_passive_login_as_anonymous(client, personas):
    response = client.post("/api/login", json={"passive": True}, headers=with_csrf(client))
    assert response.status_code == 200
    assert response.get_json() == {
        "needs": {"group": ["guests"]}, "_is_external_client": False, "_credentials_seen": False,
    }


def test_session_token_belongs_to_the_user_it_is_reported_with(client, personas, services):
    """One cookie jar, two API keys: each passive login's session token is its own user's."""
    first = client.post("/api/login", json={"passive": True}, headers=key("admin")).get_json()
    second = client.post("/api/login", json={"passive": True}, headers=key("user")).get_json()
    assert services.tokens.user_for(first["session"]) == "admin"
    assert second["name"] == "user"
    assert services.tokens.user_for(second["session"]) == "user"


# -- logout --------------------------------------------------------------------------------
def test_logout_returns_the_anonymous_user_and_ends_the_session(client, personas, services):
    session = login(client, "user").get_json()["session"]
    seen = []
    services.events.subscribe(lambda event, payload: seen.append((event, payload)))

    response = client.post("/api/logout", headers=with_csrf(client))
    assert response.status_code == 200
    body = response.get_json()
    assert body["needs"] == {"group": ["guests"]}
    assert "name" not in body and "session" not in body
    assert client.get_cookie("active_logout").value == "true"
    assert ("UserLoggedOut", {"username": "user"}) in seen

    assert client.get("/api/currentuser").get_json() == ANONYMOUS
    assert client.get("/api/version").status_code == 403
    assert services.tokens.user_for(session) is None  # the socket token dies with the session


def test_active_login_clears_the_active_logout_cookie(client, personas):
    login(client, "user")
    client.post("/api/logout", headers=with_csrf(client))
    assert client.get_cookie("active_logout") is not None
    login(client, "user")
    assert client.get_cookie("active_logout") is None


def test_logout_needs_csrf_for_a_cookie_session(client, personas):
    login(client, "user")
    assert_error(client.post("/api/logout"), 400, "CSRF validation failed")
    assert current_name(client) == "user"


# -- remember me ---------------------------------------------------------------------------
def test_remember_me_survives_the_loss_of_the_session_cookie(client, personas):
    body = login(client, "user", remember=True).get_json()
    assert body["name"] == "user"
    remember = client.get_cookie(REMEMBER_COOKIE)
    assert remember is not None and remember.http_only

    client.delete_cookie(SESSION_COOKIE)
    assert client.get_cookie(SESSION_COOKIE) is None
    assert current_name(client) == "user"
    passive = client.post("/api/login", json={"passive": True}, headers=with_csrf(client)).get_json()
    assert passive["name"] == "user"
    assert passive["_login_mechanism"] == "remember_me"
    assert passive["_credentials_seen"] is False


def test_remember_cookie_lasts_90_days(client, personas):
    login(client, "user", remember=True)
    expires = client.get_cookie(REMEMBER_COOKIE).expires
    assert abs(expires - (datetime.now(UTC) + timedelta(days=90))) < timedelta(minutes=5)


def test_remember_cookie_alone_logs_in_a_new_client(app, client, personas):
    login(client, "user", remember=True)
    fresh = app.test_client()
    fresh.set_cookie(REMEMBER_COOKIE, client.get_cookie(REMEMBER_COOKIE).value)
    assert current_name(fresh) == "user"


def test_without_remember_losing_the_session_cookie_means_anonymous(client, personas):
    login(client, "user")
    assert client.get_cookie(REMEMBER_COOKIE) is None
    client.delete_cookie(SESSION_COOKIE)
    assert client.get("/api/currentuser").get_json() == ANONYMOUS


def test_remember_as_form_string(client, personas):
    headers = with_csrf(client)
    data = {"user": "user", "pass": PASSWORD, "remember": "true"}
    assert client.post("/api/login", data=data, headers=headers).status_code == 200
    assert client.get_cookie(REMEMBER_COOKIE) is not None


def test_logout_forgets_the_remember_me_cookie(client, personas):
    login(client, "user", remember=True)
    client.post("/api/logout", headers=with_csrf(client))
    assert client.get_cookie(REMEMBER_COOKIE) is None
    assert current_name(client) is None


# -- current user --------------------------------------------------------------------------
def test_current_user_lists_effective_permissions(client, personas, services):
    body = client.get("/api/currentuser", headers=key("admin")).get_json()
    assert body["name"] == "admin"
    assert body["permissions"] == services.registry.keys()  # ADMIN implies every permission
    assert body["groups"] == ["users", "admins"]
    readonly = client.get("/api/currentuser", headers=key("readonly")).get_json()
    assert readonly["permissions"] == [
        "STATUS", "WEBCAM", "FILES_LIST", "FILES_DOWNLOAD", "GCODE_VIEWER", "MONITOR_TERMINAL",
        "TIMELAPSE_LIST", "TIMELAPSE_DOWNLOAD", "SETTINGS_READ",
    ]


def test_current_user_of_anonymous(client, personas):
    assert client.get("/api/currentuser").get_json() == ANONYMOUS


@pytest.mark.parametrize("presented_key", ["user", "admin"], ids=["own-key", "someone-elses-key"])
def test_active_login_while_presenting_an_api_key_starts_a_password_session(client, personas, presented_key):
    """Credentials in the body are an active login, whatever key came along with them."""
    response = client.post("/api/login", json={"user": "user", "pass": PASSWORD}, headers=key(presented_key))
    assert response.status_code == 200
    body = response.get_json()
    assert body["name"] == "user"
    assert body["_login_mechanism"] == "password"
    assert current_name(client) == "user"  # the session cookie alone now carries the login


def test_client_outside_the_local_networks_is_external(client, personas):
    response = client.post("/api/login", json={"passive": True}, headers=key("user"),
                           environ_base={"REMOTE_ADDR": "8.8.4.4"})
    assert response.get_json()["_is_external_client"] is True
    lan = client.post("/api/login", json={"passive": True}, headers=key("user"),
                      environ_base={"REMOTE_ADDR": "192.168.0.20"})
    assert lan.get_json()["_is_external_client"] is False
