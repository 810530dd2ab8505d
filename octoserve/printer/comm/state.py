"""The connection's states (OctoPrint's ids and display strings), which may follow which, and the API flags."""
from dataclasses import dataclass
from enum import Enum


class State(Enum):
    """Value: OctoPrint's state id (`PrinterStateChanged.state_id`); `.text`: its display string."""

    OFFLINE = ("OFFLINE", "Offline")
    OPENING = ("OPEN_SERIAL", "Opening serial connection")
    DETECTING = ("DETECT_SERIAL", "Detecting serial connection")
    CONNECTING = ("CONNECTING", "Connecting")
    OPERATIONAL = ("OPERATIONAL", "Operational")
    STARTING = ("STARTING", "Starting")
    PRINTING = ("PRINTING", "Printing")
    PAUSING = ("PAUSING", "Pausing")
    PAUSED = ("PAUSED", "Paused")
    RESUMING = ("RESUMING", "Resuming")
    FINISHING = ("FINISHING", "Finishing")
    CANCELLING = ("CANCELLING", "Cancelling")
    ERROR = ("ERROR", "Error")
    CLOSED = ("CLOSED", "Offline")
    CLOSED_WITH_ERROR = ("CLOSED_WITH_ERROR", "Offline after error")
    TRANSFERRING_FILE = ("TRANSFERING_FILE", "Transferring file to SD")  # sic: OctoPrint's id

    def __new__(cls, state_id: str, text: str):
        member = object.__new__(cls)
        member._value_ = state_id
        member.text = text
        return member

    @property
    def state_id(self) -> str:
        return self.value


_S = State
OPERATIONAL_STATES = frozenset({_S.OPERATIONAL, _S.STARTING, _S.PRINTING, _S.PAUSING, _S.PAUSED, _S.RESUMING,
                                _S.FINISHING, _S.CANCELLING, _S.TRANSFERRING_FILE})
PRINTING_STATES = frozenset({_S.STARTING, _S.PRINTING, _S.PAUSING, _S.RESUMING, _S.FINISHING, _S.CANCELLING})
BUSY_STATES = PRINTING_STATES | {_S.PAUSED}
ERROR_STATES = frozenset({_S.ERROR, _S.CLOSED_WITH_ERROR})
CLOSED_OR_ERROR_STATES = frozenset({_S.OFFLINE, _S.CLOSED}) | ERROR_STATES
# A job is under way: the SD qualifiers mean something only here.
JOB_STATES = BUSY_STATES | {_S.TRANSFERRING_FILE}

# Reachable from anywhere: an error, or the port going away.
ALWAYS = frozenset({_S.ERROR, _S.CLOSED, _S.CLOSED_WITH_ERROR})
TRANSITIONS = {
    _S.OFFLINE: {_S.OPENING, _S.DETECTING},
    # Autodetection moves between trying ports/baud rates and opening/handshaking one of them.
    _S.DETECTING: {_S.OPENING, _S.CONNECTING},
    _S.OPENING: {_S.DETECTING, _S.CONNECTING},
    _S.CONNECTING: {_S.DETECTING, _S.OPERATIONAL},
    # PRINTING directly: an SD print started from the printer's own display.
    _S.OPERATIONAL: {_S.STARTING, _S.PRINTING, _S.TRANSFERRING_FILE},
    # OPERATIONAL: the start failed before anything was sent (file gone, SD refused it).
    _S.STARTING: {_S.PRINTING, _S.CANCELLING, _S.OPERATIONAL},
    # PAUSED directly: `//action:paused` from the firmware, which pauses without the host's help.
    _S.PRINTING: {_S.PAUSING, _S.PAUSED, _S.CANCELLING, _S.FINISHING},
    _S.PAUSING: {_S.PAUSED, _S.CANCELLING},
    # PRINTING directly: `//action:resumed` from the firmware.
    _S.PAUSED: {_S.RESUMING, _S.PRINTING, _S.CANCELLING},
    _S.RESUMING: {_S.PRINTING, _S.PAUSING, _S.CANCELLING},
    _S.FINISHING: {_S.OPERATIONAL},
    _S.CANCELLING: {_S.OPERATIONAL},
    _S.TRANSFERRING_FILE: {_S.OPERATIONAL, _S.CANCELLING},
    _S.ERROR: set(),
    _S.CLOSED: {_S.OPENING, _S.DETECTING},
    _S.CLOSED_WITH_ERROR: {_S.OPENING, _S.DETECTING},
}


