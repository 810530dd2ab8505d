"""/api/printerprofiles: list, read, add (merged over a base), merge-update, make default, delete."""
import copy

import pytest

from tests.api.printer_helpers import ADMIN, add_profile, connect, disconnect
from tests.api.seeded import assert_error


@pytest.fixture
def printer(printer_client):
    """The app drives the printer daemon, down to the virtual printer."""
    return printer_client


BASE = "http://localhost/api/printerprofiles"
DEFAULT = {
    "id": "_default", "name": "Default", "model": "Generic RepRap Printer", "color": "default",
    "volume": {"width": 200, "depth": 200, "height": 200, "formFactor": "rectangular", "origin": "lowerleft",
               "custom_box": False},
    "heatedBed": True, "heatedChamber": False,
    "extruder": {"count": 1, "offsets": [[0, 0]], "nozzleDiameter": 0.4, "sharedNozzle": False,
                 "defaultExtrusionLength": 5},
    "axes": {"x": {"speed": 6000, "inverted": False}, "y": {"speed": 6000, "inverted": False},
             "z": {"speed": 200, "inverted": False}, "e": {"speed": 300, "inverted": False}},
}


def listed(client) -> dict:
    response = client.get("/api/printerprofiles", headers=ADMIN)
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"profiles"} and isinstance(body["profiles"], dict)
    return body["profiles"]


def create(client, profile, based_on=None):
    body = {"profile": profile} if based_on is None else {"profile": profile, "basedOn": based_on}
    return client.post("/api/printerprofiles", json=body, headers=ADMIN)


def merged(**changes) -> dict:
    profile = copy.deepcopy(DEFAULT)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(profile.get(key), dict):
            profile[key] = {**profile[key], **value}
        else:
            profile[key] = value
    return profile


def converted(profile, default=False, current=False) -> dict:
    return {**profile, "resource": f"{BASE}/{profile['id']}", "default": default, "current": current}


def test_the_list_is_an_object_keyed_by_id_with_the_exact_default(client, personas, printer_daemon):
    assert listed(client) == {"_default": converted(DEFAULT, default=True, current=True)}


def test_get_one_and_unknown(client, personas, printer_daemon):
    response = client.get("/api/printerprofiles/_default", headers=ADMIN)
    assert response.status_code == 200 and response.get_json() == converted(DEFAULT, default=True, current=True)
    assert_error(client.get("/api/printerprofiles/nope", headers=ADMIN), 404)


def test_add_merges_over_the_base_and_validates(client, personas, printer_daemon):
    response = create(client, {"id": "mk3", "name": "Prusa", "volume": {"width": 250}, "heatedChamber": True},
                      based_on="_default")
    assert response.status_code == 200, response.get_data(as_text=True)
    expected = merged(id="mk3", name="Prusa", volume={"width": 250}, heatedChamber=True)
    assert response.get_json() == {"profile": converted(expected)}
    assert listed(client)["mk3"] == converted(expected)
    assert client.get("/api/printerprofiles/mk3", headers=ADMIN).get_json() == converted(expected)

    response = create(client, {"id": "mk3s", "name": "Prusa S", "axes": {"z": {"speed": 720}}}, based_on="mk3")
    assert response.status_code == 200
    profile = response.get_json()["profile"]
    assert profile["volume"]["width"] == 250 and profile["heatedChamber"] is True  # from mk3
    assert profile["axes"]["z"] == {"speed": 720, "inverted": False}  # nested objects merge key by key


def test_add_without_base_merges_over_the_default(client, personas, printer_daemon):
    response = create(client, {"id": "tiny", "name": "Tiny", "volume": {"formFactor": "circular", "origin": "center"}})
    assert response.status_code == 200
    assert response.get_json()["profile"] == converted(
        merged(id="tiny", name="Tiny", volume={"formFactor": "circular", "origin": "center"}))


