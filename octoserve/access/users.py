"""Users: the stored records, passwords, API keys, per-user settings and effective permissions."""
import re
from dataclasses import dataclass, field

from octoserve.access import apikeys, passwords
from octoserve.access.groups import ADMINS, GUESTS
from octoserve.errors import Conflict, Invalid, NotFound

_NAME = re.compile(r"^[\w.@+-]{1,64}$")


@dataclass
class User:
    """A stored user; also what flask-login holds as the current user."""

    name: str
    password_hash: str = field(repr=False)
    active: bool = True
    groups: list = field(default_factory=list)
    permissions: list = field(default_factory=list)
    apikey: str | None = field(default=None, repr=False)
    settings: dict = field(default_factory=dict)

    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return self.name

    @classmethod
    def from_doc(cls, doc) -> "User":
        """A user of its own (lists copied; ``settings`` is shared with the cache: read it, never mutate it)."""
        values = {k: doc[k] for k in cls.__dataclass_fields__ if k in doc}
        for key in ("groups", "permissions"):
            if key in values:
                values[key] = list(values[key])
        return cls(**values)

    def to_doc(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


class AnonymousUser:
    """Whoever sent no valid credentials: a member of the guests group only."""

    name = None
    active = True
    is_anonymous = True
    is_authenticated = False
    is_active = False
    groups = [GUESTS]
    permissions = []
    apikey = None
    settings = {}

    def get_id(self):
        return None


def _deep_merge(target: dict, patch: dict) -> dict:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_merge(target[key], value)
        else:
            target[key] = value
    return target


class UserRepository:
    TABLE = "users"

    def __init__(self, database, groups):
        self._db = database
        self.groups = groups

    # -- reading --------------------------------------------------------------------------
    def _rows(self, name):
        return self._db.table(self.TABLE).search(lambda doc: doc["name"] == name)

    def _index(self) -> tuple:
        """({name: doc}, {sha256 of API key: name}), read once per version of the file (shared)."""
        def build():
            docs = {doc["name"]: doc for doc in self._db.table(self.TABLE).all()}
            keys = {apikeys.fingerprint(doc["apikey"]): name for name, doc in docs.items() if doc.get("apikey")}
            return docs, keys
        return self._db.cached(self.TABLE, build)

    def find(self, name) -> User | None:
        doc = self._index()[0].get(name) if isinstance(name, str) else None
        return User.from_doc(doc) if doc is not None else None

    def get(self, name) -> User:
        user = self.find(name)
        if user is None:
            raise NotFound(f"Unknown user: {name}")
        return user

    def all(self) -> list:
        with self._db.locked():
            return [User.from_doc(doc) for doc in self._db.table(self.TABLE).all()]

    def count(self) -> int:
        return len(self._index()[0])

    def by_apikey(self, key: str) -> User | None:
        """The user with this API key: looked up by the key's hash, so the time taken tells nothing of keys."""
        if not key or not isinstance(key, str):
            return None
        docs, keys = self._index()
        name = keys.get(apikeys.fingerprint(key))
        doc = docs.get(name) if name is not None else None
        return User.from_doc(doc) if doc is not None and apikeys.keys_equal(doc["apikey"], key) else None

    def verify(self, name, password) -> User | None:
        """The user if the password matches; None for an unknown name or a wrong password."""
        user = self.find(name) if isinstance(name, str) else None
        if user is None:
            # Spend the same time as a real check so response times do not reveal names.
            passwords.check_password(str(password), passwords.dummy_hash())
            return None
        return user if passwords.check_password(password, user.password_hash) else None

    def permissions_of(self, user) -> list:
        """Effective permission keys: the user's own plus its groups', ADMIN implying all."""
        return self.groups.permissions_of(user.groups, user.permissions)

    def record(self, user, *, show_apikey=True) -> dict:
        """The API shape of a user (login response and /api/access/users)."""
        effective = self.permissions_of(user)
        admin = "ADMIN" in effective
        return {
            "name": user.name, "active": user.active,
            "permissions": list(user.permissions), "groups": list(user.groups),
            "needs": {"role": self.groups.registry.roles(effective), "group": list(user.groups)},
            "apikey": user.apikey if show_apikey else None,
            "settings": user.settings,
            "admin": admin, "user": True, "roles": ["user", "admin"] if admin else ["user"],
        }

    # -- writing --------------------------------------------------------------------------
    def add(self, name, password, *, groups=None, permissions=(), active=True, apikey=None) -> User:
        if not isinstance(name, str) or not _NAME.match(name):
            raise Invalid("user name must be 1 to 64 letters, digits or . _ @ + -")
        user = User(
            name=name, password_hash=passwords.hash_password(password), active=self._bool(active),
            groups=self._checked_groups(self.groups.default_keys() if groups is None else groups),
            permissions=self.groups.registry.validate(list(permissions)),
            apikey=apikeys.check_given_key(apikey) if apikey else None,
        )
        with self._db.locked():
            if self._rows(name):
                raise Conflict(f"User {name} already exists")
            if user.apikey and self.by_apikey(user.apikey):
                raise Conflict("that API key is already in use")
            self._db.table(self.TABLE).insert(user.to_doc())
        return user

    def delete(self, name) -> None:
        with self._db.locked():
            if not self._db.table(self.TABLE).remove(lambda doc: doc["name"] == name):
                raise NotFound(f"Unknown user: {name}")

    def _change(self, name, **values) -> None:
        with self._db.locked():
            if not self._db.table(self.TABLE).update(values, lambda doc: doc["name"] == name):
                raise NotFound(f"Unknown user: {name}")

    def set_password(self, name, password) -> None:
        self._change(name, password_hash=passwords.hash_password(password))

    def update(self, name, *, groups=None, permissions=None, active=None) -> None:
        values = {}
        if groups is not None:
            values["groups"] = self._checked_groups(groups)
        if permissions is not None:
            values["permissions"] = self.groups.registry.validate(permissions)
        if active is not None:
            values["active"] = self._bool(active)
        self._change(name, **values)

    def drop_group(self, key) -> None:
        with self._db.locked():
            for user in self.all():
                if key in user.groups:
                    self._change(user.name, groups=[g for g in user.groups if g != key])

    def patch_settings(self, name, patch) -> None:
        if not isinstance(patch, dict):
            raise Invalid("settings must be a JSON object")
        with self._db.locked():
            user = self.get(name)
            self._change(name, settings=_deep_merge(user.settings, patch))

    def set_apikey(self, name, key=None) -> str:
        """Give the user a fresh key (or the one given) and return it."""
        key = apikeys.check_given_key(key) if key else apikeys.generate_key()
        with self._db.locked():
            owner = self.by_apikey(key)
            if owner is not None and owner.name != name:
                raise Conflict("that API key is already in use")
            self._change(name, apikey=key)
        return key

    def delete_apikey(self, name) -> None:
        self._change(name, apikey=None)

    def _checked_groups(self, groups) -> list:
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            raise Invalid("groups must be a list of group keys")
        known = {g["key"] for g in self.groups.all()}
        for key in groups:
            if key not in known:
                raise Invalid(f"unknown group {key!r}")
        return list(dict.fromkeys(groups))

    @staticmethod
    def _bool(value) -> bool:
        if not isinstance(value, bool):
            raise Invalid("active must be true or false")
        return value


def is_admin(repository, user) -> bool:
    return not user.is_anonymous and "ADMIN" in repository.permissions_of(user)


__all__ = ["User", "AnonymousUser", "UserRepository", "is_admin", "ADMINS"]
