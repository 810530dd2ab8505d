"""The bundled virtual printer: a Marlin 2.1-like firmware behind a real pseudo-terminal."""
from .faults import DEBUG_COMMANDS, Faults
from .options import Options
from .printer import VirtualPrinter
from .standalone import main, run_link

__all__ = ["DEBUG_COMMANDS", "Faults", "Options", "VirtualPrinter", "main", "run_link"]