def test_add_with_a_custom_box(client, personas, printer_daemon):
    box = {"x_min": -5, "x_max": 205, "y_min": 0, "y_max": 210, "z_min": 0, "z_max": 180}
    response = create(client, {"id": "boxed", "name": "Boxed", "volume": {"custom_box": box}})
    assert response.status_code == 200 and response.get_json()["profile"]["volume"]["custom_box"] == box


@pytest.mark.parametrize("profile", [
    {"name": "No id"},
    {"id": "noname"},
    {"id": "has space", "name": "Bad id"},
    {"id": 5, "name": "Number id"},
    {"id": "bad", "name": "Bad", "heatedBed": "yes"},
    {"id": "bad", "name": "Bad", "volume": "big"},
    {"id": "bad", "name": "Bad", "volume": {"width": -1}},
    {"id": "bad", "name": "Bad", "volume": {"formFactor": "hexagonal"}},
    {"id": "bad", "name": "Bad", "volume": {"custom_box": {"x_min": 0}}},
    {"id": "bad", "name": "Bad", "extruder": {"count": 0}},
    {"id": "bad", "name": "Bad", "extruder": {"count": 2}},  # one offset for two extruders
    {"id": "bad", "name": "Bad", "extruder": []},
    {"id": "bad", "name": "Bad", "axes": {"x": {"speed": "fast"}}},
    {"id": "bad", "name": "Bad", "axes": {"x": 100}},
    {"id": "bad", "name": "Bad", "axes": "none"},
    {"id": "_default", "name": "Again"},
], ids=["no-id", "no-name", "id-chars", "id-type", "heatedBed", "volume-type", "width", "formFactor", "custom_box",
        "count-zero", "offsets", "extruder-type", "speed", "axis-type", "axes-type", "exists"])
def test_add_invalid_is_400_and_stores_nothing(client, personas, printer_daemon, profile):
    assert_error(create(client, profile), 400)
    assert set(listed(client)) == {"_default"}


def test_add_an_existing_id_is_400(client, personas, printer_daemon):
    assert create(client, {"id": "mk3", "name": "Prusa"}).status_code == 200
    assert_error(create(client, {"id": "mk3", "name": "Another"}), 400)
    assert listed(client)["mk3"]["name"] == "Prusa"


@pytest.mark.parametrize("body", [{}, {"profile": "mk3"}, {"basedOn": "_default"}])
def test_add_without_a_profile_object_is_400(client, personas, printer_daemon, body):
    assert_error(client.post("/api/printerprofiles", json=body, headers=ADMIN), 400)


def test_add_needs_json(client, personas, printer_daemon):
    response = client.post("/api/printerprofiles", data="profile=x", headers=ADMIN,
                           content_type="application/x-www-form-urlencoded")
    assert_error(response, 415)


def test_default_true_makes_a_new_profile_the_default(client, personas, printer_daemon):
    response = create(client, {"id": "mk3", "name": "Prusa", "default": True})
    assert response.status_code == 200
    profile = response.get_json()["profile"]
    assert profile["default"] is True and profile["current"] is True  # disconnected: current = default
    profiles = listed(client)
    assert profiles["_default"]["default"] is False and profiles["_default"]["current"] is False
    preference = client.get("/api/connection", headers=ADMIN).get_json()["options"]["printerProfilePreference"]
    assert preference == "mk3"


def test_patch_merges_and_persists(client, personas, services, printer_daemon):
    add_profile(services, "mk3", name="Prusa")
    patch = {"name": "Renamed", "axes": {"z": {"speed": 400}}, "volume": {"height": 210}}
    response = client.patch("/api/printerprofiles/mk3", json={"profile": patch}, headers=ADMIN)
    assert response.status_code == 200
    expected = converted(merged(id="mk3", name="Renamed", axes={**DEFAULT["axes"], "z": {"speed": 400,
                                                                                      "inverted": False}},
                                volume={"height": 210}))
    assert response.get_json() == {"profile": expected}
    assert client.get("/api/printerprofiles/mk3", headers=ADMIN).get_json() == expected


