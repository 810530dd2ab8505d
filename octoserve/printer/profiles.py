"""Printer profiles: the `_default` profile, validation, and the repository behind /api/printerprofiles."""
import copy
import re

from octoserve.errors import Conflict, Invalid, NotFound

DEFAULT_ID = "_default"
DEFAULT_PROFILE = {
    "id": DEFAULT_ID, "name": "Default", "model": "Generic RepRap Printer", "color": "default",
    "volume": {"width": 200, "depth": 200, "height": 200, "formFactor": "rectangular",
               "origin": "lowerleft", "custom_box": False},
    "heatedBed": True, "heatedChamber": False,
    "extruder": {"count": 1, "offsets": [[0, 0]], "nozzleDiameter": 0.4, "sharedNozzle": False,
                 "defaultExtrusionLength": 5},
    "axes": {"x": {"speed": 6000, "inverted": False}, "y": {"speed": 6000, "inverted": False},
             "z": {"speed": 200, "inverted": False}, "e": {"speed": 300, "inverted": False}},
}
_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_BOX_KEYS = ("x_min", "x_max", "y_min", "y_max", "z_min", "z_max")
DEFAULT_SETTING = "printerProfiles.default"


def _number(value, name, *, positive=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (positive and value <= 0):
        raise Invalid(f"Profile field {name} must be a {'positive ' if positive else ''}number")
    return value


def _boolean(value, name):
    if not isinstance(value, bool):
        raise Invalid(f"Profile field {name} must be true or false")
    return value


def _choice(value, name, choices):
    if value not in choices:
        raise Invalid(f"Profile field {name} must be one of {', '.join(choices)}")
    return value


def merge(base: dict, patch: dict) -> dict:
    result = copy.deepcopy(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def validate(profile: dict) -> dict:
    """A complete profile, type-checked field by field; raises Invalid naming the bad field."""
    if not isinstance(profile.get("id"), str) or not _ID.match(profile["id"]):
        raise Invalid("Profile id must be 1 to 64 letters, digits, '.', '_' or '-'")
    if not isinstance(profile.get("name"), str) or not profile["name"].strip():
        raise Invalid("Profile name must be a non-empty string")
    for key in ("model", "color"):
        if not isinstance(profile.get(key), str):
            raise Invalid(f"Profile field {key} must be a string")
    for key in ("volume", "extruder", "axes"):
        if not isinstance(profile.get(key), dict):
            raise Invalid(f"Profile field {key} must be an object")
    volume = profile["volume"]
    for key in ("width", "depth", "height"):
        _number(volume.get(key), f"volume.{key}", positive=True)
    _choice(volume.get("formFactor"), "volume.formFactor", ("rectangular", "circular"))
    _choice(volume.get("origin"), "volume.origin", ("lowerleft", "center"))
    box = volume.get("custom_box")
    if box is not False:
        if not isinstance(box, dict):
            raise Invalid("Profile field volume.custom_box must be false or an object")
        for key in _BOX_KEYS:
            _number(box.get(key), f"volume.custom_box.{key}")
    _boolean(profile.get("heatedBed"), "heatedBed")
    _boolean(profile.get("heatedChamber"), "heatedChamber")
    _validate_extruder(profile["extruder"])
    for axis in ("x", "y", "z", "e"):
        settings = profile["axes"].get(axis)
        if not isinstance(settings, dict):
            raise Invalid(f"Profile field axes.{axis} must be an object")
        _number(settings.get("speed"), f"axes.{axis}.speed", positive=True)
        _boolean(settings.get("inverted"), f"axes.{axis}.inverted")
    return profile


def _validate_extruder(extruder: dict) -> None:
    count = extruder.get("count")
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 16:
        raise Invalid("Profile field extruder.count must be an integer from 1 to 16")
    offsets = extruder.get("offsets")
    if not isinstance(offsets, list) or len(offsets) != count or not all(
            isinstance(o, list) and len(o) == 2 and all(_number(v, "extruder.offsets") is not None for v in o)
            for o in offsets):
        raise Invalid("Profile field extruder.offsets must hold one [x, y] pair per extruder")
    _number(extruder.get("nozzleDiameter"), "extruder.nozzleDiameter", positive=True)
    _boolean(extruder.get("sharedNozzle"), "extruder.sharedNozzle")
    _number(extruder.get("defaultExtrusionLength"), "extruder.defaultExtrusionLength", positive=True)


class ProfileRepository:
    TABLE = "profiles"

    def __init__(self, database, settings):
        self._db = database
        self._settings = settings

    def _rows(self, identifier):
        return self._db.table(self.TABLE).search(lambda doc: doc["id"] == identifier)

    def all(self) -> dict:
        return copy.deepcopy(self._all())

    def _all(self) -> dict:
        """Identifier -> profile, the default included, read once per version of the file (shared)."""
        def build():
            stored = {doc["id"]: dict(doc) for doc in self._db.table(self.TABLE).all()}
            return {DEFAULT_ID: copy.deepcopy(DEFAULT_PROFILE), **stored}
        return self._db.cached(self.TABLE, build)

    def get(self, identifier: str) -> dict:
        return copy.deepcopy(self.read(identifier))

    def read(self, identifier: str) -> dict:
        """The profile itself, shared with the cache: for reading only (no copy, for every request's use)."""
        profile = self._all().get(identifier)
        if profile is None:
            raise NotFound(f"Unknown profile: {identifier}")
        return profile

    def default_id(self) -> str:
        identifier = self._settings.get(DEFAULT_SETTING)
        return identifier if identifier in self._all() else DEFAULT_ID

    def add(self, profile: dict, based_on: str | None = None, make_default=False) -> dict:
        if not isinstance(profile, dict):
            raise Invalid("profile must be an object")
        base = self.get(based_on) if based_on else copy.deepcopy(DEFAULT_PROFILE)
        for key in ("default", "current", "resource"):
            profile.pop(key, None)
        merged = validate(merge(base, profile))
        with self._db.locked():
            if merged["id"] in self.all():
                raise Conflict(f"Profile {merged['id']} already exists")
            self._db.table(self.TABLE).insert(merged)
        if make_default:
            self._settings.set(DEFAULT_SETTING, merged["id"])
        return merged

    def update(self, identifier: str, patch: dict, make_default=False) -> dict:
        if not isinstance(patch, dict):
            raise Invalid("profile must be an object")
        patch = {k: v for k, v in patch.items() if k not in ("default", "current", "resource", "id")}
        with self._db.locked():
            merged = validate(merge(self.get(identifier), patch))
            if identifier == DEFAULT_ID and not self._rows(DEFAULT_ID):
                self._db.table(self.TABLE).insert(merged)
            else:
                self._db.table(self.TABLE).update(merged, lambda doc: doc["id"] == identifier)
        if make_default:
            self._settings.set(DEFAULT_SETTING, identifier)
        return merged

    def delete(self, identifier: str, current: str | None) -> None:
        self.get(identifier)
        if identifier in (self.default_id(), current):
            raise Conflict("Cannot delete the default profile or the currently active profile")
        with self._db.locked():
            self._db.table(self.TABLE).remove(lambda doc: doc["id"] == identifier)
