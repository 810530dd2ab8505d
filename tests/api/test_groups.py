"""GET /api/access/permissions and the /api/access/groups collection and items."""
import pytest

from tests.api.seeded import FORBIDDEN_TEXT, assert_error, key
from tests.conftest import CUSTOM_GROUP

GROUPS = "/api/access/groups"
ADMIN = key("admin")
CORE_KEYS = [
    "ADMIN", "STATUS", "CONNECTION", "WEBCAM", "SYSTEM", "FILES_LIST", "FILES_UPLOAD", "FILES_DOWNLOAD",
    "FILES_DELETE", "FILES_SELECT", "PRINT", "GCODE_VIEWER", "MONITOR_TERMINAL", "CONTROL", "SLICE",
    "TIMELAPSE_LIST", "TIMELAPSE_DOWNLOAD", "TIMELAPSE_DELETE", "TIMELAPSE_MANAGE_UNRENDERED",
    "TIMELAPSE_ADMIN", "SETTINGS_READ", "SETTINGS",
]
ROLES = [
    "admin", "status", "connection", "webcam", "system", "files_list", "files_upload", "files_download",
    "files_delete", "files_select", "print", "gcodeviewer", "monitor_terminal", "control", "slice",
    "timelapse_list", "timelapse_download", "timelapse_delete", "timelapse_manage_unrendered",
    "timelapse_admin", "settings_read", "settings",
]
READONLY_KEYS = [
    "STATUS", "WEBCAM", "FILES_LIST", "FILES_DOWNLOAD", "GCODE_VIEWER", "MONITOR_TERMINAL",
    "TIMELAPSE_LIST", "TIMELAPSE_DOWNLOAD", "SETTINGS_READ",
]
USERS_KEYS = [k for k in CORE_KEYS if k not in ("ADMIN", "SYSTEM", "SETTINGS")]
GROUP_FIELDS = {
    "key", "name", "description", "permissions", "subgroups", "needs",
    "default", "removable", "changeable", "toggleable", "dangerous",
}


def groups_by_key(response) -> dict:
    assert response.status_code == 200, response.get_data(as_text=True)
    return {g["key"]: g for g in response.get_json()["groups"]}


# -- permissions ---------------------------------------------------------------------------
def test_permissions_are_the_22_core_keys_in_octoprint_order(client):
    response = client.get("/api/access/permissions")
    assert response.status_code == 200
    permissions = response.get_json()["permissions"]
    assert [p["key"] for p in permissions] == CORE_KEYS
    assert [p["needs"] for p in permissions] == [{"role": [role]} for role in ROLES]


def test_permission_records(client):
    permissions = {p["key"]: p for p in client.get("/api/access/permissions").get_json()["permissions"]}
    for record in permissions.values():
        assert set(record) == {"key", "name", "dangerous", "default_groups", "description", "needs"}
        assert isinstance(record["name"], str) and isinstance(record["description"], str)
    assert {k for k, p in permissions.items() if p["dangerous"]} == {"ADMIN", "SYSTEM", "SETTINGS"}
    assert permissions["ADMIN"]["default_groups"] == ["admins"]
    assert permissions["STATUS"]["name"] == "Status"
    assert sorted(permissions["STATUS"]["default_groups"]) == ["readonly", "users"]
    assert permissions["CONNECTION"]["default_groups"] == ["users"]
    assert permissions["SYSTEM"]["default_groups"] == []
    assert permissions["SETTINGS"]["default_groups"] == []
    assert [k for k, p in permissions.items() if "readonly" in p["default_groups"]] == READONLY_KEYS
    assert [k for k, p in permissions.items() if "users" in p["default_groups"]] == USERS_KEYS


