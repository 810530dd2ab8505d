"""Groups: OctoPrint's four defaults, custom groups, and the permissions they grant."""
from octoserve.errors import Conflict, Forbidden, Invalid, NotFound

ADMINS, USERS, GUESTS, READONLY = "admins", "users", "guests", "readonly"

# key: (name, description, default, changeable, removable, toggleable)
DEFAULT_GROUPS = {
    ADMINS: ("Admins", "Administrators", False, False, False, True),
    USERS: ("Operator", "Logged in users", True, True, False, True),
    GUESTS: ("Guests", "Anyone who is not logged in", False, True, False, False),
    READONLY: ("Read-only Access", "Read-only access", False, False, False, True),
}


class GroupRepository:
    """Groups stored in the access database, seeded with the defaults on first use."""

    TABLE = "groups"
    META = "meta"

    def __init__(self, database, registry):
        self._db = database
        self.registry = registry

    # -- set-up ---------------------------------------------------------------------------
    def ensure_defaults(self) -> None:
        """Create the default groups once, and grant newly seen permissions to their default groups."""
        with self._db.locked():
            table = self._db.table(self.TABLE)
            for key, (name, description, default, changeable, removable, toggleable) in DEFAULT_GROUPS.items():
                if not table.search(lambda doc, k=key: doc["key"] == k):
                    table.insert({
                        "key": key, "name": name, "description": description, "permissions": [],
                        "subgroups": [], "default": default, "changeable": changeable,
                        "removable": removable, "toggleable": toggleable,
                    })
            self._grant_new_permissions()

    def _grant_new_permissions(self) -> None:
        meta = self._db.table(self.META)
        rows = meta.search(lambda doc: doc.get("name") == "known_permissions")
        known = set(rows[0]["keys"]) if rows else set()
        new = [p for p in self.registry.permissions if p.key not in known]
        table = self._db.table(self.TABLE)
        for group in table.all():
            additions = [p.key for p in new if group["key"] in p.default_groups]
            if group["key"] == ADMINS:
                additions = [k for k in additions if k == "ADMIN" or self.registry.get(k).plugin]
            if additions:
                merged = group["permissions"] + [k for k in additions if k not in group["permissions"]]
                table.update({"permissions": merged}, doc_ids=[group.doc_id])
        keys = sorted(known | {p.key for p in self.registry.permissions})
        if rows:
            meta.update({"keys": keys}, doc_ids=[rows[0].doc_id])
        else:
            meta.insert({"name": "known_permissions", "keys": keys})

    # -- reading --------------------------------------------------------------------------
    def all(self) -> list:
        return [dict(doc) for doc in self._all()]

    def _all(self) -> list:
        """The stored groups, read once per version of the file (shared: never mutated)."""
        return self._db.cached(self.TABLE, lambda: [dict(doc) for doc in self._db.table(self.TABLE).all()])

    def get(self, key: str) -> dict:
        with self._db.locked():
            rows = self._db.table(self.TABLE).search(lambda doc: doc["key"] == key)
        if not rows:
            raise NotFound(f"No group with key {key}")
        return dict(rows[0])

    def default_keys(self) -> list:
        return [g["key"] for g in self.all() if g["default"]]

    def permissions_of(self, group_keys, extra=()) -> list:
        """The permission keys granted by these groups and, recursively, their subgroups (plus ``extra``).

        Asked on every request: the answer is remembered until the groups change.
        """
        stored = self._all()
        memo = getattr(self, "_memo", None)
        if memo is None or memo[0] is not stored:
            memo = self._memo = (stored, {})
        key = (tuple(group_keys), tuple(extra))
        if key not in memo[1]:
            memo[1][key] = tuple(self._resolve(stored, group_keys, extra))
        return list(memo[1][key])

    def _resolve(self, stored, group_keys, extra) -> list:
        groups = {g["key"]: g for g in stored}
        granted, seen, pending = set(), set(), list(group_keys)
        while pending:
            key = pending.pop()
            if key in seen or key not in groups:
                continue
            seen.add(key)
            granted.update(groups[key]["permissions"])
            pending.extend(groups[key]["subgroups"])
        return self.registry.effective(granted | set(extra))

    def record(self, group: dict) -> dict:
        """The API shape of a group."""
        effective = self.permissions_of([group["key"]])
        return {
            "key": group["key"], "name": group["name"], "description": group["description"],
            "permissions": list(group["permissions"]), "subgroups": list(group["subgroups"]),
            "needs": {"role": self.registry.roles(effective), "group": [group["key"]]},
            "default": group["default"], "removable": group["removable"],
            "changeable": group["changeable"], "toggleable": group["toggleable"],
            "dangerous": any(self.registry.get(k).dangerous for k in effective),
        }

    # -- writing --------------------------------------------------------------------------
    def add(self, key, name, description="", permissions=(), subgroups=(), default=False) -> None:
        if not isinstance(key, str) or not key.strip() or not isinstance(name, str) or not name.strip():
            raise Invalid("key and name must be non-empty strings")
        values = self._checked(key, list(permissions), list(subgroups), description, default)
        with self._db.locked():
            table = self._db.table(self.TABLE)
            if table.search(lambda doc: doc["key"] == key):
                raise Conflict(f"Group {key} already exists")
            table.insert({"key": key, "name": name, **values,
                          "changeable": True, "removable": True, "toggleable": True})

    def update(self, key, *, description=None, permissions=None, subgroups=None, default=None) -> None:
        with self._db.locked():
            group = self.get(key)
            if not group["changeable"]:
                raise Forbidden(f"Group {key} can't be changed")
            values = self._checked(
                key,
                group["permissions"] if permissions is None else permissions,
                group["subgroups"] if subgroups is None else subgroups,
                group["description"] if description is None else description,
                group["default"] if default is None else default,
            )
            self._db.table(self.TABLE).update(values, lambda doc: doc["key"] == key)

    def remove(self, key) -> None:
        with self._db.locked():
            group = self.get(key)
            if not group["removable"]:
                raise Forbidden(f"Group {key} can't be removed")
            table = self._db.table(self.TABLE)
            table.remove(lambda doc: doc["key"] == key)
            for other in table.all():
                if key in other["subgroups"]:
                    rest = [k for k in other["subgroups"] if k != key]
                    table.update({"subgroups": rest}, doc_ids=[other.doc_id])

    def _checked(self, key, permissions, subgroups, description, default) -> dict:
        permissions = self.registry.validate(permissions)
        if key == GUESTS:
            dangerous = [k for k in self.registry.effective(permissions) if self.registry.get(k).dangerous]
            if dangerous:
                raise Invalid(f"Guests may not hold dangerous permissions: {', '.join(dangerous)}")
        if not isinstance(subgroups, list) or not all(isinstance(s, str) for s in subgroups):
            raise Invalid("subgroups must be a list of group keys")
        known = {g["key"] for g in self.all()}
        for sub in subgroups:
            if sub not in known or sub == key:
                raise Invalid(f"subgroup {sub!r} is not a valid group")
        if not isinstance(description, str) or not isinstance(default, bool):
            raise Invalid("description must be a string and default a boolean")
        return {"permissions": permissions, "subgroups": list(dict.fromkeys(subgroups)),
                "description": description, "default": default}
