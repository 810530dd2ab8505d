"""Every access endpoint x every caller: the status each one gets, one test case per cell.

Callers: ``anonymous`` (no credentials, but a valid CSRF cookie and header so that its
writes reach the permission check) and the personas guest/readonly/user/admin, each
authenticated by its API key in X-Api-Key. The server has finished its setup wizard and
holds, besides the personas, the ordinary user ``other`` and the removable group ``custom``.

"/{self}" endpoints address the caller's own account; anonymous has none, so they have
no anonymous cell (the anonymous case is covered by the same endpoint on ``other``).
"""
import pytest

from tests.api.seeded import FORBIDDEN_TEXT, assert_error, key
from tests.conftest import CUSTOM_GROUP, OTHER, PASSWORD, with_csrf

ANONYMOUS = "anonymous"
CALLERS = (ANONYMOUS, "guest", "readonly", "user", "admin")
PERSONA_CALLERS = CALLERS[1:]
EITHER_OK = (200, 204)  # the facts sheet gives no status for this success; both are accepted


def everyone(status=200):
    return {caller: status for caller in CALLERS}


def status_permission():
    """STATUS: none for guests (anonymous or the guest persona), held by the others."""
    return {ANONYMOUS: 403, "guest": 403, "readonly": 200, "user": 200, "admin": 200}


def admin_only(status=200):
    return {caller: status if caller == "admin" else 403 for caller in CALLERS}


def own_account(status=200):
    """Self-service: every logged-in persona on its own account."""
    return {caller: status for caller in PERSONA_CALLERS}


def admin_on_self(status):
    """ADMIN endpoints used on one's own account: non-admins 403, the admin ``status``."""
    return {caller: status if caller == "admin" else 403 for caller in PERSONA_CALLERS}


USERS = "/api/access/users"
# (id, method, path, JSON body or None, {caller: expected status or tuple of statuses})
ENDPOINTS = [
    ("version", "GET", "/api/version", None, status_permission()),
    ("server", "GET", "/api/server", None, status_permission()),
    ("login-passive", "POST", "/api/login", {"passive": True}, everyone()),
    ("logout", "POST", "/api/logout", None, everyone()),
    ("currentuser", "GET", "/api/currentuser", None, everyone()),
    ("permissions", "GET", "/api/access/permissions", None, everyone()),
    ("groups-get", "GET", "/api/access/groups", None, admin_only()),
    ("groups-post", "POST", "/api/access/groups",
     {"key": "added", "name": "Added", "permissions": ["STATUS"], "subgroups": []}, admin_only()),
    ("group-get", "GET", f"/api/access/groups/{CUSTOM_GROUP}", None, admin_only()),
    ("group-put", "PUT", f"/api/access/groups/{CUSTOM_GROUP}", {"description": "changed"}, admin_only()),
    ("group-delete", "DELETE", f"/api/access/groups/{CUSTOM_GROUP}", None, admin_only()),
    ("users-get", "GET", USERS, None, admin_only()),
    ("users-post", "POST", USERS, {"name": "newcomer", "password": "secret", "active": True}, admin_only()),
    ("user-other-get", "GET", f"{USERS}/{OTHER}", None, admin_only()),
    ("user-other-put", "PUT", f"{USERS}/{OTHER}", {"active": True}, admin_only()),
    ("user-other-delete", "DELETE", f"{USERS}/{OTHER}", None, admin_only()),
    ("user-self-get", "GET", f"{USERS}/{{self}}", None, own_account()),
    ("user-self-put", "PUT", f"{USERS}/{{self}}", {"active": True}, admin_on_self(200)),
    ("user-self-delete", "DELETE", f"{USERS}/{{self}}", None, admin_on_self(400)),
    ("password-other", "PUT", f"{USERS}/{OTHER}/password", {"password": "new secret"}, admin_only()),
    ("password-self", "PUT", f"{USERS}/{{self}}/password",
     {"password": "new secret", "current": PASSWORD}, own_account()),
    ("settings-other-get", "GET", f"{USERS}/{OTHER}/settings", None, admin_only()),
    ("settings-self-get", "GET", f"{USERS}/{{self}}/settings", None, own_account()),
    ("settings-other-patch", "PATCH", f"{USERS}/{OTHER}/settings", {"theme": "dark"}, admin_only(204)),
    ("settings-self-patch", "PATCH", f"{USERS}/{{self}}/settings", {"theme": "dark"}, own_account(204)),
    ("apikey-other-post", "POST", f"{USERS}/{OTHER}/apikey", None, admin_only()),
    ("apikey-self-post", "POST", f"{USERS}/{{self}}/apikey", None, own_account()),
    ("apikey-other-delete", "DELETE", f"{USERS}/{OTHER}/apikey", None, admin_only(EITHER_OK)),
    ("apikey-self-delete", "DELETE", f"{USERS}/{{self}}/apikey", None, own_account(EITHER_OK)),
    ("wizard-get", "GET", "/api/setup/wizard", None, admin_only()),
    ("wizard-post", "POST", "/api/setup/wizard", {"handled": ["corewizard"]}, admin_only(204)),
]

CELLS = [
    pytest.param(method, path, body, caller, expected[caller], id=f"{endpoint}-{caller}")
    for endpoint, method, path, body, expected in ENDPOINTS
    for caller in CALLERS
    if caller in expected
]


def test_matrix_covers_every_endpoint_for_every_caller():
    for endpoint, _method, path, _body, expected in ENDPOINTS:
        callers = PERSONA_CALLERS if "{self}" in path else CALLERS
        assert tuple(expected) == callers, endpoint
    assert len(CELLS) == 5 * len(ENDPOINTS) - sum("{self}" in e[2] for e in ENDPOINTS)


@pytest.mark.parametrize("method, path, body, caller, expected", CELLS)
def test_permission_matrix(client, personas, method, path, body, caller, expected):
    headers = with_csrf(client) if caller == ANONYMOUS else key(caller)
    kwargs = {"headers": headers}
    if body is not None:
        kwargs["json"] = body
    response = client.open(path.format(self=caller), method=method, **kwargs)

    allowed = expected if isinstance(expected, tuple) else (expected,)
    assert response.status_code in allowed, response.get_data(as_text=True)
    if response.status_code == 403:
        assert_error(response, 403, FORBIDDEN_TEXT)
    elif response.status_code >= 400:
        assert_error(response, response.status_code)
    elif response.status_code == 204:
        assert response.get_data() == b""
    else:
        assert response.mimetype == "application/json"


@pytest.mark.parametrize("caller", PERSONA_CALLERS[:-1])
def test_denied_writes_change_nothing(client, personas, services, caller):
    """A 403 is not just a status: the user, the group and the keys are left as they were."""
    headers = key(caller)
    before_groups = services.groups.all()
    before_other = services.users.get(OTHER)
    assert client.delete(f"{USERS}/{OTHER}", headers=headers).status_code == 403
    assert client.put(f"{USERS}/{OTHER}", json={"active": False}, headers=headers).status_code == 403
    assert client.post(f"{USERS}/{OTHER}/apikey", headers=headers).status_code == 403
    assert client.delete(f"/api/access/groups/{CUSTOM_GROUP}", headers=headers).status_code == 403
    assert client.post(USERS, json={"name": "sneaky", "password": "x", "active": True},
                       headers=headers).status_code == 403
    assert services.users.get(OTHER) == before_other
    assert services.users.find("sneaky") is None
    assert services.groups.all() == before_groups