# -- the default groups --------------------------------------------------------------------
def test_default_groups(client, personas):
    groups = groups_by_key(client.get(GROUPS, headers=ADMIN))
    assert {"admins", "users", "guests", "readonly"} <= set(groups)
    for group in groups.values():
        assert set(group) == GROUP_FIELDS
        assert group["needs"]["group"] == [group["key"]]
    expected = {  # name, default, changeable, removable, toggleable
        "admins": ("Admins", False, False, False, True),
        "users": ("Operator", True, True, False, True),
        "guests": ("Guests", False, True, False, False),
        "readonly": ("Read-only Access", False, False, False, True),
    }
    for key_, (name, default, changeable, removable, toggleable) in expected.items():
        group = groups[key_]
        assert (group["name"], group["default"], group["changeable"], group["removable"],
                group["toggleable"]) == (name, default, changeable, removable, toggleable), key_
        assert group["subgroups"] == []


def test_default_group_permissions(client, personas):
    groups = groups_by_key(client.get(GROUPS, headers=ADMIN))
    assert groups["admins"]["permissions"] == ["ADMIN"]
    assert groups["admins"]["needs"]["role"] == ROLES  # ADMIN implies every role
    assert groups["admins"]["dangerous"] is True
    assert groups["users"]["permissions"] == USERS_KEYS
    assert groups["users"]["dangerous"] is False
    assert groups["readonly"]["permissions"] == READONLY_KEYS
    readonly_roles = [r for r, k in zip(ROLES, CORE_KEYS, strict=True) if k in READONLY_KEYS]
    assert groups["readonly"]["needs"]["role"] == readonly_roles
    assert groups["guests"]["permissions"] == []
    assert groups["guests"]["needs"]["role"] == []


def test_get_one_group(client, personas):
    response = client.get(f"{GROUPS}/readonly", headers=ADMIN)
    assert response.status_code == 200
    listed = groups_by_key(client.get(GROUPS, headers=ADMIN))["readonly"]
    assert response.get_json() == listed


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_unknown_group_is_404(client, personas, method):
    kwargs = {"json": {"description": "x"}} if method == "PUT" else {}
    assert_error(client.open(f"{GROUPS}/nosuchgroup", method=method, headers=ADMIN, **kwargs), 404)


# -- adding --------------------------------------------------------------------------------
NEW_GROUP = {"key": "operators", "name": "Operators", "permissions": ["STATUS", "CONTROL"], "subgroups": []}


def test_add_group_returns_the_full_list(client, personas):
    groups = groups_by_key(client.post(GROUPS, json={**NEW_GROUP, "description": "Night shift"}, headers=ADMIN))
    assert {"admins", "users", "guests", "readonly", CUSTOM_GROUP, "operators"} <= set(groups)
    added = groups["operators"]
    assert added["name"] == "Operators" and added["description"] == "Night shift"
    assert added["permissions"] == ["STATUS", "CONTROL"]
    assert added["needs"] == {"role": ["status", "control"], "group": ["operators"]}
    assert added["removable"] is True and added["changeable"] is True
    assert added["default"] is False and added["dangerous"] is False


@pytest.mark.parametrize("missing", ["key", "name", "permissions", "subgroups"])
def test_add_group_missing_field_is_400(client, personas, services, missing):
    body = {k: v for k, v in NEW_GROUP.items() if k != missing}
    assert_error(client.post(GROUPS, json=body, headers=ADMIN), 400)
    assert "operators" not in {g["key"] for g in services.groups.all()}


@pytest.mark.parametrize("existing", ["users", CUSTOM_GROUP])
def test_add_duplicate_group_is_409(client, personas, existing):
    assert_error(client.post(GROUPS, json={**NEW_GROUP, "key": existing}, headers=ADMIN), 409)


def test_add_group_with_unknown_permission_is_400(client, personas, services):
    body = {**NEW_GROUP, "permissions": ["STATUS", "MAKE_COFFEE"]}
    assert_error(client.post(GROUPS, json=body, headers=ADMIN), 400)
    assert "operators" not in {g["key"] for g in services.groups.all()}


