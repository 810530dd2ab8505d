"""First-run setup: GET/POST /api/setup/wizard and the core wizard's admin step /plugin/corewizard/acl."""
from flask import Blueprint, abort, request
from flask_restx import Namespace, Resource, fields

from octoserve.access.groups import ADMINS, USERS
from octoserve.access.guards import check_permission, services
from octoserve.api.common import json_body, json_or_form, no_content, required
from octoserve.errors import Conflict, Invalid

ns = Namespace("setup", description="First-run setup wizard", path="/setup")

WIZARD_VERSION = 1

handled_model = ns.model("WizardHandled", {"handled": fields.List(fields.String, required=True)})


def _check_wizard_access() -> None:
    """Open while setup is unfinished or no user exists; afterwards admins only."""
    if services().settings.get("server.firstRun") or services().users.count() == 0:
        return
    check_permission("ADMIN")


@ns.route("/wizard")
class Wizard(Resource):
    @ns.response(200, "Wizards and whether they are required")
    def get(self):
        _check_wizard_access()
        acl_required = services().users.count() == 0
        return {"corewizard": {
            "required": acl_required and services().settings.get("server.firstRun"),
            "details": {"acl": {"required": acl_required}},
            "version": WIZARD_VERSION,
            "ignored": False,
        }}

    @ns.expect(handled_model)
    @ns.response(204, "Setup is finished")
    @ns.response(400, "handled is missing")
    def post(self):
        _check_wizard_access()
        (handled,) = required(json_body(), "handled")
        if not isinstance(handled, list):
            raise Invalid("handled must be a list")
        services().settings.set("server.firstRun", False)
        return no_content()


corewizard = Blueprint("corewizard", __name__, url_prefix="/plugin/corewizard")


@corewizard.route("/acl", methods=["POST"])
def create_first_admin():
    """Create the first admin. Always 204, as OctoPrint's wizard step, whatever the fields.

    Stricter than OctoPrint: the step closes (404) as soon as any user exists, so nobody on
    the network can add an admin to a server whose owner made one with the CLI.
    """
    if services().users.count() > 0:
        abort(404)
    data = json_or_form() if request.data or request.form else {}
    name, pass1, pass2 = data.get("user"), data.get("pass1"), data.get("pass2")
    if name and pass1 and pass1 == pass2:
        try:
            services().users.add(name, pass1, groups=[USERS, ADMINS])
        except Conflict:
            pass  # a concurrent request made the first admin; this one changes nothing
    return no_content()
