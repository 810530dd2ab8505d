"""CSRF protection by double-submit cookie: csrf_token cookie and X-CSRF-Token header must agree."""
import secrets

from flask import g, request
from werkzeug.exceptions import BadRequest

from octoserve.access.login import APIKEY, login_mechanism

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PROTECTED_PREFIXES = ("/api/", "/plugin/")


class CsrfFailed(BadRequest):
    description = "CSRF validation failed"


def init_csrf(app, services, port: int) -> None:
    cookie_name = f"csrf_token_P{port}"

    @app.before_request
    def check_csrf():
        if request.method in SAFE_METHODS or not request.path.startswith(PROTECTED_PREFIXES):
            return
        if not services.settings.get("devel.enableCsrfProtection"):
            return
        # A key proves the caller is not a browser riding on someone's cookies.
        if login_mechanism() == APIKEY:
            return
        cookie = request.cookies.get(cookie_name, "")
        header = request.headers.get("X-CSRF-Token", "")
        if not cookie or not secrets.compare_digest(cookie.encode(), header.encode()):
            raise CsrfFailed()

    @app.after_request
    def issue_token(response):
        # Any page or API answer hands out the token: only same-origin script can read it back.
        # A caller with an API key needs none (and is not a browser that would keep it).
        if cookie_name not in request.cookies and g.get("login_mechanism") != APIKEY:
            response.set_cookie(cookie_name, secrets.token_urlsafe(32), samesite="Lax", httponly=False)
        return response
