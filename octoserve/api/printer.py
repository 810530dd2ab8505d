"""GET /api/printer and the tool, bed and chamber endpoints: temperatures, targets, offsets, extrusion."""
import re

from flask import current_app, request
from flask_restx import Namespace, Resource, fields

from octoserve.access.guards import check_permission, require, services
from octoserve.api.common import json_body, no_content, truthy
from octoserve.errors import Conflict, Invalid, NotOperational
from octoserve.printer.snapshot import Snapshot

ns = Namespace("printer", description="Printer state and heaters", path="/printer")

state_model = ns.model("PrinterState", {
    "temperature": fields.Raw(example={"tool0": {"actual": 214.8, "target": 215.0, "offset": 0}}),
    "sd": fields.Raw(example={"ready": True}),
    "state": fields.Raw(example={"text": "Operational", "error": "", "flags": {"operational": True}}),
})
tool_command = ns.model("ToolCommand", {
    "command": fields.String(required=True, enum=["target", "offset", "select", "extrude", "flowrate"]),
    "targets": fields.Raw, "offsets": fields.Raw, "tool": fields.String, "amount": fields.Float,
    "speed": fields.Float, "factor": fields.Float,
})
heater_command = ns.model("HeaterCommand", {
    "command": fields.String(required=True, enum=["target", "offset"]),
    "target": fields.Float, "offset": fields.Float,
})
_TOOL = re.compile(r"^tool(\d*)$")


def printer():
    return current_app.extensions["octoserve.printer"]


def operational_snapshot() -> Snapshot:
    snapshot = printer().snapshot
    if not snapshot.flags.operational:
        raise NotOperational("Printer is not operational")
    return snapshot


def current_profile(snapshot: Snapshot) -> dict:
    profiles = services().profiles
    identifier = snapshot.connection.profile or profiles.default_id()
    try:
        return profiles.read(identifier)
    except Exception:
        return profiles.read(profiles.default_id())


def number(value, message) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Invalid(message)
    return value


def heater_filter(snapshot, keep):
    """``keep`` narrowed to the heaters the current profile has (no bed/chamber unless it has them)."""
    profile = current_profile(snapshot)

    def wanted(heater):
        if heater == "bed" and not profile["heatedBed"]:
            return False
        if heater == "chamber" and not profile["heatedChamber"]:
            return False
        return bool(keep(heater))

    return wanted


def temperatures(snapshot, keep) -> dict:
    """Current readings (and, when asked for, history) of the heaters ``keep`` accepts."""
    wanted = heater_filter(snapshot, keep)
    return with_history(snapshot.temperatures_api(wanted), wanted)


def with_history(data: dict, keep) -> dict:
    if truthy(request.values.get("history", False)):
        limit = str(request.values.get("limit", ""))
        limit = max(1, int(limit)) if limit.isdecimal() else 300  # OctoPrint ignores a non-numeric limit
        points = printer().call("temperature_history", limit=limit)
        data["history"] = [{k: v for k, v in p.items() if k == "time" or keep(k)} for p in points]
    return data


def command_of(data: dict, valid: dict) -> str:
    """OctoPrint's generic command check: a known ``command`` and all its mandatory parameters."""
    command = data.get("command")
    if not isinstance(command, str) or command not in valid:
        raise Invalid("command is invalid")
    if any(name not in data for name in valid[command]):
        raise Invalid("Mandatory parameters missing")
    return command


def send(commands) -> None:
    printer().call("commands", commands=list(commands))


def percent(value, message) -> int:
    """OctoPrint's factor rule: an int is a percentage, a float a multiplier (1.0 = 100 %)."""
    value = number(value, message)
    result = int(value * 100) if isinstance(value, float) else value
    if result < 1:
        raise Invalid(message)
    return result


@ns.route("")
class PrinterState(Resource):
    @ns.response(200, "Temperatures, SD and state", state_model)
    @ns.response(409, "Printer is not operational")
    @require("STATUS")
    def get(self):
        snapshot = operational_snapshot()
        excluded = {part.strip() for part in request.args.get("exclude", "").split(",") if part.strip()}
        result = {}
        if "temperature" not in excluded:
            result["temperature"] = temperatures(snapshot, lambda heater: True)
        if "sd" not in excluded and services().settings.get("feature.sdSupport"):
            result["sd"] = {"ready": snapshot.sd_ready}
        if "state" not in excluded:
            result["state"] = snapshot.state.to_api()
        return result


