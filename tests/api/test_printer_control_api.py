"""POST /api/printer/printhead, /api/printer/sd, /api/printer/command and GET /api/printer/command/custom,
end to end: what each request makes the virtual printer receive."""
import pytest

from tests.api.printer_helpers import ADMIN, Wire, add_profile, connect, settle, snapshot, start_printing
from tests.api.seeded import assert_error
from tests.daemon_helpers import wait_for


@pytest.fixture
def printer(printer_client):
    """The app drives the printer daemon, down to the virtual printer."""
    return printer_client


BUSY = "Printer is not operational or currently printing"


def post(client, path, body):
    return client.post(path, json=body, headers=ADMIN)


def ok(response):
    assert response.status_code == 204, response.get_data(as_text=True)
    assert response.get_data() == b""


# -- printhead ------------------------------------------------------------------------------------

@pytest.mark.parametrize("body, sent", [
    ({"x": 10}, ["G91", "G0 X10 F6000", "G90"]),
    ({"x": 1, "y": -2.5, "z": 0.1}, ["G91", "G0 X1 Y-2.5 Z0.1 F200", "G90"]),  # the slowest axis moved: z
    ({"z": 5, "x": 1}, ["G91", "G0 X1 Z5 F200", "G90"]),
    ({"x": 100, "y": 50, "absolute": True}, ["G90", "G0 X100 Y50 F6000"]),
    ({"x": 100, "absolute": "true"}, ["G90", "G0 X100 F6000"]),
    ({"x": 5, "absolute": "false"}, ["G91", "G0 X5 F6000", "G90"]),
    ({"x": 5, "speed": False}, ["G91", "G0 X5", "G90"]),
    ({"x": 5, "speed": True}, ["G91", "G0 X5", "G90"]),  # as OctoPrint: any bool, or 0, sends no F
    ({"x": 5, "speed": 0}, ["G91", "G0 X5", "G90"]),
    ({"y": 5, "speed": 1200}, ["G91", "G0 Y5 F1200", "G90"]),
], ids=["x", "xyz-slowest", "axis-order", "absolute", "absolute-string", "relative-string", "no-speed",
        "speed-true", "speed-zero", "speed"])
def test_jog(client, wire, body, sent):
    ok(post(client, "/api/printer/printhead", {"command": "jog", **body}))
    wire.expect(sent)


def test_jog_speed_comes_from_the_current_profile(client, app, personas, services, printer_daemon):
    add_profile(services, "slow", axes={"x": {"speed": 3000}, "y": {"speed": 4000}})
    connect(client, app, printerProfile="slow")
    settle(app)
    wire = Wire(printer_daemon)
    ok(post(client, "/api/printer/printhead", {"command": "jog", "x": 1, "y": 1}))
    ok(post(client, "/api/printer/printhead", {"command": "jog", "y": 1}))
    wire.expect(["G91", "G0 X1 Y1 F3000", "G90", "G91", "G0 Y1 F4000", "G90"])


@pytest.mark.parametrize("axes, sent", [
    (["x", "y", "z"], "G28 X0 Y0 Z0"),
    (["z"], "G28 Z0"),
    (["y", "x"], "G28 Y0 X0"),
])
def test_home(client, wire, axes, sent):
    ok(post(client, "/api/printer/printhead", {"command": "home", "axes": axes}))
    wire.expect(["G91", sent, "G90"])


@pytest.mark.parametrize("factor, sent", [
    (150, "M220 S150"), (1.5, "M220 S150"), (1.0, "M220 S100"), (100, "M220 S100"), (1, "M220 S1"),
    (0.755, "M220 S75"),
], ids=["int-percent", "float-multiplier", "float-one", "int-hundred", "int-one-is-one-percent", "truncated"])
def test_feedrate(client, wire, factor, sent):
    ok(post(client, "/api/printer/printhead", {"command": "feedrate", "factor": factor}))
    wire.expect([sent])


@pytest.mark.parametrize("body, error", [
    ({"command": "jog", "x": "ten"}, "axis value is invalid"),
    ({"command": "jog", "x": 1, "y": None}, "axis value is invalid"),
    ({"command": "jog", "x": 1, "speed": "fast"}, "speed is invalid"),
    ({"command": "jog"}, None),  # OctoPrint 1.11 answers 500 here; a 400 is the honest answer
    ({"command": "home", "axes": ["X"]}, "axis is invalid"),
    ({"command": "home", "axes": ["x", "e"]}, "axis is invalid"),
    ({"command": "home", "axes": "x"}, "axis is invalid"),
    ({"command": "home"}, "Mandatory parameters missing"),
    ({"command": "feedrate", "factor": "fast"}, "factor is invalid"),
    ({"command": "feedrate", "factor": 0}, "factor is invalid"),
    ({"command": "feedrate", "factor": 0.001}, "factor is invalid"),
    ({"command": "feedrate"}, "Mandatory parameters missing"),
    ({"command": "move", "x": 1}, "command is invalid"),
])
def test_printhead_invalid_requests_are_400_and_send_nothing(client, wire, body, error):
    assert_error(post(client, "/api/printer/printhead", body), 400, error)
    wire.nothing()


