"""The permission catalogue: OctoPrint's 22 core permissions plus those plugins declare."""
import re
from dataclasses import dataclass, field

from octoserve.errors import Invalid


@dataclass(frozen=True)
class Permission:
    key: str
    name: str
    description: str
    role: str
    default_groups: tuple = ()
    dangerous: bool = False
    plugin: str | None = None

    def record(self) -> dict:
        """The shape of /api/access/permissions and of the push API's connected message."""
        data = {
            "key": self.key,
            "name": self.name,
            "dangerous": self.dangerous,
            "default_groups": list(self.default_groups),
            "description": self.description,
            "needs": {"role": [self.role]},
        }
        if self.plugin:
            data["plugin"] = self.plugin
        return data


U, R = "users", "readonly"

# Order matters: OctoPrint returns its permissions in this order.
CORE_PERMISSIONS = (
    Permission("ADMIN", "Admin", "Admin-related settings and every other permission", "admin", ("admins",), True),
    Permission("STATUS", "Status", "See printer, job and connection status", "status", (U, R)),
    Permission("CONNECTION", "Connection", "Connect to and disconnect from the printer", "connection", (U,)),
    Permission("WEBCAM", "Webcam", "Watch the webcam stream", "webcam", (U, R)),
    Permission("SYSTEM", "System", "Run system commands such as restart or shutdown", "system", (), True),
    Permission("FILES_LIST", "File List", "List files and folders", "files_list", (U, R)),
    Permission("FILES_UPLOAD", "File Upload", "Upload files and create folders", "files_upload", (U,)),
    Permission("FILES_DOWNLOAD", "File Download", "Download files", "files_download", (U, R)),
    Permission("FILES_DELETE", "File Delete", "Delete files and folders", "files_delete", (U,)),
    Permission("FILES_SELECT", "File Select", "Select files for printing", "files_select", (U,)),
    Permission("PRINT", "Print", "Start, pause, resume and cancel prints", "print", (U,)),
    Permission("GCODE_VIEWER", "GCODE viewer", "Use the G-code viewer", "gcodeviewer", (U, R)),
    Permission("MONITOR_TERMINAL", "Terminal", "Watch the terminal log", "monitor_terminal", (U, R)),
    Permission("CONTROL", "Control", "Send commands and move the printer", "control", (U,)),
    Permission("SLICE", "Slice", "Slice models", "slice", (U,)),
    Permission("TIMELAPSE_LIST", "Timelapse List", "List timelapses", "timelapse_list", (U, R)),
    Permission("TIMELAPSE_DOWNLOAD", "Timelapse Download", "Download timelapses", "timelapse_download", (U, R)),
    Permission("TIMELAPSE_DELETE", "Timelapse Delete", "Delete timelapses", "timelapse_delete", (U,)),
    Permission(
        "TIMELAPSE_MANAGE_UNRENDERED", "Timelapse Manage Unrendered",
        "Render or delete unrendered timelapses", "timelapse_manage_unrendered", (U,),
    ),
    Permission("TIMELAPSE_ADMIN", "Timelapse Admin", "Change timelapse settings", "timelapse_admin", (U,)),
    Permission("SETTINGS_READ", "Settings Read", "Read settings", "settings_read", (U, R)),
    Permission("SETTINGS", "Settings Access", "Change settings", "settings", (), True),
)

_PLUGIN_KEY = re.compile(r"^[A-Za-z0-9_]+$")


@dataclass
class PermissionRegistry:
    """Every permission known to this process: the core ones, then the plugins' in load order."""

    permissions: list = field(default_factory=lambda: list(CORE_PERMISSIONS))

    def add_plugin_permissions(self, plugin_id: str, declared) -> None:
        """Register what a plugin declared: dicts with key, name, description, default_groups, dangerous."""
        for item in declared or ():
            raw_key = str(item.get("key", ""))
            if not _PLUGIN_KEY.match(raw_key) or not _PLUGIN_KEY.match(plugin_id):
                raise Invalid(f"plugin {plugin_id} declares an invalid permission key {raw_key!r}")
            key = f"PLUGIN_{plugin_id}_{raw_key}".upper()
            if key in self.keys():
                raise Invalid(f"permission {key} is declared twice")
            self.permissions.append(Permission(
                key=key,
                name=str(item.get("name", raw_key)),
                description=str(item.get("description", "")),
                role=key.lower(),
                default_groups=tuple(item.get("default_groups", ())),
                dangerous=bool(item.get("dangerous", False)),
                plugin=plugin_id,
            ))

    def keys(self) -> list:
        return [p.key for p in self.permissions]

    def get(self, key: str) -> Permission:
        for permission in self.permissions:
            if permission.key == key:
                return permission
        raise Invalid(f"unknown permission {key!r}")

    def validate(self, keys) -> list:
        """The keys, checked to exist, without duplicates, in catalogue order."""
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise Invalid("permissions must be a list of permission keys")
        for key in keys:
            self.get(key)
        return [k for k in self.keys() if k in keys]

    def effective(self, keys) -> list:
        """Holding ADMIN means holding everything."""
        if "ADMIN" in keys:
            return self.keys()
        return [k for k in self.keys() if k in set(keys)]

    def roles(self, keys) -> list:
        return [self.get(k).role for k in self.effective(keys)]

    def default_keys_for(self, group_key: str) -> list:
        return [p.key for p in self.permissions if group_key in p.default_groups]
