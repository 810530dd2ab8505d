"""Reading the file chunk by chunk and running the phases on each: parse (C or Python), plan, comments; the report."""
import os
import re
from array import array
from time import perf_counter

from octoserve.files.analysis import AnalysisError, planner, report, scan, slicer
from octoserve.files.analysis.machine import Machine

try:
    from octoserve.files.analysis import _speedups
except ImportError:  # not compiled (a source checkout): the pure-Python path gives the same results
    _speedups = None

PURE_VARIABLE = "OCTOSERVE_ANALYSIS_PURE"  # set to 1 to use the pure-Python path even when C is there
CHUNK = 1 << 20  # bytes read at a time: memory stays flat however big the file
_SNIFF = 4096  # bytes looked at to tell G-code from binary data
_COMMAND = re.compile(rb"(?m)^[ \t]*(?:N\d+[ \t]*)?[GMT]\d")


class CKernel:
    """The planner's kernels in C: blocks and pending blocks as packed doubles (5 and 4 per block)."""

    def __init__(self, module):
        self.module = module

    @staticmethod
    def new_pending():
        return array("d")

    @staticmethod
    def count(blocks):
        return len(blocks) // 5

    def prepare(self, pending, blocks, start, end, limits, changes, previous):
        packed, previous = self.module.prepare(blocks, start, end, limits, changes, previous)
        pending.frombytes(packed)
        return previous

    def finalise(self, pending, entry, exit_squared):
        seconds, settled, entry = self.module.finalise(pending, entry, exit_squared)
        del pending[:4 * settled]
        return seconds, settled, entry


def available_backends() -> list:
    return (["c"] if _speedups is not None else []) + ["python"]


def default_backend() -> str:
    return "c" if _speedups is not None and not os.environ.get(PURE_VARIABLE) else "python"


def kernel(backend: str):
    return CKernel(_speedups) if backend == "c" else planner.PythonKernel()


def analyse_file(path, profile: dict | None, backend: str | None, phases: dict) -> dict:
    backend = backend or default_backend()
    if backend not in available_backends():
        raise AnalysisError(f"analysis backend {backend!r} is not available")
    started = perf_counter()
    machine = Machine(profile, flat=backend == "c")
    motion = planner.Planner(machine.limits, kernel(backend))
    info, spent, seen = {}, {"parse": 0.0, "plan": 0.0, "comments": 0.0}, {"text": False, "commands": False}
    for chunk in _chunks(path):
        _sniff(path, chunk, seen)
        at = perf_counter()
        _parse(chunk, machine, backend)
        parsed = perf_counter()
        motion.feed(machine.blocks, machine.events, machine.offset)
        machine.next_chunk()
        planned = perf_counter()
        slicer.read(chunk, info)
        spent["parse"], spent["plan"] = spent["parse"] + parsed - at, spent["plan"] + planned - parsed
        spent["comments"] += perf_counter() - planned
    if seen["text"] and not seen["commands"]:
        raise AnalysisError(f"{path}: not a G-code file (no G, M or T commands)")
    at = perf_counter()
    seconds = motion.finish() + machine.dwell
    spent["plan"] += perf_counter() - at
    at = perf_counter()
    result = report.result(machine, seconds, info)
    if not _finite(result):
        raise AnalysisError(f"{path}: not a G-code file (coordinates that are not numbers)")
    spent["report"] = perf_counter() - at
    phases.update(backend=backend, read=perf_counter() - started - sum(spent.values()), **spent,
                  blocks=machine.offset)
    return result


def _chunks(path):
    """The file in pieces of whole lines (the last may lack its newline)."""
    try:
        with open(path, "rb") as handle:
            carry = b""
            while True:
                piece = handle.read(CHUNK)
                if not piece:
                    if carry:
                        yield carry
                    return
                piece = carry + piece if carry else piece
                cut = piece.rfind(b"\n") + 1
                carry = piece[cut:]
                if cut:
                    yield piece[:cut]
    except FileNotFoundError:
        raise AnalysisError(f"{path}: no such file") from None
    except OSError as exc:
        raise AnalysisError(f"{path}: cannot read it ({exc.strerror or exc})") from None


def _sniff(path, chunk: bytes, seen: dict) -> None:
    if not seen["text"]:
        head = chunk[:_SNIFF]
        if b"\0" in head or sum(b < 9 or 13 < b < 32 for b in head) > 40:
            raise AnalysisError(f"{path}: not a G-code file (binary data)")
        seen["text"] = bool(chunk.strip())
    if not seen["commands"]:
        seen["commands"] = _COMMAND.search(chunk) is not None


def _parse(chunk: bytes, machine: Machine, backend: str) -> None:
    if backend == "c":
        _run_c(chunk, machine)
    else:
        scan.run(chunk.decode("latin-1"), machine)


def _run_c(data: bytes, machine: Machine) -> None:
    """The C scanner takes runs of plain lines; each other line goes to Machine.command, as in scan.run."""
    state = array("d", machine.pack())
    position, size = 0, len(data)
    while position < size:
        position, packed = _speedups.scan(data, position, state)
        machine.blocks.frombytes(packed)
        if position < size:
            end = data.find(b"\n", position)
            end = size if end < 0 else end
            machine.unpack(state)
            machine.command(data[position:end].decode("latin-1"))
            state = array("d", machine.pack())
            position = end + 1
    machine.unpack(state)


def parse(data: bytes, profile: dict | None, backend: str) -> Machine:
    """The machine after all of data in one piece: its blocks, events, boxes and extrusion (for tests)."""
    machine = Machine(profile, flat=backend == "c")
    _parse(data, machine, backend)
    return machine


def plan(machine: Machine, backend: str) -> float:
    """Seconds of motion for the blocks of parse() in one go (for tests)."""
    return planner.plan(machine.blocks, machine.events, machine.initial_limits, kernel(backend))


def _finite(value) -> bool:
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    return not isinstance(value, float) or value - value == 0.0
