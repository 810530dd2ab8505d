"""GET /api/printer and the tool, bed and chamber endpoints, end to end down to the virtual printer."""
import pytest

from tests.api.printer_helpers import ADMIN, Wire, add_profile, connect, fresh_report, settle, snapshot, start_printing
from tests.api.seeded import assert_error
from tests.daemon_helpers import wait_for


@pytest.fixture
def printer(printer_client):
    """The app drives the printer daemon, down to the virtual printer."""
    return printer_client


FLAG_KEYS = {"operational", "printing", "cancelling", "pausing", "resuming", "finishing", "closedOrError",
             "error", "paused", "ready", "sdReady"}
OPERATIONAL_FLAGS = {**dict.fromkeys(FLAG_KEYS, False), "operational": True, "ready": True, "sdReady": True}
NOT_OPERATIONAL = "Printer is not operational"


def get(client, path):
    return client.get(path, headers=ADMIN)


def post(client, path, body):
    return client.post(path, json=body, headers=ADMIN)


def ok(response):
    assert response.status_code == 204, response.get_data(as_text=True)
    assert response.get_data() == b""


def reading(value):
    assert set(value) == {"actual", "target", "offset"}
    assert isinstance(value["actual"], float)
    return value


# -- GET /api/printer -----------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/printer", "/api/printer/tool", "/api/printer/bed", "/api/printer/chamber",
                                  "/api/printer?exclude=temperature,sd,state"])
def test_state_gets_are_409_while_disconnected(client, personas, printer_daemon, path):
    assert_error(get(client, path), 409, NOT_OPERATIONAL)


def test_operational_state_has_the_exact_shape(client, connected):
    response = get(client, "/api/printer")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"temperature", "sd", "state"}
    assert set(body["temperature"]) == {"tool0", "bed"}  # no chamber: the default profile has none
    for heater in ("tool0", "bed"):
        assert reading(body["temperature"][heater]) == {"actual": pytest.approx(21.3, abs=1), "target": 0,
                                                        "offset": 0}
    assert body["sd"] == {"ready": True}
    assert body["state"] == {"text": "Operational", "flags": OPERATIONAL_FLAGS, "error": ""}


@pytest.mark.parametrize("exclude, keys", [
    ("temperature,sd,state", set()),
    ("sd", {"temperature", "state"}),
    ("temperature, state", {"sd"}),
    ("bogus", {"temperature", "sd", "state"}),
])
def test_exclude(client, connected, exclude, keys):
    response = get(client, f"/api/printer?exclude={exclude}")
    assert response.status_code == 200 and set(response.get_json()) == keys


def test_history_and_limit(client, app, connected):
    for _ in range(3):
        fresh_report(app)
    wait_for(lambda: len(app.extensions["octoserve.printer"].call("temperature_history")) >= 3,
             what="three temperature reports")
    temperature = get(client, "/api/printer?history=true").get_json()["temperature"]
    assert set(temperature) == {"tool0", "bed", "history"}
    history = temperature["history"]
    assert len(history) >= 3
    for point in history:
        assert set(point) == {"time", "tool0", "bed"} and isinstance(point["time"], int)
        assert set(point["tool0"]) == {"actual", "target"}  # no offset in history points
    limited = get(client, "/api/printer?history=true&limit=2").get_json()["temperature"]["history"]
    latest = get(client, "/api/printer?history=true").get_json()["temperature"]["history"]
    assert len(limited) == 2 and consecutive(limited, latest)  # the newest two (a report may follow)
    # a limit that is not a number is ignored, as OctoPrint does (the default is 300)
    for limit in ("abc", "%C2%B9", "-1"):
        limited = get(client, f"/api/printer?history=true&limit={limit}").get_json()["temperature"]["history"]
        assert len(limited) >= len(history)
    assert "history" not in get(client, "/api/printer").get_json()["temperature"]
    assert "history" not in get(client, "/api/printer?history=false").get_json()["temperature"]


def consecutive(part, whole) -> bool:
    """``part`` is the end of ``whole``, or was before one more point came."""
    return part in (whole[-len(part):], whole[-len(part) - 1:-1])


def test_sd_is_left_out_when_sd_support_is_off(client, services, connected):
    services.settings.set("feature.sdSupport", False)
    assert set(get(client, "/api/printer").get_json()) == {"temperature", "state"}


