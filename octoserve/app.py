"""create_app(): the one composition root of the web process."""
import logging

from flask import Flask, request
from werkzeug.exceptions import HTTPException

from octoserve import events
from octoserve.access.csrf import init_csrf
from octoserve.access.login import init_login, load_secret_key
from octoserve.api import create_api_blueprint
from octoserve.api.access_users import init_legacy_redirects
from octoserve.api.downloads import downloads
from octoserve.api.errors import error_response
from octoserve.api.files_upload import UploadRequest
from octoserve.api.wizard import corewizard
from octoserve.errors import OctoserveError
from octoserve.files.analysis_queue import AnalysisQueue
from octoserve.printer.client import PrinterClient
from octoserve.proxy import ReverseProxied
from octoserve.push.hub import PushHub
from octoserve.push.router import PushRouter
from octoserve.services import open_services

log = logging.getLogger(__name__)

JSON_PREFIXES = ("/api/", "/plugin/")


def create_app(basedir=None, *, port=None, services=None, printer=None) -> Flask:
    """Build the web application on a base directory (or on services already opened).

    ``port`` names the cookies (``session_P5000``...) as OctoPrint does, so two instances on
    one host keep their logins apart; it defaults to the server.port setting. ``printer`` is
    the PrinterClient the printer API areas talk to; by default one following the daemon
    socket in the base directory.
    """
    services = services or open_services(basedir)
    printer = printer or PrinterClient(services.basedir, services.events).start()
    port = port or services.settings.get("server.port")
    app = Flask(__name__)
    app.request_class = UploadRequest  # file uploads stream to disk as they arrive
    app.config.update(
        SECRET_KEY=load_secret_key(services.basedir),
        RESTX_ERROR_404_HELP=False,
        RESTX_MASK_SWAGGER=False,
    )
    app.json.sort_keys = False  # keep OctoPrint's field order, as clients see it in its docs
    app.extensions["octoserve"] = services
    app.extensions["octoserve.printer"] = printer
    analysis = app.extensions["octoserve.analysis"] = AnalysisQueue(services.files)
    analysis.catch_up()  # files dropped into the folder, or queued when the last run ended
    services.events.subscribe(_analysis_to_job(printer))
    init_login(app, services, port)
    init_csrf(app, services, port)
    app.register_blueprint(create_api_blueprint())
    app.register_blueprint(corewizard)
    app.register_blueprint(downloads)
    init_legacy_redirects(app)
    hub = app.extensions["octoserve.push"] = PushHub(services, printer, _plugin_names(services)).start()
    app.wsgi_app = ReverseProxied(PushRouter(app.wsgi_app, hub, services.settings))

    @app.errorhandler(HTTPException)
    def http_error(exc):
        if request.path.startswith(JSON_PREFIXES) or request.path == "/api":
            return error_response(exc)
        return exc

    @app.errorhandler(Exception)
    def unexpected_error(exc):
        return error_response(exc)

    @app.after_request
    def cache_headers(response):
        if request.path.startswith("/api/"):
            if request.method == "GET":
                response.headers.setdefault("Cache-Control", "max-age=0")
            else:
                response.headers["Cache-Control"] = "no-cache, no-store, must-revalidate"
                response.headers["Pragma"] = "no-cache"
                response.headers["Expires"] = "0"
        return response

    services.events.fire(events.STARTUP, None)
    return app


def _plugin_names(services) -> list:
    return sorted(name for name, _plugin in services.plugins.list_name_plugin()) + sorted(services.plugins.failed)


def _analysis_to_job(printer):
    """A file selected before its analysis finished gets the estimate and filament when it does."""
    def forward(name, payload):
        if name != events.METADATA_ANALYSIS_FINISHED or payload.get("origin") != "local":
            return
        result = payload.get("result") or {}
        try:
            printer.call("job_analysed", path=payload["path"],
                         estimated_print_time=result.get("estimatedPrintTime"), filament=result.get("filament"))
        except OctoserveError as exc:
            log.info("could not pass the analysis of %s to the printer daemon: %s", payload["path"], exc)
    return forward
