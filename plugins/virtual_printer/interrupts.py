"""The events that unwind whatever the firmware is doing: a stop, a reboot, a kill, an unplug."""


class Interrupt(Exception):
    """Raised out of idle() so a blocking command (M109, G28, a dwell) ends on the spot."""


class Stopped(Interrupt):
    """The owner called stop(): the printer thread ends."""


class Rebooted(Interrupt):
    """The board reset (port opened with DTR, reset button, brown-out): state is gone.

    `data` is input that arrived together with the event; it belongs to the new life.
    """

    def __init__(self, data: bytes = b""):
        super().__init__()
        self.data = data


class Killed(Interrupt):
    """kill() was called (M112, a thermal fault): the firmware stays dead until a reset."""


class Unplugged(Interrupt):
    """The line was hung up: nothing can be read or written any more."""