def test_patch_cannot_change_the_id(client, personas, services, printer_daemon):
    add_profile(services, "mk3")
    response = client.patch("/api/printerprofiles/mk3", json={"profile": {"id": "other"}}, headers=ADMIN)
    assert response.status_code == 200 and response.get_json()["profile"]["id"] == "mk3"
    assert set(listed(client)) == {"_default", "mk3"}


def test_patch_invalid_is_400_and_changes_nothing(client, personas, services, printer_daemon):
    add_profile(services, "mk3")
    before = listed(client)["mk3"]
    for patch in ({"heatedBed": "no"}, {"volume": {"width": 0}}, {"name": ""}):
        response = client.patch("/api/printerprofiles/mk3", json={"profile": patch}, headers=ADMIN)
        assert_error(response, 400)
    assert_error(client.patch("/api/printerprofiles/mk3", json={"name": "x"}, headers=ADMIN), 400)
    assert listed(client)["mk3"] == before


def test_patch_unknown_is_404(client, personas, printer_daemon):
    assert_error(client.patch("/api/printerprofiles/nope", json={"profile": {"name": "x"}}, headers=ADMIN), 404)


def test_patch_default_true_and_the_default_profile_itself(client, personas, services, printer_daemon):
    add_profile(services, "mk3")
    response = client.patch("/api/printerprofiles/mk3", json={"profile": {"default": True}}, headers=ADMIN)
    assert response.status_code == 200 and response.get_json()["profile"]["default"] is True
    assert listed(client)["_default"]["default"] is False
    response = client.patch("/api/printerprofiles/_default", json={"profile": {"name": "Stock"}}, headers=ADMIN)
    assert response.status_code == 200 and listed(client)["_default"]["name"] == "Stock"


def test_delete(client, personas, services, printer_daemon):
    add_profile(services, "spare")
    response = client.delete("/api/printerprofiles/spare", headers=ADMIN)
    assert response.status_code == 204 and response.get_data() == b""
    assert_error(client.get("/api/printerprofiles/spare", headers=ADMIN), 404)
    assert set(listed(client)) == {"_default"}


def test_the_default_profile_cannot_be_deleted(client, personas, services, printer_daemon):
    assert_error(client.delete("/api/printerprofiles/_default", headers=ADMIN), 409)
    add_profile(services, "mk3")
    assert client.patch("/api/printerprofiles/mk3", json={"profile": {"default": True}},
                        headers=ADMIN).status_code == 200
    assert_error(client.delete("/api/printerprofiles/mk3", headers=ADMIN), 409)
    assert set(listed(client)) == {"_default", "mk3"}


def test_the_current_profile_is_marked_and_cannot_be_deleted(client, app, personas, services, printer_daemon):
    add_profile(services, "mk3")
    connect(client, app, printerProfile="mk3")
    profiles = listed(client)
    assert (profiles["mk3"]["current"], profiles["mk3"]["default"]) == (True, False)
    assert (profiles["_default"]["current"], profiles["_default"]["default"]) == (False, True)
    assert_error(client.delete("/api/printerprofiles/mk3", headers=ADMIN), 409)
    disconnect(client, app)
    assert listed(client)["mk3"]["current"] is False
    assert client.delete("/api/printerprofiles/mk3", headers=ADMIN).status_code == 204


def test_a_profile_added_over_the_api_can_be_connected_with(client, app, personas, printer_daemon):
    assert create(client, {"id": "mk3", "name": "Prusa", "heatedBed": False}).status_code == 200
    connect(client, app, printerProfile="mk3")
    assert client.get("/api/connection", headers=ADMIN).get_json()["current"]["printerProfile"] == "mk3"
    assert_error(client.get("/api/printer/bed", headers=ADMIN), 409, "Printer does not have a heated bed")