def test_no_bed_anywhere_when_the_profile_has_no_heated_bed(client, app, personas, services, printer_daemon):
    add_profile(services, "nobed", heatedBed=False)
    connect(client, app, printerProfile="nobed")
    settle(app)
    fresh_report(app)
    wait_for(lambda: len(app.extensions["octoserve.printer"].call("temperature_history")) >= 2, what="reports")
    assert "bed" in snapshot(app).temperatures  # the firmware does report one ...
    temperature = get(client, "/api/printer?history=true").get_json()["temperature"]
    assert set(temperature) == {"tool0", "history"}  # ... but the profile says there is none
    assert all(set(point) == {"time", "tool0"} for point in temperature["history"])
    assert_error(get(client, "/api/printer/bed"), 409, "Printer does not have a heated bed")
    wire = Wire(printer_daemon)
    assert_error(post(client, "/api/printer/bed", {"command": "target", "target": 60}), 409,
                 "Printer does not have a heated bed")
    assert_error(post(client, "/api/printer/bed", {"command": "bogus"}), 409, "Printer does not have a heated bed")
    wire.nothing()


def test_temperatures_move_toward_the_targets(client, app, wire):
    ok(post(client, "/api/printer/tool", {"command": "target", "targets": {"tool0": 200}}))
    ok(post(client, "/api/printer/bed", {"command": "target", "target": 60}))
    wire.expect(["M104 S200", "M140 S60"])
    temperature = get(client, "/api/printer").get_json()["temperature"]
    assert temperature["tool0"]["target"] == 200 and temperature["bed"]["target"] == 60  # shown at once

    def warmer():
        fresh_report(app)
        current = get(client, "/api/printer").get_json()["temperature"]
        return current["tool0"]["actual"] > 100 and current["bed"]["actual"] > 35
    wait_for(warmer, 10, "the heaters to warm up")
    temperature = get(client, "/api/printer").get_json()["temperature"]
    assert temperature["tool0"]["actual"] <= 201 and temperature["bed"]["actual"] <= 61
    assert (temperature["tool0"]["target"], temperature["bed"]["target"]) == (200, 60)


def test_state_while_printing(client, app, connected):
    start_printing(app, client, connected)
    state = get(client, "/api/printer").get_json()["state"]
    assert state["text"] == "Printing"
    assert state["flags"] == {**OPERATIONAL_FLAGS, "printing": True, "ready": False}


# -- /api/printer/tool ----------------------------------------------------------------------------

def test_tool_get_holds_only_tools(client, app, connected):
    fresh_report(app)
    wait_for(lambda: len(app.extensions["octoserve.printer"].call("temperature_history")) >= 2, what="reports")
    body = get(client, "/api/printer/tool").get_json()
    assert set(body) == {"tool0"} and reading(body["tool0"])
    body = get(client, "/api/printer/tool?history=true&limit=1").get_json()
    assert set(body) == {"tool0", "history"} and len(body["history"]) == 1
    assert all(set(point) == {"time", "tool0"} for point in body["history"])


@pytest.mark.parametrize("targets, sent", [
    ({"tool0": 200}, ["M104 S200"]),
    ({"tool": 190.5}, ["M104 S190.5"]),
    ({"tool0": 0}, ["M104 S0"]),
], ids=["tool0", "current-tool", "off"])
def test_tool_target(client, wire, targets, sent):
    ok(post(client, "/api/printer/tool", {"command": "target", "targets": targets}))
    wire.expect(sent)


