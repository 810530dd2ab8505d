"""First run: no users yet, the setup wizard, and the core wizard's admin-creation step."""
import pytest

from tests.api.seeded import FORBIDDEN_TEXT, assert_error, key
from tests.conftest import login, with_csrf

ACL = "/plugin/corewizard/acl"
WIZARD = "/api/setup/wizard"


@pytest.mark.parametrize("method, path, body", [
    ("GET", "/api/version", None),
    ("GET", "/api/server", None),
    ("GET", "/api/access/groups", None),
    ("POST", "/api/access/groups", {"key": "g", "name": "G", "permissions": [], "subgroups": []}),
    ("GET", "/api/access/users", None),
    ("POST", "/api/access/users", {"name": "eve", "password": "x", "active": True}),
])
def test_guarded_endpoints_are_closed_without_users(client, services, method, path, body):
    assert services.users.count() == 0
    kwargs = {"headers": with_csrf(client)}
    if body is not None:
        kwargs["json"] = body
    assert_error(client.open(path, method=method, **kwargs), 403, FORBIDDEN_TEXT)
    assert services.users.count() == 0


def test_open_endpoints_answer_during_first_run(client):
    assert client.get("/api/access/permissions").status_code == 200
    assert client.get("/api/currentuser").get_json() == {"name": None, "permissions": [], "groups": ["guests"]}


def test_wizard_reports_the_acl_step_required(client):
    response = client.get(WIZARD)
    assert response.status_code == 200
    core = response.get_json()["corewizard"]
    assert core["required"] is True
    assert core["details"]["acl"] == {"required": True}
    assert core["ignored"] is False
    assert core["version"] is None or isinstance(core["version"], int)


def test_acl_creates_the_first_admin(client, services):
    response = client.post(ACL, json={"user": "boss", "pass1": "s3cret", "pass2": "s3cret"}, headers=with_csrf(client))
    assert response.status_code == 204
    assert response.get_data() == b""
    user = services.users.get("boss")
    assert user.active is True
    assert sorted(user.groups) == ["admins", "users"]

    fresh = login(client, "boss", "s3cret")
    assert fresh.status_code == 200
    assert fresh.get_json()["admin"] is True
    assert client.get("/api/access/groups").status_code == 200


def test_acl_accepts_a_form_body(client, services):
    response = client.post(ACL, data={"user": "boss", "pass1": "s3cret", "pass2": "s3cret"}, headers=with_csrf(client))
    assert response.status_code == 204
    assert services.users.find("boss") is not None


@pytest.mark.parametrize("body", [
    {"user": "boss", "pass1": "one", "pass2": "two"},
    {"user": "boss", "pass1": "one"},
    {"pass1": "one", "pass2": "one"},
    {},
], ids=["mismatch", "no-pass2", "no-user", "empty"])
def test_acl_with_bad_fields_creates_nothing_but_answers_204(client, services, body):
    response = client.post(ACL, json=body, headers=with_csrf(client))
    assert response.status_code == 204
    assert services.users.count() == 0


def test_acl_needs_csrf(client, services):
    response = client.post(ACL, json={"user": "boss", "pass1": "s3cret", "pass2": "s3cret"})
    assert_error(response, 400, "CSRF validation failed")
    assert services.users.count() == 0


def test_acl_closes_once_a_user_exists(client, services):
    headers = with_csrf(client)
    assert client.post(ACL, json={"user": "boss", "pass1": "a", "pass2": "a"}, headers=headers).status_code == 204
    response = client.post(ACL, json={"user": "mallory", "pass1": "b", "pass2": "b"}, headers=headers)
    assert_error(response, 404)
    assert services.users.find("mallory") is None
    assert [u.name for u in services.users.all()] == ["boss"]


def test_acl_is_no_longer_required_once_the_admin_exists(client):
    headers = with_csrf(client)
    client.post(ACL, json={"user": "boss", "pass1": "a", "pass2": "a"}, headers=headers)
    core = client.get(WIZARD).get_json()["corewizard"]
    assert core["details"]["acl"]["required"] is False
    assert core["required"] is False


def test_finishing_the_wizard_clears_first_run(client, services):
    assert services.settings.get("server.firstRun") is True
    response = client.post(WIZARD, json={"handled": ["corewizard"]}, headers=with_csrf(client))
    assert response.status_code == 204
    assert response.get_data() == b""
    assert services.settings.get("server.firstRun") is False


@pytest.mark.parametrize("body", [{}, {"seen": ["corewizard"]}])
def test_finishing_the_wizard_without_handled_is_400(client, services, body):
    response = client.post(WIZARD, json=body, headers=with_csrf(client))
    assert_error(response, 400)
    assert services.settings.get("server.firstRun") is True


def test_full_setup_then_the_wizard_is_admin_only(client, app, services):
    headers = with_csrf(client)
    client.post(ACL, json={"user": "boss", "pass1": "a", "pass2": "a"}, headers=headers)
    assert client.post(WIZARD, json={"handled": ["corewizard"]}, headers=headers).status_code == 204

    assert_error(client.get(WIZARD), 403)
    assert_error(client.post(WIZARD, json={"handled": []}, headers=headers), 403)
    assert_error(client.post(ACL, json={"user": "x", "pass1": "a", "pass2": "a"}, headers=headers), 404)

    assert login(client, "boss", "a").status_code == 200
    assert client.get(WIZARD).status_code == 200


def test_wizard_stays_open_while_first_run_is_set_even_with_users(client, personas, services):
    """Users exist (made with the CLI, say) but the wizard was never finished: still open."""
    services.settings.set("server.firstRun", True)
    assert client.get(WIZARD, headers=key("guest")).status_code == 200
    assert client.get(WIZARD).status_code == 200
    # ...while the guarded API works normally, as users exist.
    assert client.get("/api/version", headers=key("readonly")).status_code == 200
    assert_error(client.get("/api/version"), 403)
