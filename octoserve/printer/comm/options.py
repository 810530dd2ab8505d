"""The comm layer's tunables (timeouts, polling, send-ahead) with OctoPrint's defaults."""
from dataclasses import dataclass

LONG_RUNNING = frozenset({"G4", "G28", "G29", "G30", "G32", "M190", "M109", "M191", "M400", "M226", "M600", "M303"})
EMERGENCY = frozenset({"M112", "M108", "M410"})


@dataclass
class ConnectionOptions:
    connect_timeout: float = 10.0      # no reply to the hello for this long: send it again, then give up
    comm_timeout: float = 30.0         # no line, or no ok while lines are in flight
    busy_timeout: float = 3.0          # the above once the firmware sends busy: keep-alives
    max_timeouts_idle: int = 2
    max_timeouts_printing: int = 5
    temperature_interval: float = 5.0  # M105 polling period when the firmware does not auto-report
    temperature_interval_target: float = 2.0
    autoreport_interval: int = 2       # M155 S<n> when Cap:AUTOREPORT_TEMP:1
    resend_ok_wait: float = 0.5        # how long to wait for the ok that follows a Resend
    send_ahead: bool = True            # use a window when the firmware's acks say it may (ADVANCED_OK)
    rx_buffer: int = 0                 # bytes of the firmware's receive buffer to count against; 0 = off
    max_in_flight: int = 0             # cap on lines in flight with send-ahead; 0 = from the firmware's B
    hello: str = "M110 N0"
    disconnect_on_errors: bool = True
    send_m112_on_error: bool = True
    tool_count: int = 1
    heated_bed: bool = True
    heated_chamber: bool = False
