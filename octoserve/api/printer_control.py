"""POST /api/printer/printhead, /api/printer/sd, /api/printer/command and GET /api/printer/command/custom."""
from flask_restx import Resource, fields

from octoserve.access.guards import check_permission, require, services
from octoserve.api.common import json_body, no_content, truthy
from octoserve.api.printer import command_of, current_profile, ns, number, operational_snapshot, percent, printer, send
from octoserve.errors import Invalid, NotFound, NotOperational

printhead_command = ns.model("PrintheadCommand", {
    "command": fields.String(required=True, enum=["jog", "home", "feedrate"]),
    "x": fields.Float, "y": fields.Float, "z": fields.Float, "absolute": fields.Boolean,
    "speed": fields.Raw(description="mm/min, or false for no F parameter"),
    "axes": fields.List(fields.String), "factor": fields.Float,
})
command_request = ns.model("PrinterCommand", {
    "command": fields.String, "commands": fields.List(fields.String), "script": fields.String,
    "parameters": fields.Raw, "context": fields.Raw,
})
sd_command = ns.model("SdCommand", {"command": fields.String(required=True, enum=["init", "refresh", "release"])})


@ns.route("/printhead")
class Printhead(Resource):
    @ns.expect(printhead_command)
    @ns.response(204, "Sent")
    @ns.response(409, "Printer is not operational or currently printing")
    def post(self):
        check_permission("CONTROL")
        data = json_body()
        command = command_of(data, {"jog": [], "home": ["axes"], "feedrate": ["factor"]})
        snapshot = printer().snapshot
        flags = snapshot.flags
        if not flags.operational or (flags.printing and command != "feedrate"):
            raise NotOperational("Printer is not operational or currently printing")
        profile = current_profile(snapshot)
        if command == "jog":
            send(_jog(data, profile))
        elif command == "home":
            axes = data.get("axes")
            if not isinstance(axes, list) or not axes or any(a not in ("x", "y", "z") for a in axes):
                raise Invalid("axis is invalid")
            send(["G91", "G28 " + " ".join(f"{a.upper()}0" for a in axes), "G90"])
        else:
            send([f"M220 S{percent(data['factor'], 'factor is invalid')}"])
        return no_content()


def _jog(data, profile) -> list:
    moves = {}
    for axis in ("x", "y", "z"):
        if axis in data:
            moves[axis] = number(data[axis], "axis value is invalid")
    if not moves:
        raise Invalid("Mandatory parameters missing")
    speed = data.get("speed")
    if speed is None:
        speed = min(profile["axes"][axis]["speed"] for axis in moves)
    elif not isinstance(speed, bool):
        speed = number(speed, "speed is invalid")
    move = "G0 " + " ".join(f"{axis.upper()}{value:g}" for axis, value in moves.items())
    if speed and not isinstance(speed, bool):  # as OctoPrint: false (or true, or 0) sends no F
        move += f" F{speed:g}"
    if truthy(data.get("absolute", False)):
        return ["G90", move]
    return ["G91", move, "G90"]


@ns.route("/sd")
class Sd(Resource):
    @ns.response(200, "Whether the card is ready")
    @ns.response(404, "SD support is disabled")
    @require("STATUS")
    def get(self):
        if not services().settings.get("feature.sdSupport"):
            raise NotFound("SD support is disabled")
        return {"ready": printer().snapshot.sd_ready}

    @ns.expect(sd_command)
    @ns.response(204, "Sent")
    def post(self):
        check_permission("CONTROL")
        if not services().settings.get("feature.sdSupport"):
            raise NotFound("SD support is disabled")
        flags = printer().snapshot.flags
        if not flags.operational or flags.printing or flags.paused:
            raise NotOperational("Printer is not operational or currently busy")
        command = command_of(json_body(), {"init": [], "refresh": [], "release": []})
        send([{"init": "M21", "refresh": "M20", "release": "M22"}[command]])
        return no_content()


@ns.route("/command")
class Command(Resource):
    @ns.expect(command_request)
    @ns.response(204, "Sent")
    @ns.response(404, "Unknown script")
    def post(self):
        check_permission("CONTROL")
        snapshot = operational_snapshot()
        data = json_body()
        given = [key for key in ("command", "commands", "script") if key in data]
        if len(given) != 1:
            raise Invalid("Exactly one of command, commands or script must be given")
        parameters = data.get("parameters") or {}
        if not isinstance(parameters, dict):
            raise Invalid("parameters must be an object")
        if given[0] == "script":
            context = data.get("context") or {}
            if not isinstance(context, dict):
                raise Invalid("context must be an object")
            # OctoPrint hands the request's context to the template as `context`; its keys are
            # also offered at the top level, as earlier octoserve scripts used them.
            context = {**context, "context": context, "parameters": parameters,
                       "printer_profile": current_profile(snapshot)}
            send(services().scripts.render(data["script"], context))
            return no_content()
        commands = [data["command"]] if given[0] == "command" else data["commands"]
        if not isinstance(commands, list) or not all(isinstance(c, str) for c in commands):
            raise Invalid("commands must be a list of strings")
        if parameters:
            try:
                commands = [c % parameters for c in commands]
            except (KeyError, ValueError, TypeError) as exc:
                raise Invalid(f"parameters do not fit the commands: {exc}") from None
        send(commands)
        return no_content()


@ns.route("/command/custom")
class CustomControls(Resource):
    @ns.response(200, "Custom controls from the settings")
    @require("CONTROL")
    def get(self):
        return {"controls": services().settings.get("controls")}



