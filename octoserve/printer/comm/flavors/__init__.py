"""Firmware quirks as data: one small module per firmware, picked by the M115 FIRMWARE_NAME."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Flavor:
    """How one firmware family bends the protocol. Defaults are Marlin 2.1's behaviour."""

    name: str
    # The firmware sends `ok` after `Resend:` (Marlin 1.1 and 2.1 do, Marlin 2.0.x does not);
    # None means detect: wait for that ok briefly, release on any other line.
    ok_after_resend: bool | None = None
    # Number and checksum every line, not only job lines (Repetier refuses bare lines).
    always_checksum: bool = False
    # Line numbers and checksums are ignored by the firmware, so resends never happen (Klipper).
    ignores_line_numbers: bool = False
    # Commands the host does not recognise as G/M/T still get an `ok` (Klipper macros).
    unknown_commands_need_ack: bool = True
    # SD file names are reported in lower case (Prusa firmware).
    sd_lower_case: bool = False


GENERIC = Flavor("generic")


def detect(firmware_name: str | None) -> Flavor:
    """The flavor for a FIRMWARE_NAME value; unknown firmware gets Marlin-like defaults."""
    from octoserve.printer.comm.flavors import klipper, marlin, prusa, repetier, reprapfirmware, smoothieware

    name = (firmware_name or "").lower()
    for module in (prusa, klipper, reprapfirmware, smoothieware, repetier, marlin):
        if any(marker in name for marker in module.MARKERS):
            return module.FLAVOR
    return GENERIC
