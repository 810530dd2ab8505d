"""GET and POST /api/job: the selected file, progress and state; start, cancel, restart, pause."""
from flask import current_app
from flask_login import current_user
from flask_restx import Namespace, Resource, fields

from octoserve.access.guards import check_permission, require, services
from octoserve.api.common import json_body, no_content
from octoserve.errors import Invalid, NotOperational
from octoserve.printer.snapshot import Snapshot

ns = Namespace("job", description="The print job", path="/job")

job_model = ns.model("Job", {
    "job": fields.Raw(example={"file": {"name": "cube.gcode", "path": "cube.gcode", "display": "cube.gcode",
                                        "origin": "local", "size": 123456, "date": 1736400000},
                               "estimatedPrintTime": 1834.2, "lastPrintTime": None,
                               "filament": {"tool0": {"length": 1520.4, "volume": 3.66}}, "user": "alice"}),
    "progress": fields.Raw(example={"completion": 12.75, "filepos": 15740, "printTime": 210,
                                    "printTimeLeft": 1650, "printTimeLeftOrigin": "mixed-analysis"}),
    "state": fields.String(example="Printing"),
    "error": fields.String(description="Only when the printer reports an error"),
})
command_model = ns.model("JobCommand", {
    "command": fields.String(required=True, enum=["start", "cancel", "restart", "pause"]),
    "action": fields.String(enum=["pause", "resume", "toggle"]),
})



def printer():
    return current_app.extensions["octoserve.printer"]


def job_status(snapshot: Snapshot) -> dict:
    """GET /api/job's answer: the job, its progress, the state text (and the error, if any)."""
    result = {"job": snapshot.job.to_api(), "progress": snapshot.progress.to_api(), "state": snapshot.state.text}
    if snapshot.state.error:
        result["error"] = snapshot.state.error
    return result


@ns.route("")
class Job(Resource):
    @ns.response(200, "The job, its progress and the state", job_model)
    @require("STATUS")
    def get(self):
        return job_status(printer().snapshot)

    @ns.expect(command_model)
    @ns.response(204, "Done (the state changes asynchronously)")
    @ns.response(409, "Not operational, or the command does not fit the state")
    def post(self):
        if services().first_run_locked():
            check_permission("PRINT")
        if not printer().snapshot.flags.operational:
            raise NotOperational("Printer is not operational")
        data = json_body()
        command = data.get("command")
        if command not in ("start", "cancel", "restart", "pause"):
            raise Invalid("command is invalid")
        check_permission("PRINT")
        if command == "start":
            printer().call("job_start", user=current_user.name)
        elif command == "pause":
            printer().call("job_pause", action=data.get("action", "toggle"))
        else:
            printer().call(f"job_{command}")
        return no_content()
