"""GET /api/version and GET /api/server."""
from flask_restx import Namespace, Resource, fields

from octoserve import OCTOPRINT_COMPAT_VERSION, __version__
from octoserve.access.guards import require

ns = Namespace("version", description="Server identity", path="/")

VERSION_TEXT = f"OctoPrint (octoserve {__version__})"

version_model = ns.model("Version", {
    "api": fields.String(example="0.1", description="API version (OctoPrint's)"),
    "server": fields.String(example=OCTOPRINT_COMPAT_VERSION, description="OctoPrint release whose API is spoken"),
    "text": fields.String(example=VERSION_TEXT, description="Begins with 'OctoPrint': slicers check it"),
})
server_model = ns.model("Server", {
    "version": fields.String(example=OCTOPRINT_COMPAT_VERSION),
    "safemode": fields.String(example=None, description="null in a normal run"),
})


@ns.route("/version")
class Version(Resource):
    @ns.response(200, "Version information", version_model)
    @ns.response(403, "STATUS permission needed")
    @require("STATUS")
    def get(self):
        return {"api": "0.1", "server": OCTOPRINT_COMPAT_VERSION, "text": VERSION_TEXT}


@ns.route("/server")
class Server(Resource):
    @ns.response(200, "Server information", server_model)
    @ns.response(403, "STATUS permission needed")
    @require("STATUS")
    def get(self):
        return {"version": OCTOPRINT_COMPAT_VERSION, "safemode": None}