@pytest.mark.parametrize("body, error", [
    ({"command": "target", "targets": {"tool9": 200}}, "targets contains invalid tool"),
    ({"command": "target", "targets": {"bed": 60}}, "targets contains invalid tool"),
    ({"command": "target", "targets": {"tool0": "hot"}}, "targets contains invalid value"),
    ({"command": "target", "targets": {"tool0": True}}, "targets contains invalid value"),
    ({"command": "target"}, "Mandatory parameters missing"),
    ({"command": "offset", "offsets": {"tool0": 50.5}}, "offsets contains invalid value"),
    ({"command": "offset", "offsets": {"tool0": -51}}, "offsets contains invalid value"),
    ({"command": "offset", "offsets": {"tool0": "5"}}, "offsets contains invalid value"),
    ({"command": "offset", "offsets": {"tool": 5}}, "offsets contains invalid tool"),
    ({"command": "offset"}, "Mandatory parameters missing"),
    ({"command": "select", "tool": "tool"}, "tool is invalid"),
    ({"command": "select", "tool": "tool1"}, "tool is invalid"),
    ({"command": "select", "tool": "T0"}, "tool is invalid"),
    ({"command": "select", "tool": 0}, "tool is invalid"),
    ({"command": "select"}, "Mandatory parameters missing"),
    ({"command": "extrude", "amount": "5"}, "amount is invalid"),
    ({"command": "extrude"}, "Mandatory parameters missing"),
    ({"command": "flowrate", "factor": "fast"}, "factor is invalid"),
    ({"command": "flowrate", "factor": 0}, "factor is invalid"),
    ({"command": "flowrate"}, "Mandatory parameters missing"),
    ({"command": "heat"}, "command is invalid"),
    ({"targets": {"tool0": 200}}, "command is invalid"),
])
def test_tool_invalid_requests_are_400_and_send_nothing(client, wire, body, error):
    assert_error(post(client, "/api/printer/tool", body), 400, error)
    wire.nothing()


def test_tool_offsets_show_in_the_state_and_send_nothing(client, wire):
    ok(post(client, "/api/printer/tool", {"command": "offset", "offsets": {"tool0": 50}}))
    assert get(client, "/api/printer/tool").get_json()["tool0"]["offset"] == 50
    ok(post(client, "/api/printer/tool", {"command": "offset", "offsets": {"tool0": -7.5}}))
    assert get(client, "/api/printer").get_json()["temperature"]["tool0"]["offset"] == -7.5
    wire.nothing()


def test_tool_select_extrude_and_flowrate(client, wire):
    ok(post(client, "/api/printer/tool", {"command": "select", "tool": "tool0"}))
    wire.expect(["T0"])
    ok(post(client, "/api/printer/tool", {"command": "extrude", "amount": 5}))
    wire.expect(["G91", "M83", "G1 E5 F300", "M82", "G90"])  # the profile's e speed
    ok(post(client, "/api/printer/tool", {"command": "extrude", "amount": -2.5, "speed": 100}))
    wire.expect(["G91", "M83", "G1 E-2.5 F100", "M82", "G90"])
    ok(post(client, "/api/printer/tool", {"command": "extrude", "amount": 1, "speed": 5000}))
    wire.expect(["G91", "M83", "G1 E1 F300", "M82", "G90"])  # capped at the profile's e speed
    ok(post(client, "/api/printer/tool", {"command": "flowrate", "factor": 95}))
    ok(post(client, "/api/printer/tool", {"command": "flowrate", "factor": 1.05}))
    wire.expect(["M221 S95", "M221 S105"])


def test_multi_extruder_profile(client, app, personas, services, printer_daemon):
    add_profile(services, "dual", extruder={"count": 2, "offsets": [[0, 0], [20, 0]]})
    connect(client, app, printerProfile="dual")
    settle(app)
    wire = Wire(printer_daemon)
    ok(post(client, "/api/printer/tool", {"command": "target", "targets": {"tool0": 200, "tool1": 210}}))
    ok(post(client, "/api/printer/tool", {"command": "select", "tool": "tool1"}))
    wire.expect(["M104 T0 S200", "M104 T1 S210", "T1"])
    assert_error(post(client, "/api/printer/tool", {"command": "target", "targets": {"tool2": 200}}), 400,
                 "targets contains invalid tool")


def test_tool_post_is_409_before_any_validation_while_disconnected(client, personas, printer_daemon):
    for body in ({"command": "target", "targets": {"tool0": 200}}, {"command": "bogus"}, {}):
        assert_error(post(client, "/api/printer/tool", body), 409, NOT_OPERATIONAL)
    response = client.post("/api/printer/tool", data="nope", content_type="text/plain", headers=ADMIN)
    assert_error(response, 409, NOT_OPERATIONAL)  # not even the body is looked at


def test_tool_post_needs_json_when_operational(client, connected):
    response = client.post("/api/printer/tool", data="command=select", headers=ADMIN,
                           content_type="application/x-www-form-urlencoded")
    assert_error(response, 415)


