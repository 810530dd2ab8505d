"""What the daemon does with what the connection reports: state, temperatures, terminal, SD, events."""
import logging
import re

from octoserve import events
from octoserve.printer.comm.responses import Error, SdKind
from octoserve.printer.comm.state import State
from octoserve.printer.sent_commands import SentCommands

log = logging.getLogger(__name__)

_TARGET = re.compile(r"^(M104|M109|M140|M190|M141|M191)\b(?:.*?\bT(\d+))?.*?\b[SR](-?\d+(?:\.\d+)?)", re.I)
_HEATER_OF = {"M140": "bed", "M190": "bed", "M141": "chamber", "M191": "chamber"}
_SD_GONE = (SdKind.CARD_RELEASED, SdKind.CARD_INIT_FAILED, SdKind.NO_CARD)
_CARD_FAILURE = re.compile(r"volume\.init|openroot|init fail", re.I)


class ServiceListener:
    """The Connection's listener: every call comes from a comm thread, so each one is short."""

    def __init__(self, service):
        self.s = service
        self.commands = SentCommands(service.event)

    @property
    def current_z(self):
        return self.commands.current_z

    # -- state ----------------------------------------------------------------------------
    def on_state(self, state: State, error) -> None:
        service = self.s
        if state in (State.ERROR, State.CLOSED, State.CLOSED_WITH_ERROR):
            service.job.abandoned()
        service.event(events.PRINTER_STATE_CHANGED, {"state_id": state.state_id, "state_string": state.text})
        if state is State.PRINTING:
            service.mark("printing", "Printing")
        if state is State.CLOSED:
            service.sd_ready = False
            service.temperatures.clear()
            service.event(events.DISCONNECTED, None)
            service.mark("disconnected", "Disconnected", fire=False)
        service.changed()

    def on_connected(self) -> None:
        connection = self.s.connection
        if connection is None:
            return
        self.commands.reset()
        self.s.event(events.CONNECTED, {"port": getattr(connection, "display_port", connection.port),
                                        "baudrate": connection.baudrate})
        self.s.mark("connected", "Connected", fire=False)
        if self.s.sd_support:
            connection.send("M21")

    def on_error(self, error: str) -> None:
        self.s.terminal.note(f"Error: {error}")
        self.s.event(events.ERROR, {"error": error, "reason": "firmware"})
        self.s.changed()

    def on_job_abandoned(self) -> None:
        self.s.job.abandoned()

    def on_reset(self, was_printing: bool) -> None:
        self.s.terminal.note("Printer reset detected" + (", job aborted" if was_printing else ""))
        self.s.event(events.PRINTER_RESET, {"idle": not was_printing})

    # -- traffic ----------------------------------------------------------------------------
    def on_sent(self, data: bytes) -> None:
        self.s.terminal.sent(data)
        self.commands.sent(data)

    def on_received(self, line: str) -> None:
        self.s.terminal.received(line)
        self.s.sdcard.on_received(line)

    def on_log_note(self, text: str) -> None:
        self.s.terminal.note(text)

    # -- reports ------------------------------------------------------------------------------
    def on_temperatures(self, readings: dict) -> None:
        self.s.temperatures.record(readings)
        self.s.changed()

    def current_targets(self):
        return self.s.temperatures.targets()

    def track_targets(self, commands) -> None:
        """Show targets the host sets at once, as OctoPrint does, before the firmware reports them."""
        for command in commands:
            match = _TARGET.match(command.strip())
            if not match:
                continue
            code, tool, value = match.group(1).upper(), match.group(2), float(match.group(3))
            heater = _HEATER_OF.get(code) or f"tool{int(tool) if tool is not None else self.commands.tool}"
            self.s.temperatures.set_target(heater, value)
        self.s.changed()

    def on_firmware(self, info: dict, capabilities: dict) -> None:
        self.s.event(events.FIRMWARE_DATA, {"name": info.get("FIRMWARE_NAME"), "data": dict(info)})
        self.s.changed()

    def on_capability(self, name: str) -> None:
        if name == "AUTOREPORT_SD_STATUS" and self.s.connection is not None:
            self.s.connection.send("M27 S1")

    def on_action(self, name: str, argument: str) -> None:
        self.s.terminal.note(f"Action: {name} {argument}".rstrip())
        self.s.event(events.ACTION_COMMAND, {"action": name, "argument": argument})

    def on_position(self, position) -> None:
        job = self.s.job
        if job.awaiting_position:
            job.awaiting_position = False
            job.pause_position = {"x": position.x, "y": position.y, "z": position.z, "e": position.e}
        self.s.event(events.POSITION_UPDATE, {"x": position.x, "y": position.y, "z": position.z, "e": position.e,
                                              "t": self.commands.tool, "f": None})

    def on_sd(self, message) -> None:
        """Card state from SD replies (SdMessage) and SD errors (Error of kind SD)."""
        kind = getattr(message, "kind", None)
        if isinstance(kind, SdKind):
            self.s.sdcard.on_message(message)
        if kind is SdKind.CARD_OK:
            self.s.sd_ready = True
        elif kind in _SD_GONE or (isinstance(message, Error) and _CARD_FAILURE.search(message.text)):
            self.s.sd_ready = False
        else:
            return
        self.s.changed()
