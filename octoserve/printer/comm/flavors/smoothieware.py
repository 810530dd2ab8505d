"""Smoothieware: reports the first hotend as `T:` beside `T1:`; otherwise Marlin-like."""
from octoserve.printer.comm.flavors import Flavor

MARKERS = ("smoothieware",)
FLAVOR = Flavor("smoothieware", ok_after_resend=True)
