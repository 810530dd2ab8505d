"""The /api/access/users collection and items: add, update, delete, password, API key, settings."""
import re

import pytest

from tests.api.seeded import assert_error, key
from tests.conftest import OTHER, PASSWORD, PORT, login, persona_key, with_csrf

USERS = "/api/access/users"
ADMIN = key("admin")
REAUTH = "Please reauthenticate with your credentials"
USER_FIELDS = {"name", "active", "permissions", "groups", "needs", "apikey", "settings", "admin", "user", "roles"}


def users_by_name(response) -> dict:
    assert response.status_code == 200, response.get_data(as_text=True)
    return {u["name"]: u for u in response.get_json()["users"]}


def whoami(client, headers):
    return client.get("/api/currentuser", headers=headers).get_json()["name"]


def remembered_admin(app, client):
    """A client logged in as admin by remember-me cookie only: its credentials are not recent."""
    login(client, "admin", remember=True)
    stale = app.test_client()
    stale.set_cookie(f"remember_token_P{PORT}", client.get_cookie(f"remember_token_P{PORT}").value)
    return stale


# -- listing -------------------------------------------------------------------------------
def test_user_list_shape(client, personas):
    users = users_by_name(client.get(USERS, headers=ADMIN))
    assert set(users) == {"guest", "readonly", "user", "admin", OTHER}
    for record in users.values():
        assert set(record) == USER_FIELDS
    assert users["admin"]["admin"] is True and users["user"]["admin"] is False
    assert users["readonly"]["groups"] == ["readonly"]
    assert users["user"]["apikey"] == persona_key("user")  # a key is a fresh credential


def test_user_list_shows_keys_to_a_fresh_password_login(client, personas):
    login(client, "admin")
    users = users_by_name(client.get(USERS))
    assert users["user"]["apikey"] == persona_key("user")


def test_user_list_hides_keys_from_stale_credentials(app, client, personas):
    """Remember-me is not a recent password entry; no clock needs to move for that."""
    stale = remembered_admin(app, client)
    users = users_by_name(stale.get(USERS))
    assert all(u["apikey"] is None for u in users.values())
    assert stale.get(f"{USERS}/{OTHER}").get_json()["apikey"] is None


def test_get_one_user(client, personas):
    response = client.get(f"{USERS}/{OTHER}", headers=ADMIN)
    assert response.status_code == 200
    assert response.get_json() == users_by_name(client.get(USERS, headers=ADMIN))[OTHER]


def test_get_unknown_user_is_404(client, personas):
    assert_error(client.get(f"{USERS}/nobody", headers=ADMIN), 404)


# -- adding --------------------------------------------------------------------------------
def test_api_key_admin_adds_a_user(client, personas):
    body = {"name": "newbie", "password": "pw", "active": True}
    users = users_by_name(client.post(USERS, json=body, headers=ADMIN))
    assert users["newbie"]["active"] is True
    assert users["newbie"]["groups"] == ["users"]  # the default group when none is given
    assert users["newbie"]["apikey"] is None
    assert login(client, "newbie", "pw").status_code == 200


def test_add_user_with_groups_and_permissions(client, personas, services):
    body = {"name": "newbie", "password": "pw", "active": False, "groups": ["readonly"], "permissions": ["CONTROL"]}
    record = users_by_name(client.post(USERS, json=body, headers=ADMIN))["newbie"]
    assert record["active"] is False
    assert record["groups"] == ["readonly"] and record["permissions"] == ["CONTROL"]
    assert "control" in record["needs"]["role"] and "status" in record["needs"]["role"]


def test_add_user_with_boolean_ish_active(client, personas, services):
    """OctoPrint reads ``active`` as boolean-ish: "true", "yes", "1", 1 all mean true."""
    response = client.post(USERS, json={"name": "newbie", "password": "pw", "active": "true"}, headers=ADMIN)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert services.users.get("newbie").active is True


def test_add_existing_user_is_409(client, personas):
    assert_error(client.post(USERS, json={"name": "user", "password": "pw", "active": True}, headers=ADMIN), 409)


@pytest.mark.parametrize("missing", ["name", "password", "active"])
def test_add_user_missing_field_is_400(client, personas, services, missing):
    body = {k: v for k, v in {"name": "newbie", "password": "pw", "active": True}.items() if k != missing}
    assert_error(client.post(USERS, json=body, headers=ADMIN), 400)
    assert services.users.find("newbie") is None


def test_fresh_password_login_adds_a_user(client, personas):
    login(client, "admin")
    body = {"name": "newbie", "password": "pw", "active": True}
    assert client.post(USERS, json=body, headers=with_csrf(client)).status_code == 200


def test_adding_a_user_needs_recent_credentials(app, client, personas, services):
    stale = remembered_admin(app, client)
    headers = with_csrf(stale)
    body = {"name": "newbie", "password": "pw", "active": True}
    assert_error(stale.post(USERS, json=body, headers=headers), 403, REAUTH)
    assert services.users.find("newbie") is None

    # Re-entering the password (reauthentication) makes the same session fresh.
    again = stale.post("/api/login", json={"user": "admin", "pass": PASSWORD}, headers=headers)
    assert again.get_json()["_login_mechanism"] == "password"
    assert stale.post(USERS, json=body, headers=headers).status_code == 200


# -- updating and deleting -----------------------------------------------------------------
def test_update_user(client, personas, services):
    body = {"groups": ["readonly"], "permissions": ["CONTROL"]}
    record = users_by_name(client.put(f"{USERS}/{OTHER}", json=body, headers=ADMIN))[OTHER]
    assert record["groups"] == ["readonly"] and record["permissions"] == ["CONTROL"]
    permissions = client.get("/api/currentuser", headers=key(OTHER)).get_json()["permissions"]
    assert "CONTROL" in permissions and "PRINT" not in permissions