@pytest.mark.parametrize("body, status, error", [
    ({"command": "move"}, 400, "command is invalid"),
    ({"command": "home"}, 400, "Mandatory parameters missing"),
    ({"command": "feedrate"}, 400, "Mandatory parameters missing"),
    ({"command": "jog", "x": 10}, 409, BUSY),
    ({"command": "jog", "x": "ten"}, 409, BUSY),  # only command and parameters are checked before the state
    ({"command": "home", "axes": ["x"]}, 409, BUSY),
    ({"command": "feedrate", "factor": 100}, 409, BUSY),
])
def test_printhead_validates_the_command_then_the_state_while_disconnected(client, personas, printer_daemon, body,
                                                                           status, error):
    assert_error(post(client, "/api/printer/printhead", body), status, error)


def test_printhead_while_printing_allows_only_feedrate(client, app, connected):
    start_printing(app, client, connected)
    wire = Wire(connected)
    assert_error(post(client, "/api/printer/printhead", {"command": "jog", "x": 10}), 409, BUSY)
    assert_error(post(client, "/api/printer/printhead", {"command": "home", "axes": ["x"]}), 409, BUSY)
    ok(post(client, "/api/printer/printhead", {"command": "feedrate", "factor": 120}))
    wait_for(lambda: "M220 S120" in wire.commands(), what="the feed rate during the print")
    assert not any(command.startswith(("G0 ", "G28", "G91")) for command in wire.commands())


# -- SD card --------------------------------------------------------------------------------------

def test_sd_ready_follows_the_card(client, app, personas, printer_daemon):
    assert client.get("/api/printer/sd", headers=ADMIN).get_json() == {"ready": False}  # works disconnected
    connect(client, app)
    # on connect the host sends M21 and the virtual card answers "SD card ok"
    wait_for(lambda: client.get("/api/printer/sd", headers=ADMIN).get_json() == {"ready": True}, what="ready")
    settle(app)  # whatever the host sends on its own after connecting has arrived
    wire = Wire(printer_daemon)
    ok(post(client, "/api/printer/sd", {"command": "release"}))
    wire.expect(["M22"])
    wait_for(lambda: client.get("/api/printer/sd", headers=ADMIN).get_json() == {"ready": False},
             what="the card to be released")
    assert snapshot(app).flags.sd_ready is False
    ok(post(client, "/api/printer/sd", {"command": "init"}))
    # the daemon may list the card on its own once it is mounted (M20 ...): only the start is ours
    wait_for(lambda: wire.commands()[:1] == ["M21"], what="M21 at the printer")
    wait_for(lambda: client.get("/api/printer/sd", headers=ADMIN).get_json() == {"ready": True},
             what="the card to be mounted again")
    ok(post(client, "/api/printer/sd", {"command": "refresh"}))
    wait_for(lambda: "M20" in wire.commands(), what="the file list request")


def test_sd_support_off_is_404_first(client, services, personas, printer_daemon):
    services.settings.set("feature.sdSupport", False)
    assert_error(client.get("/api/printer/sd", headers=ADMIN), 404, "SD support is disabled")
    assert_error(post(client, "/api/printer/sd", {"command": "init"}), 404, "SD support is disabled")
    assert_error(post(client, "/api/printer/sd", {"command": "bogus"}), 404, "SD support is disabled")


def test_sd_post_checks_the_state_before_the_command(client, personas, printer_daemon):
    for body in ({"command": "init"}, {"command": "bogus"}):
        assert_error(post(client, "/api/printer/sd", body), 409, "Printer is not operational or currently busy")


def test_sd_post_invalid_command_is_400(client, wire):
    assert_error(post(client, "/api/printer/sd", {"command": "format"}), 400, "command is invalid")
    assert_error(post(client, "/api/printer/sd", {}), 400, "command is invalid")
    wire.nothing()


def test_sd_post_while_printing_is_409(client, app, connected):
    start_printing(app, client, connected)
    assert_error(post(client, "/api/printer/sd", {"command": "refresh"}), 409,
                 "Printer is not operational or currently busy")


