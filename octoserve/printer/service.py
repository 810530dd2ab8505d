"""PrinterService: what the daemon does for its clients (connect, commands, temperatures, terminal, SD)."""
import itertools
import logging
import threading
from pathlib import Path

from octoserve import events
from octoserve.config import Settings
from octoserve.errors import Invalid, NotOperational
from octoserve.plugins import build_plugin_manager
from octoserve.printer.chores import Chores
from octoserve.printer.comm.connection import Connection
from octoserve.printer.comm.options import ConnectionOptions
from octoserve.printer.comm.transport import BAUDRATES, discover_ports
from octoserve.printer.job import Job
from octoserve.printer.listener import ServiceListener
from octoserve.printer.profiles import ProfileRepository
from octoserve.printer.scripts import ScriptLibrary
from octoserve.printer.sdcard import SdCard
from octoserve.printer.snapshot import ConnectionInfo, PrinterState, Resends, Snapshot
from octoserve.printer.temperatures import Temperatures
from octoserve.printer.terminal import TerminalLog
from octoserve.storage import Database
from octoserve.storage.history import PrintHistory

log = logging.getLogger(__name__)

DETECT_BAUDRATES = (115200, 250000, 230400, 57600, 38400, 19200, 9600)


class PrinterService:
    """Owns the one Connection (or none) and everything the daemon keeps about the printer."""

    def __init__(self, basedir, settings, profiles, port_providers=None, history=None):
        self.basedir = Path(basedir)
        self.settings = settings
        self.profiles = profiles
        self.port_providers = dict(port_providers or {})
        self.temperatures = Temperatures()
        self.terminal = TerminalLog()
        self.connection = None
        self.profile_id = None
        self.publisher = None
        self.sd_ready = False
        self.sd_support = settings.get("feature.sdSupport")  # read again at each connect, off the comm thread
        self._lock = threading.RLock()
        self._closers = []
        self._sequence = itertools.count(1)
        self.scripts = ScriptLibrary(self.basedir)
        self.chores = Chores()
        self.job = Job(self, history)
        self.sdcard = SdCard(self)
        self.listener = ServiceListener(self)

    @classmethod
    def open(cls, basedir) -> "PrinterService":
        basedir = Path(basedir)
        settings = Settings(Database(basedir / "settings.json"))
        profiles = ProfileRepository(Database(basedir / "printerprofiles.json"), settings)
        plugins = build_plugin_manager(basedir)
        providers = {}
        for _name, answer in plugins.call_each("octoserve_serial_ports"):
            providers.update(answer or {})
        return cls(basedir, settings, profiles, providers, _open_history(basedir))

    def attach(self, publisher) -> None:
        self.publisher = publisher

    # -- the request table ---------------------------------------------------------------
    def handle(self, method: str, params: dict):
        handler = getattr(self, f"rpc_{method}", None)
        if handler is None:
            raise Invalid(f"unknown printer request {method!r}")
        return handler(**params)

    def rpc_snapshot(self):
        return self.snapshot()

    def rpc_connection_options(self):
        ports = discover_ports(self.settings.get("serial.additionalPorts"))
        return {
            "ports": ports + sorted(self.port_providers),
            "baudrates": list(BAUDRATES),
            "printerProfiles": [{"id": p["id"], "name": p["name"]} for p in self.profiles.all().values()],
            "portPreference": self.settings.get("serial.port"),
            "baudratePreference": self.settings.get("serial.baudrate"),
            "printerProfilePreference": self.profiles.default_id(),
        }

    def rpc_connect(self, port=None, baudrate=None, profile=None, save=False, autoconnect=None):
        options = self.rpc_connection_options()
        port = port or options["portPreference"] or "AUTO"
        baudrate = options["baudratePreference"] if baudrate is None else baudrate
        if port != "AUTO" and port not in options["ports"]:
            raise Invalid("port is invalid")
        if baudrate not in (None, 0) and baudrate not in options["baudrates"]:
            raise Invalid("baudrate is invalid")
        profile = profile or self.profiles.default_id()
        self.profiles.get(profile)
        if save:
            self.settings.set("serial.port", port)
            self.settings.set("serial.baudrate", baudrate or None)
            self.settings.set("printerProfiles.default", profile)
        if autoconnect is not None:
            self.settings.set("serial.autoconnect", bool(autoconnect))
        self.rpc_disconnect()
        self.event(events.CONNECTING, None)
        threading.Thread(target=self._connect, args=(port, baudrate or 0, profile), daemon=True,
                         name="connect").start()
        return None

    def rpc_disconnect(self):
        with self._lock:
            connection, self.connection = self.connection, None
            closers, self._closers = self._closers, []
        if connection is not None:
            self.event(events.DISCONNECTING, None)
            connection.close()
        for close in closers:
            close()
        self.profile_id = None
        self.sd_ready = False
        self.changed()

    def rpc_fake_ack(self):
        connection = self._operational()
        with connection.lock:
            connection.queue.acknowledge()
            connection.pump()

    def rpc_commands(self, commands):
        if not isinstance(commands, list) or not all(isinstance(c, str) for c in commands):
            raise Invalid("commands must be a list of strings")
        connection = self._operational()
        for command in commands:
            connection.send(command)
        self.listener.track_targets(commands)

    def rpc_temperature_history(self, limit=None):
        return self.temperatures.history(limit)

    def rpc_set_offsets(self, offsets):
        self.temperatures.set_offsets(offsets)
        self.changed()

    def rpc_terminal(self, limit=None):
        return self.terminal.lines(limit)

    # -- the job ------------------------------------------------------------------------------
    def rpc_job_select(self, **params):
        self.job.select(**params)

    def rpc_job_analysed(self, path, estimated_print_time=None, filament=None):
        self.job.analysed(path, estimated_print_time, filament)

    def rpc_job_unselect(self):
        self.job.unselect()

    def rpc_job_start(self, user=None):
        self.job.start(user=user)

    def rpc_job_restart(self):
        self.job.restart()

    def rpc_job_pause(self, action="toggle"):
        self.job.pause(action)

    def rpc_job_cancel(self):
        self.job.cancel()

    # -- the SD card ------------------------------------------------------------------------
    def rpc_sd_files(self):
        return self.sdcard.listing() if self.sd_ready else []

    def rpc_sd_refresh(self):
        self.sdcard.refresh()

    def rpc_sd_select(self, name, print=False):
        self.sdcard.select(name, print)

    def rpc_sd_delete(self, name):
        self.sdcard.delete(name)

    def rpc_sd_upload(self, abs_path, remote_name):
        self.sdcard.upload(abs_path, remote_name)

    # -- connecting -----------------------------------------------------------------------
    @property
    def default_profile(self) -> str:
        return self.profiles.default_id()

    def _connect(self, port, baudrate, profile_id):
        profile = self.profiles.get(profile_id)
        self.sd_support = self.settings.get("feature.sdSupport")
        with self._lock:
            self.profile_id = profile_id
        candidates = self._candidates(port, baudrate)
        for candidate_port, candidate_baud in candidates:
            connection = self._open(candidate_port, candidate_baud, profile, detecting=len(candidates) > 1)
            if connection is not None:
                return
        self.listener.on_error("No printer answered on any port and baud rate tried")

    def _candidates(self, port, baudrate):
        ports = [port] if port != "AUTO" else discover_ports(self.settings.get("serial.additionalPorts"))
        bauds = [baudrate] if baudrate else list(DETECT_BAUDRATES if len(ports) == 1 else (115200, 250000))
        return [(p, b) for p in ports for b in bauds]

    def _open(self, port, baudrate, profile, detecting):
        options = self._options(profile, detecting)
        target, closer = port, None
        if port in self.port_providers:
            target, closer = self.port_providers[port]()
        connection = Connection(target, baudrate, self.listener, options)
        connection.display_port = port
        with self._lock:
            self.connection = connection
            if closer:
                self._closers.append(closer)
        try:
            connection.open()
        except NotOperational:
            return None
        if not detecting:
            return connection
        if connection.wait_operational(options.connect_timeout * 3):
            return connection
        self.rpc_disconnect()
        return None

    def _options(self, profile, detecting) -> ConnectionOptions:
        get = self.settings.get
        return ConnectionOptions(
            connect_timeout=2.0 if detecting else get("serial.timeoutConnection"),
            comm_timeout=get("serial.timeoutCommunication"),
            send_ahead=get("serial.sendAhead"),
            rx_buffer=get("serial.rxBufferSize"),
            disconnect_on_errors=get("serial.disconnectOnErrors"),
            tool_count=profile["extruder"]["count"],
            heated_bed=profile["heatedBed"],
            heated_chamber=profile["heatedChamber"],
        )

    def autoconnect(self) -> None:
        if self.settings.get("serial.autoconnect"):
            try:
                self.rpc_connect()
            except Exception as exc:  # a bad saved port must not stop the daemon
                log.error("autoconnect failed: %s", exc)

    def shutdown(self) -> None:
        self.rpc_disconnect()
        self.chores.stop()

    # -- state ------------------------------------------------------------------------------
    def _operational(self) -> Connection:
        connection = self.connection
        if connection is None or not connection.operational:
            raise NotOperational("Printer is not operational")
        return connection

    def changed(self) -> None:
        if self.publisher is not None:
            self.publisher.changed()

    def event(self, name, payload=None) -> None:
        if self.publisher is not None:
            self.publisher.event(name, payload)

    def mark(self, kind: str, label: str, *, fire: bool = True) -> None:
        """A chart marking (OctoPrint's ChartMarked), in every following snapshot."""
        marking = self.temperatures.mark(kind, label)
        if fire:
            self.event(events.CHART_MARKED, {"type": kind, "label": label, "time": marking["time"]})
        self.changed()

    def snapshot(self) -> Snapshot:
        connection = self.connection
        machine = connection.machine if connection else None
        sd_ready = bool(self.sd_ready and self.sd_support)
        if machine is None:
            state = PrinterState()
        else:
            state = PrinterState(machine.state.state_id, machine.text, machine.error or "",
                                 machine.flags(sd_ready=sd_ready))
        job, progress = self.job.snapshot()
        return Snapshot(
            seq=next(self._sequence),
            state=state,
            connection=ConnectionInfo(getattr(connection, "display_port", None),
                                      connection.baudrate if connection else None,
                                      self.profile_id or self.default_profile),
            temperatures=self.temperatures.current(),
            sd_ready=sd_ready,
            firmware=dict(connection.firmware) if connection else {},
            capabilities=dict(connection.capabilities) if connection else {},
            resends=_resend_stats(connection),
            busy_files=self.job.busy_files(),
            sd_files=tuple(self.rpc_sd_files()),
            job=job,
            progress=progress,
            current_z=self.listener.current_z,
            markings=self.temperatures.markings(),
            log_count=self.terminal.count,
        )


def _open_history(basedir):
    return PrintHistory(Database(Path(basedir) / "history.json"))


def _resend_stats(connection) -> Resends:
    if connection is None:
        return Resends()
    count, sent = connection.stats["resends"], connection.stats["transmitted"]
    return Resends(count, sent, int(100 * count / sent) if sent else 0)