def test_subgroup_permissions_are_inherited(client, personas):
    body = {**NEW_GROUP, "permissions": ["CONTROL"], "subgroups": ["readonly"]}
    assert client.post(GROUPS, json=body, headers=ADMIN).status_code == 200
    assert client.put("/api/access/users/other", json={"groups": ["operators"]}, headers=ADMIN).status_code == 200
    permissions = client.get("/api/currentuser", headers=key("other")).get_json()["permissions"]
    assert "CONTROL" in permissions and "STATUS" in permissions and "PRINT" not in permissions


# -- updating ------------------------------------------------------------------------------
def test_update_changeable_group(client, personas):
    body = {"permissions": ["STATUS", "PRINT"], "description": "changed", "default": True}
    groups = groups_by_key(client.put(f"{GROUPS}/{CUSTOM_GROUP}", json=body, headers=ADMIN))
    custom = groups[CUSTOM_GROUP]
    assert custom["permissions"] == ["STATUS", "PRINT"]
    assert custom["description"] == "changed" and custom["default"] is True


def test_update_of_users_group_takes_effect(client, personas):
    response = client.put(f"{GROUPS}/users", json={"permissions": ["STATUS"]}, headers=ADMIN)
    assert response.status_code == 200
    assert client.get("/api/currentuser", headers=key("user")).get_json()["permissions"] == ["STATUS"]


def test_granting_guests_a_permission_opens_it_to_anonymous(client, personas):
    assert_error(client.get("/api/version"), 403)
    assert client.put(f"{GROUPS}/guests", json={"permissions": ["STATUS"]}, headers=ADMIN).status_code == 200
    assert client.get("/api/version").status_code == 200


@pytest.mark.parametrize("dangerous", ["SETTINGS", "SYSTEM", "ADMIN"])
def test_guests_never_hold_dangerous_permissions(client, personas, services, dangerous):
    response = client.put(f"{GROUPS}/guests", json={"permissions": [dangerous]}, headers=ADMIN)
    assert_error(response, 400)
    assert services.groups.get("guests")["permissions"] == []


@pytest.mark.parametrize("unchangeable", ["admins", "readonly"])
def test_update_of_unchangeable_group_is_403(client, personas, services, unchangeable):
    before = services.groups.get(unchangeable)
    response = client.put(f"{GROUPS}/{unchangeable}", json={"permissions": ["STATUS"]}, headers=ADMIN)
    assert_error(response, 403)
    assert services.groups.get(unchangeable) == before


def test_update_with_boolean_ish_default(client, personas):
    """OctoPrint reads ``default`` as boolean-ish ("true", "yes", 1...), as every flag it takes."""
    response = client.put(f"{GROUPS}/{CUSTOM_GROUP}", json={"default": "true"}, headers=ADMIN)
    assert groups_by_key(response)[CUSTOM_GROUP]["default"] is True


# -- removing ------------------------------------------------------------------------------
@pytest.mark.parametrize("unremovable", ["admins", "users", "guests", "readonly"])
def test_delete_of_unremovable_group_is_403(client, personas, services, unremovable):
    assert_error(client.delete(f"{GROUPS}/{unremovable}", headers=ADMIN), 403)
    assert services.groups.get(unremovable)["key"] == unremovable


def test_delete_custom_group(client, personas, services):
    client.put("/api/access/users/other", json={"groups": ["users", CUSTOM_GROUP]}, headers=ADMIN)
    groups = groups_by_key(client.delete(f"{GROUPS}/{CUSTOM_GROUP}", headers=ADMIN))
    assert CUSTOM_GROUP not in groups
    assert_error(client.get(f"{GROUPS}/{CUSTOM_GROUP}", headers=ADMIN), 404)
    assert services.users.get("other").groups == ["users"]


def test_non_admin_cannot_read_groups(client, personas):
    assert_error(client.get(GROUPS, headers=key("user")), 403, FORBIDDEN_TEXT)