def test_deactivating_a_user_disables_its_key_and_session(app, client, personas, services):
    other_client = app.test_client()
    token = login(other_client, OTHER).get_json()["session"]
    assert client.put(f"{USERS}/{OTHER}", json={"active": False}, headers=ADMIN).status_code == 200
    assert whoami(client, key(OTHER)) is None
    assert other_client.get("/api/currentuser").get_json()["name"] is None
    assert services.tokens.user_for(token) is None


def test_update_unknown_user_is_404(client, personas):
    assert_error(client.put(f"{USERS}/nobody", json={"active": True}, headers=ADMIN), 404)


def test_delete_user(app, client, personas, services):
    other_client = app.test_client()
    login(other_client, OTHER)
    users = users_by_name(client.delete(f"{USERS}/{OTHER}", headers=ADMIN))
    assert other_client.get("/api/currentuser").get_json()["name"] is None
    assert OTHER not in users
    assert services.users.find(OTHER) is None
    assert whoami(client, key(OTHER)) is None
    assert_error(client.delete(f"{USERS}/{OTHER}", headers=ADMIN), 404)


def test_delete_self_is_400(client, personas, services):
    assert_error(client.delete(f"{USERS}/admin", headers=ADMIN), 400, "You cannot delete yourself")
    assert services.users.find("admin") is not None


# -- password ------------------------------------------------------------------------------
def test_own_password_change_with_wrong_current_is_403(client, personas):
    response = client.put(f"{USERS}/user/password", json={"password": "new", "current": "wrong"}, headers=key("user"))
    assert_error(response, 403)
    assert login(client, "user").status_code == 200


def test_own_password_change_with_correct_current(client, personas):
    body = {"password": "brand new", "current": PASSWORD}
    response = client.put(f"{USERS}/user/password", json=body, headers=key("user"))
    assert response.status_code == 200 and response.get_json() == {}
    assert login(client, "user", "brand new").status_code == 200


def test_admin_sets_another_users_password_without_current(app, client, personas):
    assert client.put(f"{USERS}/{OTHER}/password", json={"password": "reset"}, headers=ADMIN).status_code == 200
    assert login(app.test_client(), OTHER, "reset").status_code == 200
    assert_error(login(app.test_client(), OTHER, PASSWORD), 403)


def test_password_change_without_password_is_400(client, personas):
    assert_error(client.put(f"{USERS}/{OTHER}/password", json={}, headers=ADMIN), 400)


# -- API key -------------------------------------------------------------------------------
def test_generate_api_key(client, personas, services):
    response = client.post(f"{USERS}/user/apikey", headers=key("user"))
    assert response.status_code == 200
    new_key = response.get_json()["apikey"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", new_key)
    assert whoami(client, {"X-Api-Key": new_key}) == "user"
    assert whoami(client, key("user")) is None  # the old key is replaced
    assert client.post(f"{USERS}/user/apikey", headers={"X-Api-Key": new_key}).get_json()["apikey"] != new_key


def test_admin_generates_a_key_for_another_user(client, personas):
    new_key = client.post(f"{USERS}/{OTHER}/apikey", headers=ADMIN).get_json()["apikey"]
    assert whoami(client, {"X-Api-Key": new_key}) == OTHER


def test_delete_api_key(client, personas, services):
    response = client.delete(f"{USERS}/{OTHER}/apikey", headers=ADMIN)
    assert response.status_code in (200, 204)
    assert whoami(client, key(OTHER)) is None
    assert client.get(f"{USERS}/{OTHER}", headers=ADMIN).get_json()["apikey"] is None


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_api_key_of_unknown_user_is_404(client, personas, method):
    assert_error(client.open(f"{USERS}/nobody/apikey", method=method, headers=ADMIN), 404)


# -- settings ------------------------------------------------------------------------------
def test_settings_patch_deep_merges(client, personas):
    url, headers = f"{USERS}/user/settings", key("user")
    assert client.get(url, headers=headers).get_json() == {}
    first = client.patch(url, json={"interface": {"color": "blue", "zoom": 1}, "language": "de"}, headers=headers)
    assert first.status_code == 204 and first.get_data() == b""
    second = client.patch(url, json={"interface": {"zoom": 2, "compact": True}}, headers=headers)
    assert second.status_code == 204
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    assert response.get_json() == {"interface": {"color": "blue", "zoom": 2, "compact": True}, "language": "de"}
    assert client.get(f"{USERS}/user", headers=headers).get_json()["settings"] == response.get_json()


def test_settings_of_unknown_user_is_404(client, personas):
    assert_error(client.get(f"{USERS}/nobody/settings", headers=ADMIN), 404)
    assert_error(client.patch(f"{USERS}/nobody/settings", json={"a": 1}, headers=ADMIN), 404)


# -- legacy routes -------------------------------------------------------------------------
@pytest.mark.parametrize("old, new", [
    ("/api/users", "/api/access/users"),
    ("/api/users/user", "/api/access/users/user"),
    ("/api/users/user/settings", "/api/access/users/user/settings"),
])
def test_legacy_users_routes_redirect_307(client, personas, old, new):
    response = client.get(old, headers=ADMIN)
    assert response.status_code == 307
    assert response.headers["Location"].endswith(new)


def test_legacy_redirect_keeps_method_and_query(client, personas):
    response = client.put("/api/users/user/password?x=1", json={"password": "x"}, headers=ADMIN)
    assert response.status_code == 307  # 307, not 302: a client repeats the PUT and its body
    assert response.headers["Location"].endswith("/api/access/users/user/password?x=1")
