"""What travels through the send queue: lanes, outgoing lines, resend verdicts, M110 targets."""
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, IntEnum

_M110 = ("M110", "m110")
_N_ARGUMENT = re.compile(r"[Nn]\s*(-?\d+)")


class Lane(IntEnum):
    EMERGENCY = 0
    COMMAND = 1
    JOB = 2


@dataclass(slots=True)
class Outgoing:
    data: bytes  # exact wire bytes; b"" for a marker (and for a numbered line until it is sent)
    command: str
    number: int | None
    lane: Lane
    marker: Callable[[], object] | None = None
    sent_at: float = 0.0  # set by the connection when written: the round trip to its ok is measured


class ResendResult(Enum):
    REWOUND = "rewound"  # lines from n on go again, byte-identical, before anything else
    DUPLICATE = "duplicate"  # an echo of a line that was in flight behind the bad one
    STALE = "stale"  # n was never sent: nothing to do
    UNAVAILABLE = "unavailable"  # n left the history: nothing else may go out under n
    STUCK = "stuck"  # the firmware keeps asking for n without taking anything


def m110_target(command: str, next_number: int | None = None) -> int | None:
    """The number an `M110` sets the firmware's last line to (Marlin: the last N wins), or None."""
    if not command.startswith(_M110) or command[4:5].isdigit():
        return None
    found = _N_ARGUMENT.findall(command, 4)
    return int(found[-1]) if found else next_number