class InvalidTransition(Exception):
    def __init__(self, current: State, target: State):
        super().__init__(f"cannot go from {current.text!r} ({current.value}) to {target.text!r} ({target.value})")
        self.current = current
        self.target = target


def can_transition(current: State, target: State) -> bool:
    """Whether `target` may follow `current`; staying in a state is not a transition."""
    return current is not target and (target in ALWAYS or target in TRANSITIONS[current])


class StateMachine:
    """The current state with its error text and the qualifiers of the job (SD print, upload to SD)."""

    def __init__(self, state: State = State.OFFLINE):
        self.state = state
        self.error = ""
        self.sd = False  # the job is a print from the printer's SD card
        self.streaming = False  # the job is an upload to the SD card

    def transition(self, to: State, error: str | None = None, *, sd: bool | None = None,
                   streaming: bool | None = None) -> bool:
        """Move to `to`; False if already there (error text and qualifiers still update).

        `error` belongs to ERROR and CLOSED_WITH_ERROR only; moving to a state that is neither
        clears it. Leaving the job states resets `sd` and `streaming`.
        """
        if error is not None and to not in ERROR_STATES:
            raise ValueError(f"an error text needs an error state, not {to.value}")
        changed = to is not self.state
        if changed and not can_transition(self.state, to):
            raise InvalidTransition(self.state, to)
        self.state = to
        if error is not None:
            self.error = error
        elif to not in ERROR_STATES:
            self.error = ""
        if to in JOB_STATES:
            self.sd = self.sd if sd is None else sd
            self.streaming = self.streaming if streaming is None else streaming
        else:
            self.sd = self.streaming = False
        return changed

    @property
    def state_id(self) -> str:
        return self.state.value

    @property
    def text(self) -> str:
        """The display string, with OctoPrint's SD variants for STARTING and PRINTING."""
        if self.state is State.PRINTING:
            if self.sd:
                return "Printing from SD"
            if self.streaming:
                return "Sending file to SD"
        elif self.state is State.STARTING:
            if self.sd:
                return "Starting print from SD"
            if self.streaming:
                return "Starting to send file to SD"
        return self.state.text

    def flags(self, sd_ready: bool = False) -> "Flags":
        """`/api/printer` state.flags; `sd_ready`: SD support is on and the card is initialised."""
        state = self.state
        operational = state in OPERATIONAL_STATES
        return Flags(
            operational=operational,
            printing=state in PRINTING_STATES,
            cancelling=state is State.CANCELLING,
            pausing=state is State.PAUSING,
            resuming=state is State.RESUMING,
            finishing=state is State.FINISHING,
            closed_or_error=state in CLOSED_OR_ERROR_STATES,
            error=state in ERROR_STATES,
            paused=state is State.PAUSED,
            ready=(operational and state not in BUSY_STATES and state is not State.TRANSFERRING_FILE
                   and not self.streaming),
            sd_ready=sd_ready,
        )


@dataclass(frozen=True, slots=True)
class Flags:
    """OctoPrint's state flags. The defaults are a printer that is not connected."""

    operational: bool = False
    printing: bool = False
    cancelling: bool = False
    pausing: bool = False
    resuming: bool = False
    finishing: bool = False
    closed_or_error: bool = True
    error: bool = False
    paused: bool = False
    ready: bool = False
    sd_ready: bool = False

    def to_api(self) -> dict:
        """As GET /api/printer and the push API write them, in OctoPrint's order."""
        return {"operational": self.operational, "printing": self.printing, "cancelling": self.cancelling,
                "pausing": self.pausing, "resuming": self.resuming, "finishing": self.finishing,
                "closedOrError": self.closed_or_error, "error": self.error, "paused": self.paused,
                "ready": self.ready, "sdReady": self.sd_ready}

    @classmethod
    def from_api(cls, data: dict) -> "Flags":
        return cls(**{name: bool(data.get(key, default)) for name, key, default in _FLAG_KEYS})

    @property
    def active(self) -> bool:
        """A job is under way (printing, pausing, paused, resuming, finishing or cancelling)."""
        return self.printing or self.paused


_FLAG_KEYS = [(name, key, Flags.__dataclass_fields__[name].default)
              for name, key in zip(Flags.__dataclass_fields__, Flags().to_api(), strict=True)]
