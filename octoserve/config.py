"""The table of settings (name, default, type, help), the base directory, and typed get/set."""
import copy
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from octoserve.errors import Invalid, NotFound

DEFAULT_BASEDIR = "~/.octoserve"
BASEDIR_VARIABLE = "OCTOSERVE_BASEDIR"


@dataclass(frozen=True)
class ValueType:
    """A setting's type: a name for messages and a check that returns the value or raises."""

    name: str
    check: Callable[[Any], bool]


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


INTEGER = ValueType("an integer", _is_int)
PORT = ValueType("a port number from 1 to 65535", lambda v: _is_int(v) and 1 <= v <= 65535)
POSITIVE = ValueType("a positive integer", lambda v: _is_int(v) and v > 0)
BOOLEAN = ValueType("true or false", lambda v: isinstance(v, bool))
STRING = ValueType("a string", lambda v: isinstance(v, str))
OPTIONAL_STRING = ValueType("a string or null", lambda v: v is None or isinstance(v, str))
OPTIONAL_BAUDRATE = ValueType("a baud rate (positive integer) or null", lambda v: v is None or (_is_int(v) and v > 0))
NON_NEGATIVE = ValueType("a non-negative integer", lambda v: _is_int(v) and v >= 0)
SECONDS = ValueType("a positive number of seconds",
                    lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0)
OBJECT_LIST = ValueType("a list of objects", lambda v: isinstance(v, list) and all(isinstance(i, dict) for i in v))
STRING_LIST = ValueType(
    "a list of strings", lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v)
)


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    type: ValueType
    help: str


SETTINGS = [
    Setting("server.host", "127.0.0.1", STRING, "Address the web server listens on."),
    Setting("server.port", 5000, PORT, "TCP port the web server listens on."),
    Setting("server.maxConnections", 1000, POSITIVE,
            "Connections the web process holds at once (HTTP and push clients together)."),
    Setting("server.uploads.maxSize", 1024 ** 3, POSITIVE, "Largest file upload accepted, in bytes (larger: 413)."),
    Setting(
        "server.firstRun", True, BOOLEAN,
        "True until the setup wizard has been completed; with no users it closes every guarded endpoint.",
    ),
    Setting(
        "accessControl.reauthenticationTimeout", 5, POSITIVE,
        "Minutes after a password login during which sensitive actions need no new password.",
    ),
    Setting(
        "accessControl.rememberMeDays", 90, POSITIVE,
        "Days a remember-me login cookie stays valid.",
    ),
    Setting(
        "api.allowCrossOrigin", False, BOOLEAN,
        "Accept push connections (WebSocket, SockJS) from pages of other origins.",
    ),
    Setting(
        "devel.enableCsrfProtection", True, BOOLEAN,
        "Require the csrf_token cookie and X-CSRF-Token header on cookie-authenticated API writes.",
    ),
    Setting(
        "serial.additionalPorts", [], STRING_LIST,
        "Extra glob patterns of serial ports to offer besides the usual USB and UART devices.",
    ),
    Setting("serial.port", None, OPTIONAL_STRING, "Preferred serial port (null: none saved)."),
    Setting("serial.baudrate", None, OPTIONAL_BAUDRATE, "Preferred baud rate (null: none saved)."),
    Setting("serial.autoconnect", False, BOOLEAN, "Connect to the preferred port when the server starts."),
    Setting(
        "serial.sendAhead", True, BOOLEAN,
        "Keep several lines in flight when the firmware's acks allow it (Marlin ADVANCED_OK).",
    ),
    Setting(
        "serial.rxBufferSize", 0, NON_NEGATIVE,
        "The firmware's serial receive buffer in bytes, for send-ahead by byte counting; 0 = off.",
    ),
    Setting("serial.timeoutCommunication", 30, SECONDS, "Seconds without a reply before the host acts."),
    Setting("serial.timeoutConnection", 10, SECONDS, "Seconds to wait for the first reply after opening."),
    Setting(
        "serial.disconnectOnErrors", True, BOOLEAN,
        "Go to the error state on firmware errors (off: log them and carry on).",
    ),
    Setting("feature.sdSupport", True, BOOLEAN, "Offer the printer's SD card."),
    Setting("printerProfiles.default", "_default", STRING, "Identifier of the default printer profile."),
    Setting("controls", [], OBJECT_LIST, "Custom controls shown by the UI and /api/printer/command/custom."),
]

SETTINGS_BY_NAME = {setting.name: setting for setting in SETTINGS}


def resolve_basedir(value=None) -> Path:
    """The base directory: the given value, else $OCTOSERVE_BASEDIR, else ~/.octoserve."""
    chosen = value or os.environ.get(BASEDIR_VARIABLE) or DEFAULT_BASEDIR
    return Path(chosen).expanduser().resolve()


def ensure_basedir(path: Path) -> Path:
    """Create the base directory, readable by its owner only (it holds keys and hashes)."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise Invalid(f"cannot create base directory {path}: {exc.strerror}") from None
    if not os.access(path, os.W_OK):
        raise Invalid(f"base directory {path} is not writable")
    return path


def parse_cli_value(text: str):
    """A value typed on the command line: JSON when it parses, else the text itself."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


class Settings:
    """Typed access to the settings stored in a Database; unknown names and bad types are refused."""

    TABLE = "settings"

    def __init__(self, database):
        self._db = database

    @staticmethod
    def describe(name: str) -> Setting:
        try:
            return SETTINGS_BY_NAME[name]
        except KeyError:
            raise NotFound(f"unknown setting {name!r}") from None

    def get(self, name: str):
        setting = self.describe(name)
        stored = self._stored()
        value = stored[name] if name in stored else setting.default
        return copy.deepcopy(value) if isinstance(value, (dict, list)) else value

    def _stored(self) -> dict:
        """Name -> stored value, read once per version of the file (shared: never mutated)."""
        return self._db.cached(self.TABLE, lambda: {row["name"]: row["value"]
                                                    for row in self._db.table(self.TABLE).all()})

    def set(self, name: str, value) -> None:
        setting = self.describe(name)
        if not setting.type.check(value):
            raise Invalid(f"{name} must be {setting.type.name}, got {json.dumps(value, default=repr)}")
        with self._db.locked():
            table = self._db.table(self.TABLE)
            if self._find(name) is None:
                table.insert({"name": name, "value": value})
            else:
                table.update({"value": value}, lambda doc: doc.get("name") == name)

    def as_dict(self) -> dict:
        stored = self._stored()
        return {s.name: copy.deepcopy(stored.get(s.name, s.default)) for s in SETTINGS}

    def _find(self, name):
        rows = self._db.table(self.TABLE).search(lambda doc: doc.get("name") == name)
        return rows[0] if rows else None
