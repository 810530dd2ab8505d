"""Prusa-Firmware (MK3, MK2.5): Marlin 1.x based, lower-case SD names, checksums on everything."""
from octoserve.printer.comm.flavors import Flavor

MARKERS = ("prusa-firmware", "prusa firmware")
FLAVOR = Flavor("prusa", ok_after_resend=True, always_checksum=True, sd_lower_case=True)
