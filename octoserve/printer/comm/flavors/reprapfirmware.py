"""RepRapFirmware (Duet): answers ok after resend requests; SD paths relative to the card root."""
from octoserve.printer.comm.flavors import Flavor

MARKERS = ("reprapfirmware",)
FLAVOR = Flavor("reprapfirmware", ok_after_resend=True)
