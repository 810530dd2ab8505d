"""Marlin: the reference behaviour; 2.0.x omits the ok after a resend request."""
from octoserve.printer.comm.flavors import Flavor

MARKERS = ("marlin",)
FLAVOR = Flavor("marlin")
