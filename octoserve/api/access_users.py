"""The /api/access/users collection and items: password, settings and API key of a user."""
from flask import redirect, request
from flask_login import current_user
from flask_restx import Namespace, Resource, fields

from octoserve.access.guards import require, require_fresh_credentials, require_self_or_admin, services
from octoserve.access.login import credentials_fresh
from octoserve.api.common import json_body, no_content, required, truthy
from octoserve.api.login import user_model
from octoserve.errors import Invalid, PermissionDenied

ns = Namespace("access_users", description="Users", path="/access/users")

user_list = ns.model("UserList", {"users": fields.List(fields.Nested(user_model))})
user_add = ns.model("UserAdd", {
    "name": fields.String(required=True), "password": fields.String(required=True),
    "active": fields.Boolean(required=True), "groups": fields.List(fields.String),
    "permissions": fields.List(fields.String),
})
user_update = ns.model("UserUpdate", {
    "groups": fields.List(fields.String), "permissions": fields.List(fields.String),
    "active": fields.Boolean,
})
password_change = ns.model("PasswordChange", {
    "password": fields.String(required=True),
    "current": fields.String(description="The current password; required when changing one's own"),
})
apikey_model = ns.model("ApiKey", {"apikey": fields.String})


def _fresh() -> bool:
    return credentials_fresh(services().settings.get("accessControl.reauthenticationTimeout"))


def user_list_response() -> dict:
    users = services().users
    show = _fresh()  # keys are shown only to a caller who proved itself recently
    return {"users": [users.record(u, show_apikey=show) for u in users.all()]}


@ns.route("")
class Users(Resource):
    @ns.response(200, "All users", user_list)
    @require("ADMIN")
    def get(self):
        return user_list_response()

    @ns.expect(user_add)
    @ns.response(200, "Added; all users", user_list)
    @ns.response(400, "A field is missing or invalid")
    @ns.response(409, "The user exists")
    @require("ADMIN")
    def post(self):
        require_fresh_credentials()
        data = json_body()
        name, password, active = required(data, "name", "password", "active")
        services().users.add(
            name, password, active=truthy(active), groups=data.get("groups"),
            permissions=data.get("permissions", []),
        )
        return user_list_response()


@ns.route("/<string:name>")
@ns.param("name", "User name")
class UserItem(Resource):
    @ns.response(200, "The user", user_model)
    @ns.response(404, "No such user")
    def get(self, name):
        require_self_or_admin(name)
        users = services().users
        return users.record(users.get(name), show_apikey=_fresh())

    @ns.expect(user_update)
    @ns.response(200, "Updated; all users", user_list)
    @require("ADMIN")
    def put(self, name):
        data = json_body()
        active = truthy(data["active"]) if "active" in data else None
        services().users.update(name, groups=data.get("groups"), permissions=data.get("permissions"), active=active)
        if active is False:
            services().tokens.revoke_user(name, "stale")
        else:
            services().tokens.user_changed(name)
        return user_list_response()

    @ns.response(200, "Removed; all users", user_list)
    @ns.response(400, "You cannot delete yourself")
    @require("ADMIN")
    def delete(self, name):
        if current_user.name == name:
            raise Invalid("You cannot delete yourself")
        services().users.delete(name)
        services().tokens.revoke_user(name)
        return user_list_response()


@ns.route("/<string:name>/password")
class UserPassword(Resource):
    @ns.expect(password_change)
    @ns.response(200, "Changed")
    @ns.response(403, "Wrong current password")
    def put(self, name):
        require_self_or_admin(name)
        data = json_body()
        (password,) = required(data, "password")
        users = services().users
        if current_user.name == name:
            if "current" not in data:
                raise Invalid("current password is missing")
            if users.verify(name, data["current"]) is None:
                raise PermissionDenied("The current password is wrong")
        users.get(name)
        users.set_password(name, password)
        return {}


@ns.route("/<string:name>/settings")
class UserSettings(Resource):
    @ns.response(200, "The user's settings")
    def get(self, name):
        require_self_or_admin(name)
        return services().users.get(name).settings

    @ns.response(204, "Merged into the user's settings")
    def patch(self, name):
        require_self_or_admin(name)
        services().users.patch_settings(name, json_body())
        return no_content()


@ns.route("/<string:name>/apikey")
class UserApiKey(Resource):
    @ns.response(200, "A new key", apikey_model)
    def post(self, name):
        require_self_or_admin(name)
        services().users.get(name)
        return {"apikey": services().users.set_apikey(name)}

    @ns.response(204, "The key is removed")
    def delete(self, name):
        require_self_or_admin(name)
        services().users.get(name)
        services().users.delete_apikey(name)
        return no_content()


def init_legacy_redirects(app) -> None:
    """OctoPrint answers its pre-1.4 /api/users routes with 307 to /api/access/users."""

    @app.route("/api/users", defaults={"rest": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    @app.route("/api/users/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def legacy_users(rest):
        target = "/api/access/users" + (f"/{rest}" if rest else "")
        if request.query_string:
            target += "?" + request.query_string.decode("latin-1")
        return redirect(target, code=307)


