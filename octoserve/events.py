"""Event names (OctoPrint's, one catalogue) and a small in-process bus that fans events out to subscribers.

Every event octoserve fires is named here and nowhere else; docs/events.rst documents each
one's payload and where it is fired. Daemon events travel to the web process over the
printer subscription and are fired again on the web process's bus, where the push API (and,
later, plugins) hear them alongside the web process's own.
"""
import logging
import threading

log = logging.getLogger(__name__)

# -- server and clients (web process) ---------------------------------------------------------
STARTUP = "Startup"
SHUTDOWN = "Shutdown"
CLIENT_OPENED = "ClientOpened"
CLIENT_AUTHED = "ClientAuthed"
CLIENT_DEAUTHED = "ClientDeauthed"
CLIENT_CLOSED = "ClientClosed"
USER_LOGGED_IN = "UserLoggedIn"
USER_LOGGED_OUT = "UserLoggedOut"
SETTINGS_UPDATED = "SettingsUpdated"

# -- printer communication (daemon) -----------------------------------------------------------
CONNECTING = "Connecting"
CONNECTED = "Connected"
DISCONNECTING = "Disconnecting"
DISCONNECTED = "Disconnected"
PRINTER_STATE_CHANGED = "PrinterStateChanged"
PRINTER_RESET = "PrinterReset"
ERROR = "Error"
FIRMWARE_DATA = "FirmwareData"
ACTION_COMMAND = "ActionCommand"

# -- files and folders (web process) ----------------------------------------------------------
UPLOAD = "Upload"
FILE_ADDED = "FileAdded"
FILE_REMOVED = "FileRemoved"
FILE_MOVED = "FileMoved"
FOLDER_ADDED = "FolderAdded"
FOLDER_REMOVED = "FolderRemoved"
FOLDER_MOVED = "FolderMoved"
UPDATED_FILES = "UpdatedFiles"
METADATA_ANALYSIS_STARTED = "MetadataAnalysisStarted"
METADATA_ANALYSIS_FINISHED = "MetadataAnalysisFinished"
METADATA_STATISTICS_UPDATED = "MetadataStatisticsUpdated"
TRANSFER_STARTED = "TransferStarted"
TRANSFER_DONE = "TransferDone"
TRANSFER_FAILED = "TransferFailed"

# -- the job (daemon) -------------------------------------------------------------------------
FILE_SELECTED = "FileSelected"
FILE_DESELECTED = "FileDeselected"
PRINT_STARTED = "PrintStarted"
PRINT_DONE = "PrintDone"
PRINT_FAILED = "PrintFailed"
PRINT_CANCELLING = "PrintCancelling"
PRINT_CANCELLED = "PrintCancelled"
PRINT_PAUSED = "PrintPaused"
PRINT_RESUMED = "PrintResumed"
CHART_MARKED = "ChartMarked"


def gcode_script_running(name: str) -> str:
    """``GcodeScriptBeforePrintStartedRunning`` and so on: OctoPrint names them after the script."""
    return f"GcodeScript{name[:1].upper()}{name[1:]}Running"


def gcode_script_finished(name: str) -> str:
    return f"GcodeScript{name[:1].upper()}{name[1:]}Finished"


# -- fired when a command is sent (daemon) ----------------------------------------------------
Z_CHANGE = "ZChange"
POSITION_UPDATE = "PositionUpdate"
TOOL_CHANGE = "ToolChange"
HOME = "Home"
DWELLING = "Dwelling"
WAITING = "Waiting"
COOLING = "Cooling"
CONVEYOR = "Conveyor"
EJECT = "Eject"
ALERT = "Alert"
E_STOP = "EStop"
FILAMENT_CHANGE = "FilamentChange"
POWER_ON = "PowerOn"
POWER_OFF = "PowerOff"

# The commands that fire an event (with a null payload) when they are sent, as in OctoPrint.
GCODE_EVENTS = {
    "M226": WAITING, "M0": WAITING, "M1": WAITING,
    "G4": DWELLING,
    "M245": COOLING,
    "M240": CONVEYOR,
    "M40": EJECT,
    "M300": ALERT,
    "G28": HOME,
    "M112": E_STOP,
    "M80": POWER_ON, "M81": POWER_OFF,
    "M600": FILAMENT_CHANGE, "M701": FILAMENT_CHANGE, "M702": FILAMENT_CHANGE,
}

# -- printer profiles (web process) -----------------------------------------------------------
PRINTER_PROFILE_ADDED = "PrinterProfileAdded"
PRINTER_PROFILE_MODIFIED = "PrinterProfileModified"
PRINTER_PROFILE_DELETED = "PrinterProfileDeleted"

CATALOGUE = frozenset(value for name, value in globals().items() if name.isupper() and isinstance(value, str))

# Events only administrators see on the push channel; ClientOpened/Authed reach others with {}.
ADMIN_ONLY = frozenset({USER_LOGGED_IN, USER_LOGGED_OUT})
BLANKED_FOR_OTHERS = frozenset({CLIENT_OPENED, CLIENT_AUTHED})


class EventBus:
    """Subscribers are called synchronously on the firing thread; one failing never stops the rest.

    Only the web process and the CLI use a bus: the daemon hands its events to the publisher,
    which never runs a subscriber on the comm thread.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._subscribers = []

    def subscribe(self, callback) -> None:
        with self._lock:
            self._subscribers.append(callback)

    def unsubscribe(self, callback) -> None:
        with self._lock:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

    def fire(self, name: str, payload=None) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(name, payload)
            except Exception:
                log.exception("event subscriber %r failed on %s", callback, name)