def test_no_extrusion_while_printing_but_targets_are_fine(client, app, connected):
    start_printing(app, client, connected)
    wire = Wire(connected)
    assert_error(post(client, "/api/printer/tool", {"command": "extrude", "amount": 5}), 409,
                 "Printer is currently printing")
    assert_error(post(client, "/api/printer/tool", {"command": "extrude"}), 400, "Mandatory parameters missing")
    ok(post(client, "/api/printer/tool", {"command": "target", "targets": {"tool0": 205}}))
    wait_for(lambda: "M104 S205" in wire.commands(), what="the target during the print")
    assert not any(command.startswith(("M83", "G1 E")) for command in wire.commands())


# -- /api/printer/bed and /api/printer/chamber ------------------------------------------------------

def test_bed_get_target_and_offset(client, wire):
    body = get(client, "/api/printer/bed").get_json()
    assert set(body) == {"bed"} and reading(body["bed"])
    ok(post(client, "/api/printer/bed", {"command": "target", "target": 60}))
    ok(post(client, "/api/printer/bed", {"command": "target", "target": 0}))
    wire.expect(["M140 S60", "M140 S0"])
    ok(post(client, "/api/printer/bed", {"command": "offset", "offset": -3}))
    assert get(client, "/api/printer/bed").get_json()["bed"]["offset"] == -3
    body = get(client, "/api/printer/bed?history=true").get_json()
    assert set(body) == {"bed", "history"}
    assert body["history"] and all(set(point) == {"time", "bed"} for point in body["history"])


@pytest.mark.parametrize("body, error", [
    ({"command": "target", "target": "hot"}, "target is invalid"),
    ({"command": "target", "target": None}, "target is invalid"),
    ({"command": "target"}, "Mandatory parameters missing"),
    ({"command": "offset", "offset": 51}, "offset is invalid"),
    ({"command": "offset", "offset": -50.1}, "offset is invalid"),
    ({"command": "offset", "offset": "1"}, "offset is invalid"),
    ({"command": "offset"}, "Mandatory parameters missing"),
    ({"command": "heat", "target": 60}, "command is invalid"),
])
def test_bed_invalid_requests_are_400_and_send_nothing(client, wire, body, error):
    assert_error(post(client, "/api/printer/bed", body), 400, error)
    wire.nothing()


def test_bed_post_is_409_before_validation_while_disconnected(client, personas, printer_daemon):
    assert_error(post(client, "/api/printer/bed", {"command": "bogus"}), 409, NOT_OPERATIONAL)
    assert_error(post(client, "/api/printer/chamber", {"command": "bogus"}), 409, NOT_OPERATIONAL)


def test_chamber_is_409_with_the_default_profile(client, wire):
    missing = "Printer does not have a heated chamber"
    assert_error(get(client, "/api/printer/chamber"), 409, missing)
    assert_error(post(client, "/api/printer/chamber", {"command": "target", "target": 40}), 409, missing)
    assert_error(post(client, "/api/printer/chamber", {"command": "bogus"}), 409, missing)
    wire.nothing()


@pytest.mark.parametrize("printer_options", [{"has_chamber": True}])
def test_chamber_with_a_heated_chamber(client, app, personas, services, printer_daemon):
    add_profile(services, "chamber", heatedChamber=True)
    connect(client, app, printerProfile="chamber")
    settle(app)
    wait_for(lambda: "chamber" in snapshot(app).temperatures, what="a chamber reading")
    assert set(get(client, "/api/printer").get_json()["temperature"]) == {"tool0", "bed", "chamber"}
    body = get(client, "/api/printer/chamber").get_json()
    assert set(body) == {"chamber"} and reading(body["chamber"])
    wire = Wire(printer_daemon)
    ok(post(client, "/api/printer/chamber", {"command": "target", "target": 45}))
    wire.expect(["M141 S45"])
    ok(post(client, "/api/printer/chamber", {"command": "offset", "offset": 2}))
    assert get(client, "/api/printer/chamber").get_json()["chamber"] == {
        "actual": pytest.approx(body["chamber"]["actual"], abs=30), "target": 45, "offset": 2}
    assert_error(post(client, "/api/printer/chamber", {"command": "offset", "offset": 60}), 400, "offset is invalid")
