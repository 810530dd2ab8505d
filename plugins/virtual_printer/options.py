"""Every knob of the virtual printer, with the defaults of a stock Marlin 2.1 board."""
import dataclasses
import uuid
from dataclasses import dataclass, field

FIRMWARE_VERSION = "2.1.3"


@dataclass
class Options:
    """Settings of one virtual printer; unknown names are refused so typos fail loudly."""

    # Acknowledgements and line rules
    advanced_ok: bool = False          # ADVANCED_OK: "ok N<n> P<p> B<b>"
    ok_after_resend: bool = True       # Marlin 2.1 sends "ok" after "Resend:"; 2.0.x does not
    ack_delay_ms: float = 0.0          # latency added to everything the firmware sends (USB model)
    rx_buffer: int | None = None    # bytes of unprocessed input held; the overflow is dropped
    resend_every: int = 0              # reject every n-th numbered line with a checksum error
    max_line: int = 96                 # MAX_CMD_SIZE: longer lines are truncated
    bufsize: int = 4                   # command slots, reported as B in ADVANCED_OK
    planner_blocks: int = 16           # planner size, reported as P in ADVANCED_OK
    emergency_parser: bool = True      # M108/M112/M410 acted on as soon as they are read

    # Boot
    reset_on_open: bool = True         # AVR boards reset when the port opens (DTR)
    boot_delay: float = 0.05           # seconds from reset to the banner
    drop_input_while_booting: bool = False  # bootloader swallows bytes sent before the banner

    # Machine
    ambient: float = 21.3
    heat_speed: float = 1.0            # time factor of the thermal model (100 = 100x faster)
    temp_residency: float = 0.0        # seconds M109/M190 wait once within the window
    has_chamber: bool = False
    home_time: float = 0.0             # seconds a G28 takes
    move_time: float = 0.0             # seconds each G0/G1 occupies the firmware (planner full)
    busy_interval: int = 2             # M113 default (HOST_KEEPALIVE_FEATURE)

    # SD card
    sd_card: bool = True               # a card is inserted
    sd_folder: str | None = None    # folder holding the card's files; default a temp dir

    # Identity
    machine_type: str = "Virtual"
    uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    capabilities: dict = field(default_factory=dict)   # overrides of the Cap: report

    # Bookkeeping
    record: bool = True                # keep printer.received

    def replace(self, **changes) -> "Options":
        return dataclasses.replace(self, **changes)

    @property
    def firmware_name(self) -> str:
        return f"Marlin {FIRMWARE_VERSION} (virtual)"
