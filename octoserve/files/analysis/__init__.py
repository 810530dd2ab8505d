"""G-code analysis: print time from a simulation of the firmware's planner, filament, size, the slicer's own figures.

Kept light to import: the web process runs it as ``python -m octoserve.files.analysis FILE`` in a child
process, and ``octoserve analyse`` must answer in a fraction of a second.
"""
from time import perf_counter

from octoserve.errors import Invalid


class AnalysisError(Invalid):
    """The file cannot be analysed: missing, unreadable, or not G-code."""


def analyse(path, profile: dict | None = None, *, backend: str | None = None, timings: dict | None = None) -> dict:
    """OctoPrint's gcodeAnalysis of a G-code file, plus "slicer": what the file's comments say.

    profile: a printer profile (octoserve.printer.profiles shape); its axis speeds cap the feed rates
    unless the file sets its own (M203). backend: "c", "python" or None for the fastest available.
    timings, when given, receives the seconds each phase took.
    """
    from octoserve.files.analysis import engine

    phases = {} if timings is None else timings
    started = perf_counter()
    result = engine.analyse_file(path, profile, backend, phases)
    phases["total"] = perf_counter() - started
    return result
