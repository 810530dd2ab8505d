"""GET and POST /api/connection end to end: the real daemon, its comm layer and the virtual printer."""
import pytest

from tests.api.printer_helpers import ADMIN, add_profile, connect, disconnect, snapshot
from tests.api.seeded import assert_error
from tests.daemon_helpers import wait_for


@pytest.fixture
def printer(printer_client):
    """The app drives the printer daemon, down to the virtual printer."""
    return printer_client


CLOSED = {"state": "Closed", "port": None, "baudrate": None, "printerProfile": "_default"}
OPTION_KEYS = {"ports", "baudrates", "printerProfiles", "portPreference", "baudratePreference",
               "printerProfilePreference"}


def get_connection(client) -> dict:
    response = client.get("/api/connection", headers=ADMIN)
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def post(client, body, **kwargs):
    return client.post("/api/connection", json=body, headers=ADMIN, **kwargs)


def test_disconnected_state_and_options(client, personas, printer_daemon):
    body = get_connection(client)
    assert set(body) == {"current", "options"}
    assert body["current"] == CLOSED
    options = body["options"]
    assert set(options) == OPTION_KEYS  # no autoconnect here: it lives in settings serial.autoconnect
    assert "VIRTUAL" in options["ports"]
    assert options["baudrates"] and all(isinstance(b, int) for b in options["baudrates"])
    assert options["baudrates"] == sorted(options["baudrates"], reverse=True)
    assert 250000 in options["baudrates"] and 115200 in options["baudrates"]
    assert options["printerProfiles"] == [{"id": "_default", "name": "Default"}]
    assert options["portPreference"] is None and options["baudratePreference"] is None
    assert options["printerProfilePreference"] == "_default"


def test_options_list_every_profile_by_id_and_name_only(client, personas, services, printer_daemon):
    add_profile(services, "mk3", name="Prusa MK3", heatedChamber=True)
    profiles = get_connection(client)["options"]["printerProfiles"]
    assert sorted(profiles, key=lambda p: p["id"]) == [{"id": "_default", "name": "Default"},
                                                       {"id": "mk3", "name": "Prusa MK3"}]


def test_connect_reaches_operational_and_disconnect_closes(client, app, personas, printer_daemon):
    response = post(client, {"command": "connect", "port": "VIRTUAL", "baudrate": 250000})
    assert response.status_code == 204 and response.get_data() == b""
    wait_for(lambda: get_connection(client)["current"]["state"] == "Operational", what="Operational")
    assert get_connection(client)["current"] == {"state": "Operational", "port": "VIRTUAL", "baudrate": 250000,
                                                 "printerProfile": "_default"}
    virtual = printer_daemon.ports.printer
    assert "M110 N0" in [command for _, command in virtual.received]  # the hello really went over the pty

    response = post(client, {"command": "disconnect"})
    assert response.status_code == 204 and response.get_data() == b""
    wait_for(lambda: get_connection(client)["current"]["state"] == "Closed", what="Closed")
    assert get_connection(client)["current"] == CLOSED
    wait_for(lambda: not virtual.alive, what="the virtual printer to be released")


def test_connect_with_a_profile_shows_it_until_disconnected(client, app, personas, services, printer_daemon):
    add_profile(services, "mk3")
    connect(client, app, printerProfile="mk3")
    assert get_connection(client)["current"]["printerProfile"] == "mk3"
    assert get_connection(client)["options"]["printerProfilePreference"] == "_default"  # not saved
    disconnect(client, app)
    assert get_connection(client)["current"] == CLOSED


def test_baudrate_zero_detects_one(client, app, personas, printer_daemon):
    assert post(client, {"command": "connect", "port": "VIRTUAL", "baudrate": 0}).status_code == 204
    wait_for(lambda: snapshot(app).flags.operational, 15, "a detected connection")
    current = get_connection(client)["current"]
    assert current["state"] == "Operational" and current["port"] == "VIRTUAL"
    assert current["baudrate"] in get_connection(client)["options"]["baudrates"]


@pytest.mark.parametrize("body, error", [
    ({"command": "connect", "port": "/dev/ttyNOPE"}, "port is invalid"),
    ({"command": "connect", "port": "VIRTUAL", "baudrate": 12345}, "baudrate is invalid"),
    ({"command": "connect", "port": "VIRTUAL", "baudrate": "250000"}, "baudrate is invalid"),
    ({"command": "connect", "port": "VIRTUAL", "printerProfile": "nope"}, "printerProfile is invalid"),
    ({"command": "reconnect"}, "command is invalid"),
    ({"port": "VIRTUAL"}, "command is invalid"),
], ids=["port", "baudrate", "baudrate-string", "profile", "command", "no-command"])
def test_invalid_connect_requests_are_400_and_connect_nothing(client, app, personas, printer_daemon, body, error):
    assert_error(post(client, body), 400, error)
    assert printer_daemon.ports.printers == []  # no port was ever opened
    assert get_connection(client)["current"] == CLOSED


def test_fake_ack_is_204_connected_or_not(client, app, connected):
    response = post(client, {"command": "fake_ack"})
    assert response.status_code == 204 and response.get_data() == b""
    assert snapshot(app).state.text == "Operational"
    disconnect(client, app)
    assert post(client, {"command": "fake_ack"}).status_code == 204  # nothing to acknowledge: a no-op


def test_save_persists_port_baudrate_and_profile(client, app, personas, services, printer_daemon):
    add_profile(services, "mk3")
    body = {"command": "connect", "port": "VIRTUAL", "baudrate": 115200, "printerProfile": "mk3", "save": True}
    assert post(client, body).status_code == 204
    wait_for(lambda: snapshot(app).flags.operational, what="Operational")
    assert services.settings.get("serial.port") == "VIRTUAL"
    assert services.settings.get("serial.baudrate") == 115200
    options = get_connection(client)["options"]
    assert (options["portPreference"], options["baudratePreference"]) == ("VIRTUAL", 115200)
    assert options["printerProfilePreference"] == "mk3"

    disconnect(client, app)
    assert post(client, {"command": "connect"}).status_code == 204  # the saved preferences are used
    wait_for(lambda: snapshot(app).flags.operational, what="Operational again")
    assert get_connection(client)["current"] == {"state": "Operational", "port": "VIRTUAL", "baudrate": 115200,
                                                 "printerProfile": "mk3"}


def test_without_save_nothing_is_persisted_and_autoconnect_is(client, app, personas, services, printer_daemon):
    connect(client, app, autoconnect=True)
    assert services.settings.get("serial.port") is None
    assert services.settings.get("serial.baudrate") is None
    assert services.settings.get("serial.autoconnect") is True


@pytest.mark.parametrize("kwargs", [
    {"data": "command=disconnect", "content_type": "application/x-www-form-urlencoded"},
    {"data": '{"command": "disconnect"}', "content_type": "text/plain"},
], ids=["form", "text"])
def test_a_body_that_is_not_json_is_415(client, personas, printer_daemon, kwargs):
    response = client.post("/api/connection", headers=ADMIN, **kwargs)
    assert_error(response, 415)


def test_malformed_json_is_400(client, personas, printer_daemon):
    response = client.post("/api/connection", data="{nope", content_type="application/json", headers=ADMIN)
    assert_error(response, 400)
