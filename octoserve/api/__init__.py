"""The REST API under /api: one namespace per area, OpenAPI at /api/swagger.json, JSON errors."""
from flask import Blueprint
from flask_restx import Api

from octoserve import __version__
from octoserve.api import (
    access_groups,
    access_users,
    connection,
    files,
    job,
    login,
    printer,
    printer_control,
    printerprofiles,
    version,
    wizard,
)
from octoserve.api.errors import error_response

NAMESPACES = (version.ns, login.ns, access_groups.ns, access_users.ns, wizard.ns, connection.ns, printer.ns,
              printerprofiles.ns, job.ns, files.ns)
# printer_control adds its routes (printhead, sd, command) to printer.ns when imported.
_ = printer_control


class JsonErrorApi(Api):
    """flask-restx answers errors as {"message": ...}; OctoPrint clients read {"error": ...}."""

    def handle_error(self, e):
        return error_response(e)


def create_api_blueprint() -> Blueprint:
    blueprint = Blueprint("api", __name__, url_prefix="/api")
    api = JsonErrorApi(
        blueprint,
        title="octoserve",
        version=__version__,
        description="OctoPrint-compatible REST API",
        doc=False,
        authorizations={
            "apikey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
            "bearer": {"type": "apiKey", "in": "header", "name": "Authorization"},
            "apikeyQuery": {"type": "apiKey", "in": "query", "name": "apikey"},
        },
        security=[{"apikey": []}, {"bearer": []}, {"apikeyQuery": []}],
    )
    for namespace in NAMESPACES:
        api.add_namespace(namespace)
    return blueprint
