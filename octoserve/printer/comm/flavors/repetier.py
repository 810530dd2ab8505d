"""Repetier firmware: requires a checksum on every line; acks carry the line number (`ok 12`)."""
from octoserve.printer.comm.flavors import Flavor

MARKERS = ("repetier",)
FLAVOR = Flavor("repetier", ok_after_resend=True, always_checksum=True)