# -- arbitrary commands and scripts ------------------------------------------------------------------

def test_command_and_commands_are_sent_as_given(client, wire):
    ok(post(client, "/api/printer/command", {"command": "M117 Hello there"}))
    ok(post(client, "/api/printer/command", {"commands": ["G28 X", "m117 lower case", "M400"]}))
    wire.expect(["M117 Hello there", "G28 X", "m117 lower case", "M400"])


def test_parameters_are_percent_formatted_into_the_commands(client, wire):
    body = {"commands": ["M104 S%(temp)s", "M140 S%(bed)d"], "parameters": {"temp": 210, "bed": 60}}
    ok(post(client, "/api/printer/command", body))
    ok(post(client, "/api/printer/command", {"command": "M117 %(text)s", "parameters": {"text": "hi"}}))
    wire.expect(["M104 S210", "M140 S60", "M117 hi"])


def test_after_print_cancelled_script_with_the_default_profile(client, wire):
    ok(post(client, "/api/printer/command", {"script": "afterPrintCancelled"}))
    wire.expect(["M84", "M104 T0 S0", "M140 S0", "M106 S0"])


def test_scripts_follow_the_current_profile(client, app, personas, services, printer_daemon):
    add_profile(services, "dual-nobed", heatedBed=False, extruder={"count": 2, "offsets": [[0, 0], [20, 0]]})
    connect(client, app, printerProfile="dual-nobed")
    settle(app)
    wire = Wire(printer_daemon)
    ok(post(client, "/api/printer/command", {"script": "afterPrintCancelled"}))
    wire.expect(["M84", "M104 T0 S0", "M104 T1 S0", "M106 S0"])


def test_a_custom_script_sees_parameters_and_context(client, wire, basedir):
    folder = basedir / "scripts" / "gcode"
    folder.mkdir(parents=True)
    (folder / "greet").write_text("M117 {{ parameters.who }} in {{ context.where }}\n"
                                  "M117 {{ printer_profile.volume.width }} wide\n")
    body = {"script": "greet", "parameters": {"who": "Ann"}, "context": {"where": "the lab"}}
    ok(post(client, "/api/printer/command", body))
    wire.expect(["M117 Ann in the lab", "M117 200 wide"])


@pytest.mark.parametrize("body, status, error", [
    ({"script": "noSuchScript"}, 404, "Unknown script"),
    ({"command": "M105", "commands": ["M105"]}, 400, None),
    ({"command": "M105", "script": "afterPrintDone"}, 400, None),
    ({"commands": ["M105"], "script": "afterPrintDone"}, 400, None),
    ({}, 400, None),
    ({"parameters": {"a": 1}}, 400, None),
    ({"commands": "M105"}, 400, None),
    ({"commands": "M104 S%(temp)s", "parameters": {"other": 1}}, 400, None),
], ids=["unknown-script", "command+commands", "command+script", "commands+script", "none", "only-parameters",
        "commands-not-a-list", "parameters-do-not-fit"])
def test_command_errors_send_nothing(client, wire, body, status, error):
    assert_error(post(client, "/api/printer/command", body), status, error)
    wire.nothing()


def test_command_is_409_while_disconnected_before_the_body_is_read(client, personas, printer_daemon):
    for body in ({"command": "M105"}, {}):
        assert_error(post(client, "/api/printer/command", body), 409, "Printer is not operational")
    response = client.post("/api/printer/command", data="M105", content_type="text/plain", headers=ADMIN)
    assert_error(response, 409, "Printer is not operational")


def test_command_needs_json_when_operational(client, connected):
    response = client.post("/api/printer/command", data="M105", content_type="text/plain", headers=ADMIN)
    assert_error(response, 415)


# -- custom controls --------------------------------------------------------------------------------

CONTROLS = [{"name": "Fan", "layout": "horizontal", "children": [
    {"name": "Fan on", "command": "M106 S%(speed)s",
     "input": [{"name": "Speed", "parameter": "speed", "default": 255, "slider": {"min": 0, "max": 255}}]},
    {"name": "Fan off", "command": "M107"},
]}]


def test_custom_controls_come_from_the_settings(client, services, personas, printer_daemon):
    response = client.get("/api/printer/command/custom", headers=ADMIN)
    assert response.status_code == 200 and response.get_json() == {"controls": []}
    services.settings.set("controls", CONTROLS)
    assert client.get("/api/printer/command/custom", headers=ADMIN).get_json() == {"controls": CONTROLS}
