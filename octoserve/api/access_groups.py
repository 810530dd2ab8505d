"""GET /api/access/permissions and the /api/access/groups collection and items."""
from flask_restx import Namespace, Resource, fields

from octoserve.access.guards import require, services
from octoserve.api.common import json_body, required, truthy

ns = Namespace("access_groups", description="Permissions and groups", path="/access")

permission_model = ns.model("Permission", {
    "key": fields.String, "name": fields.String, "dangerous": fields.Boolean,
    "default_groups": fields.List(fields.String), "description": fields.String,
    "needs": fields.Raw(example={"role": ["status"]}), "plugin": fields.String,
})
group_model = ns.model("Group", {
    "key": fields.String, "name": fields.String, "description": fields.String,
    "permissions": fields.List(fields.String), "subgroups": fields.List(fields.String),
    "needs": fields.Raw(example={"role": ["status"], "group": ["users"]}),
    "default": fields.Boolean, "removable": fields.Boolean, "changeable": fields.Boolean,
    "toggleable": fields.Boolean, "dangerous": fields.Boolean,
})
group_list = ns.model("GroupList", {"groups": fields.List(fields.Nested(group_model))})
group_add = ns.model("GroupAdd", {
    "key": fields.String(required=True), "name": fields.String(required=True),
    "description": fields.String, "permissions": fields.List(fields.String, required=True),
    "subgroups": fields.List(fields.String, required=True), "default": fields.Boolean,
})
group_update = ns.model("GroupUpdate", {
    "description": fields.String, "permissions": fields.List(fields.String),
    "subgroups": fields.List(fields.String), "default": fields.Boolean,
})


def group_list_response() -> dict:
    groups = services().groups
    return {"groups": [groups.record(g) for g in groups.all()]}


@ns.route("/permissions")
class Permissions(Resource):
    @ns.response(200, "Every permission", ns.model("PermissionList", {
        "permissions": fields.List(fields.Nested(permission_model))}))
    def get(self):
        return {"permissions": [p.record() for p in services().registry.permissions]}


@ns.route("/groups")
class Groups(Resource):
    @ns.response(200, "All groups", group_list)
    @require("ADMIN")
    def get(self):
        return group_list_response()

    @ns.expect(group_add)
    @ns.response(200, "Added; all groups", group_list)
    @ns.response(400, "A field is missing or invalid")
    @ns.response(409, "A group with that key exists")
    @require("ADMIN")
    def post(self):
        data = json_body()
        key, name, permissions, subgroups = required(data, "key", "name", "permissions", "subgroups")
        services().groups.add(
            key, name, description=data.get("description", ""), permissions=permissions,
            subgroups=subgroups, default=truthy(data.get("default", False)),
        )
        return group_list_response()


@ns.route("/groups/<string:key>")
@ns.param("key", "Group key")
class Group(Resource):
    @ns.response(200, "The group", group_model)
    @ns.response(404, "No such group")
    @require("ADMIN")
    def get(self, key):
        groups = services().groups
        return groups.record(groups.get(key))

    @ns.expect(group_update)
    @ns.response(200, "Updated; all groups", group_list)
    @ns.response(403, "The group can't be changed")
    @require("ADMIN")
    def put(self, key):
        data = json_body()
        services().groups.update(
            key, description=data.get("description"), permissions=data.get("permissions"),
            subgroups=data.get("subgroups"), default=truthy(data["default"]) if "default" in data else None,
        )
        return group_list_response()

    @ns.response(200, "Removed; all groups", group_list)
    @ns.response(403, "The group can't be removed")
    @require("ADMIN")
    def delete(self, key):
        services().groups.remove(key)
        services().users.drop_group(key)
        return group_list_response()
