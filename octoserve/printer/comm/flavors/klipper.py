"""Klipper: strips N and checksums, never asks for a resend, acks its extended macro commands."""
from octoserve.printer.comm.flavors import Flavor

MARKERS = ("klipper",)
FLAVOR = Flavor("klipper", ok_after_resend=True, ignores_line_numbers=True, unknown_commands_need_ack=True)