@ns.route("/tool")
class Tool(Resource):
    @ns.response(200, "Tool temperatures")
    @require("STATUS")
    def get(self):
        snapshot = operational_snapshot()
        return temperatures(snapshot, _TOOL.match)

    @ns.expect(tool_command)
    @ns.response(204, "Sent")
    @ns.response(409, "Printer is not operational, or printing (extrude)")
    def post(self):
        check_permission("CONTROL")
        snapshot = operational_snapshot()
        data = json_body()
        command = command_of(data, TOOL_COMMANDS)
        handler = {"target": _tool_target, "offset": _tool_offset, "select": _tool_select,
                   "extrude": _tool_extrude, "flowrate": _tool_flowrate}[command]
        handler(data, current_profile(snapshot), snapshot)
        return no_content()


TOOL_COMMANDS = {"select": ["tool"], "target": ["targets"], "offset": ["offsets"], "extrude": ["amount"],
                 "flowrate": ["factor"]}
HEATER_COMMANDS = {"target": ["target"], "offset": ["offset"]}


def _tool_target(data, profile, _snapshot):
    targets = data["targets"]
    if not isinstance(targets, dict):
        raise Invalid("targets is invalid")
    commands = []
    for key, value in targets.items():
        match = _TOOL.match(key)
        if not match or (match.group(1) and int(match.group(1)) >= profile["extruder"]["count"]):
            raise Invalid("targets contains invalid tool")
        value = number(value, "targets contains invalid value")
        multi = profile["extruder"]["count"] > 1 and not profile["extruder"]["sharedNozzle"]
        if match.group(1) and multi:
            commands.append(f"M104 T{int(match.group(1))} S{value:g}")
        else:
            commands.append(f"M104 S{value:g}")
    send(commands)


def _tool_offset(data, _profile, _snapshot):
    offsets = data["offsets"]
    if not isinstance(offsets, dict):
        raise Invalid("offsets is invalid")
    for key, value in offsets.items():
        if not re.match(r"^tool\d+$", key):
            raise Invalid("offsets contains invalid tool")
        if not -50 <= number(value, "offsets contains invalid value") <= 50:
            raise Invalid("offsets contains invalid value")
    printer().call("set_offsets", offsets=offsets)


def _tool_select(data, profile, _snapshot):
    tool = data["tool"]
    match = re.match(r"^tool(\d+)$", tool) if isinstance(tool, str) else None
    if not match or int(match.group(1)) >= profile["extruder"]["count"]:
        raise Invalid("tool is invalid")
    send([f"T{int(match.group(1))}"])


def _tool_extrude(data, profile, snapshot):
    if snapshot.flags.printing:
        raise Conflict("Printer is currently printing")
    amount = number(data["amount"], "amount is invalid")
    max_speed = profile["axes"]["e"]["speed"]
    speed = min(number(data.get("speed", max_speed), "speed is invalid"), max_speed)
    send(["G91", "M83", f"G1 E{amount:g} F{speed:g}", "M82", "G90"])


def _tool_flowrate(data, _profile, _snapshot):
    send([f"M221 S{percent(data['factor'], 'factor is invalid')}"])


def heater_resource(heater: str, code: str, flag: str, missing: str):
    """The bed and chamber endpoints differ only in names and G-codes."""

    class Heater(Resource):
        @ns.response(200, f"{heater} temperature")
        @require("STATUS")
        def get(self):
            snapshot = operational_snapshot()
            if not current_profile(snapshot)[flag]:
                raise Conflict(missing)
            return temperatures(snapshot, heater.__eq__)

        @ns.expect(heater_command)
        @ns.response(204, "Sent")
        def post(self):
            check_permission("CONTROL")
            snapshot = operational_snapshot()
            if not current_profile(snapshot)[flag]:
                raise Conflict(missing)
            data = json_body()
            if command_of(data, HEATER_COMMANDS) == "target":
                send([f"{code} S{number(data['target'], 'target is invalid'):g}"])
            else:
                offset = data["offset"]
                if isinstance(offset, bool) or not isinstance(offset, (int, float)) or not -50 <= offset <= 50:
                    raise Invalid("offset is invalid")
                printer().call("set_offsets", offsets={heater: offset})
            return no_content()

    Heater.__name__ = heater.capitalize()
    return Heater


ns.route("/bed")(heater_resource("bed", "M140", "heatedBed", "Printer does not have a heated bed"))
ns.route("/chamber")(heater_resource("chamber", "M141", "heatedChamber", "Printer does not have a heated chamber"))
