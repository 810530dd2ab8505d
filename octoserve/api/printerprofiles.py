"""/api/printerprofiles: list, read, add, merge-update and delete printer profiles."""
from flask import current_app, url_for
from flask_restx import Namespace, Resource, fields

from octoserve import events
from octoserve.access.guards import require, services
from octoserve.api.common import json_body, no_content
from octoserve.errors import Invalid

ns = Namespace("printerprofiles", description="Printer profiles", path="/printerprofiles")

profile_model = ns.model("PrinterProfile", {
    "id": fields.String, "name": fields.String, "model": fields.String, "color": fields.String,
    "volume": fields.Raw, "heatedBed": fields.Boolean, "heatedChamber": fields.Boolean,
    "extruder": fields.Raw, "axes": fields.Raw, "resource": fields.String,
    "default": fields.Boolean, "current": fields.Boolean,
})
profile_request = ns.model("PrinterProfileRequest", {
    "profile": fields.Raw(required=True), "basedOn": fields.String,
})


def _current_id():
    printer = current_app.extensions.get("octoserve.printer")
    snapshot = printer.snapshot if printer is not None else None
    if snapshot is not None and snapshot.flags.operational:
        return snapshot.connection.profile
    return None


def record(profile: dict) -> dict:
    repository = services().profiles
    current = _current_id() or repository.default_id()
    return {
        **profile,
        "resource": url_for("api.printerprofiles_profile", identifier=profile["id"], _external=True),
        "default": profile["id"] == repository.default_id(),
        "current": profile["id"] == current,
    }


def _profile_body() -> dict:
    data = json_body()
    profile = data.get("profile")
    if not isinstance(profile, dict):
        raise Invalid("profile is missing")
    return data


@ns.route("")
class Profiles(Resource):
    @ns.response(200, "Profiles keyed by identifier")
    @require("CONNECTION")
    def get(self):
        return {"profiles": {key: record(p) for key, p in services().profiles.all().items()}}

    @ns.expect(profile_request)
    @ns.response(200, "The new profile", profile_model)
    @ns.response(400, "Missing, invalid or existing identifier")
    @require("SETTINGS")
    def post(self):
        data = _profile_body()
        profile = dict(data["profile"])
        if "id" not in profile or "name" not in profile:
            raise Invalid("profile does not contain mandatory 'id' or 'name' fields")
        make_default = profile.pop("default", False) is True
        try:
            added = services().profiles.add(profile, data.get("basedOn"), make_default)
        except Exception as exc:
            if type(exc).__name__ in ("Conflict", "NotFound"):
                raise Invalid(str(exc)) from None  # OctoPrint answers 400 for both
            raise
        services().events.fire(events.PRINTER_PROFILE_ADDED, {"identifier": added["id"]})
        return {"profile": record(added)}


@ns.route("/<string:identifier>")
@ns.param("identifier", "Profile identifier")
class Profile(Resource):
    @ns.response(200, "The profile", profile_model)
    @ns.response(404, "No such profile")
    @require("CONNECTION")
    def get(self, identifier):
        return record(services().profiles.get(identifier))

    @ns.expect(profile_request)
    @ns.response(200, "The merged profile", profile_model)
    @require("SETTINGS")
    def patch(self, identifier):
        profile = dict(_profile_body()["profile"])
        make_default = profile.pop("default", False) is True
        updated = services().profiles.update(identifier, profile, make_default)
        services().events.fire(events.PRINTER_PROFILE_MODIFIED, {"identifier": identifier})
        return {"profile": record(updated)}

    post = patch  # OctoPrint accepts the update as POST too

    @ns.response(204, "Deleted")
    @ns.response(409, "The default or the current profile")
    @require("SETTINGS")
    def delete(self, identifier):
        services().profiles.delete(identifier, _current_id())
        services().events.fire(events.PRINTER_PROFILE_DELETED, {"identifier": identifier})
        return no_content()
