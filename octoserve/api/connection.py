"""GET and POST /api/connection: the serial connection's state and options; connect, disconnect, fake_ack."""
from flask import current_app
from flask_restx import Namespace, Resource, fields

from octoserve.access.guards import check_permission, require, services
from octoserve.api.common import json_body, no_content, truthy
from octoserve.errors import Invalid, NotOperational
from octoserve.printer.snapshot import Snapshot

ns = Namespace("connection", description="Serial connection", path="/")

connection_model = ns.model("ConnectionState", {
    "current": fields.Raw(example={"state": "Closed", "port": None, "baudrate": None, "printerProfile": "_default"}),
    "options": fields.Raw(example={"ports": ["/dev/ttyACM0", "VIRTUAL"], "baudrates": [250000, 115200],
                                   "printerProfiles": [{"id": "_default", "name": "Default"}],
                                   "portPreference": None, "baudratePreference": None,
                                   "printerProfilePreference": "_default"}),
})
command_model = ns.model("ConnectionCommand", {
    "command": fields.String(required=True, enum=["connect", "disconnect", "fake_ack"]),
    "port": fields.String, "baudrate": fields.Integer, "printerProfile": fields.String,
    "save": fields.Boolean, "autoconnect": fields.Boolean,
})


def printer():
    return current_app.extensions["octoserve.printer"]


def connection_options() -> dict:
    try:
        return printer().call("connection_options")
    except NotOperational:
        profiles = services().profiles
        return {"ports": [], "baudrates": [], "portPreference": None, "baudratePreference": None,
                "printerProfiles": [{"id": p["id"], "name": p["name"]} for p in profiles.all().values()],
                "printerProfilePreference": profiles.default_id()}


def current_connection(snapshot: Snapshot) -> dict:
    state, connection = snapshot.state, snapshot.connection
    closed = state.id in ("OFFLINE", "CLOSED") or connection.port is None
    if closed and state.id not in ("ERROR", "CLOSED_WITH_ERROR"):
        # OctoPrint without a connection: ("Closed", None, None, no profile), the profile shown as "_default"
        return {"state": "Closed", "port": None, "baudrate": None, "printerProfile": "_default"}
    return {"state": state.text, "port": connection.port, "baudrate": connection.baudrate,
            "printerProfile": connection.profile or services().profiles.default_id()}


@ns.route("/connection")
class Connection(Resource):
    @ns.response(200, "Current connection and options", connection_model)
    @require("STATUS")
    def get(self):
        return {"current": current_connection(printer().snapshot), "options": connection_options()}

    @ns.expect(command_model)
    @ns.response(204, "Done (connecting continues in the background)")
    @ns.response(400, "Invalid command, port, baud rate or profile")
    def post(self):
        check_permission("CONNECTION")
        data = json_body()
        command = data.get("command")
        if command == "connect":
            self._connect(data)
        elif command == "disconnect":
            printer().call("disconnect")
        elif command == "fake_ack":
            try:
                printer().call("fake_ack")
            except NotOperational:
                pass  # OctoPrint: nothing to acknowledge without a connection, still 204
        else:
            raise Invalid("command is invalid")
        return no_content()

    @staticmethod
    def _connect(data):
        options = printer().call("connection_options")  # no daemon: 409, not "port is invalid"
        port = data.get("port")
        if port is not None and port != "AUTO" and port not in options["ports"]:
            raise Invalid("port is invalid")
        baudrate = data.get("baudrate")
        if baudrate is not None and baudrate != 0 and baudrate not in options["baudrates"]:
            raise Invalid("baudrate is invalid")
        profile = data.get("printerProfile")
        if profile is not None and profile not in services().profiles.all():
            raise Invalid("printerProfile is invalid")
        autoconnect = truthy(data["autoconnect"]) if "autoconnect" in data else None
        printer().call("connect", port=port, baudrate=baudrate, profile=profile,
                       save=truthy(data.get("save", False)), autoconnect=autoconnect)
