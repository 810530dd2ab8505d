"""POST /api/login, POST /api/logout, GET /api/currentuser."""
import ipaddress

from flask import g, request, session
from flask_login import current_user, login_user, logout_user
from flask_restx import Namespace, Resource, fields
from werkzeug.exceptions import TooManyRequests

from octoserve import events
from octoserve.access import login as auth
from octoserve.access.guards import services
from octoserve.api.common import json_or_form, truthy
from octoserve.errors import Invalid, PermissionDenied

ns = Namespace("login", description="Sessions and the current user", path="/")

login_request = ns.model("LoginRequest", {
    "user": fields.String(description="User name (active login)"),
    "pass": fields.String(description="Password (active login)"),
    "remember": fields.Boolean(description="Set a 90-day remember-me cookie"),
    "passive": fields.Boolean(description="Only report who the request is authenticated as"),
})
needs_model = ns.model("Needs", {"role": fields.List(fields.String), "group": fields.List(fields.String)})
user_model = ns.model("User", {
    "name": fields.String, "active": fields.Boolean,
    "permissions": fields.List(fields.String, description="Permission keys given to the user directly"),
    "groups": fields.List(fields.String), "needs": fields.Nested(needs_model),
    "apikey": fields.String, "settings": fields.Raw,
    "admin": fields.Boolean, "user": fields.Boolean, "roles": fields.List(fields.String),
})
login_response = ns.inherit("LoginResponse", user_model, {
    "session": fields.String(description="Token for authenticating the push socket"),
    "_is_external_client": fields.Boolean, "_login_mechanism": fields.String,
    "_credentials_seen": fields.String(description="ISO 8601 UTC, or false"),
})
current_user_model = ns.model("CurrentUser", {
    "name": fields.String, "permissions": fields.List(fields.String, description="Effective permission keys"),
    "groups": fields.List(fields.String),
})

RATE_LIMITED = "You have made too many failed login attempts. Please try again later."


def _is_external(address: str | None) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return True
    return not (ip.is_private or ip.is_loopback or ip.is_link_local)


def _login_response(user) -> dict:
    seen = auth.credentials_seen()
    extras = {
        "_is_external_client": _is_external(request.remote_addr),
        "_credentials_seen": seen.replace(microsecond=0).isoformat() if seen else False,
    }
    if user.is_anonymous:
        needs = {"group": list(user.groups)}
        roles = services().registry.roles(services().users.permissions_of(user))
        if roles:
            needs["role"] = roles
        return {"needs": needs, **extras}
    tokens = services().tokens
    if tokens.user_for(session.get("session_token", "")) != user.name:
        session["session_token"] = tokens.issue(user.name)
    data = services().users.record(user)
    data.update(session=session["session_token"], _login_mechanism=auth.login_mechanism(), **extras)
    return data


def _end_session() -> None:
    """Forget the session, and the socket token it was handed, before a new login or a logout."""
    token = session.get("session_token")
    if token:
        services().tokens.revoke(token)
    session.clear()


def _active_login(data):
    address = request.remote_addr or "unknown"
    if services().login_limiter.blocked(address):
        raise TooManyRequests(RATE_LIMITED)
    user = services().users.verify(data["user"], data["pass"])
    if user is None or not user.active:
        services().login_limiter.record_failure(address)
        raise PermissionDenied()
    if (current_user.is_authenticated and current_user.name == user.name
            and auth.login_mechanism() != auth.APIKEY):
        auth.mark_password_login()  # reauthentication: the session stays, the timestamp moves
        return _login_response(user)
    _end_session()
    login_user(user, remember=truthy(data.get("remember", False)))
    g.pop("login_mechanism", None)  # an API key on this request does not describe the new session
    auth.mark_password_login()
    services().events.fire(events.USER_LOGGED_IN, {"username": user.name})
    return _login_response(user)


@ns.route("/login")
class Login(Resource):
    @ns.expect(login_request)
    @ns.response(200, "Who is logged in", login_response)
    @ns.response(400, "Neither user and pass nor passive given")
    @ns.response(403, "Wrong credentials")
    @ns.response(429, "Too many failed attempts")
    def post(self):
        data = json_or_form()
        if "user" in data and "pass" in data:
            response = _active_login(data)
            return response, 200, {"Set-Cookie": "active_logout=; Max-Age=0; Path=/"}
        if "passive" in data:
            return _login_response(current_user)
        raise Invalid("Neither user and pass attributes nor passive flag present")


@ns.route("/logout")
class Logout(Resource):
    @ns.response(200, "Now anonymous")
    def post(self):
        name = None if current_user.is_anonymous else current_user.name
        _end_session()
        logout_user()
        if name:
            services().events.fire(events.USER_LOGGED_OUT, {"username": name})
        return _login_response(current_user), 200, {"Set-Cookie": "active_logout=true; Path=/; SameSite=Lax"}


@ns.route("/currentuser")
class CurrentUser(Resource):
    @ns.response(200, "The caller", current_user_model)
    def get(self):
        return {
            "name": current_user.name,
            "permissions": services().users.permissions_of(current_user),
            "groups": list(current_user.groups),
        }
