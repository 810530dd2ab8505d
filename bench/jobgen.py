"""Synthetic G-code for the benchmarks: a streaming job of N unique segments, and big upload files."""
import math
import os

HEADER = [
    "; octoserve benchmark job: {segments} segments",
    "G21 ; millimetres",
    "G90",
    "M82",
    "M107",
    "G28",
    "G92 E0",
    "G1 Z0.2 F3000",
    "G1 F2400",
]
FOOTER = ["G1 Z10 F3000", "M84"]


def segment_lines(segments: int, start_e: float = 0.0):
    """Short moves around circles of growing radius, PrusaSlicer style (`G1 X.. Y.. E..`).

    E only grows, so no two lines are the same: a duplicated or skipped line cannot hide.
    """
    e = start_e
    for i in range(segments):
        angle = i * 0.05
        radius = 20.0 + (i // 126) * 0.45
        x = 110.0 + radius * math.cos(angle)
        y = 110.0 + radius * math.sin(angle)
        e += 0.03327
        yield f"G1 X{x:.3f} Y{y:.3f} E{e:.5f}"


def write_job(path: str, segments: int, layer_every: int = 0, footer: bool = True) -> str:
    """The job; with ``layer_every``, a ``G1 Z..`` (a new layer: a ZChange event) before every that many segments.

    ``footer=False`` leaves out the closing ``M84``: a job that is cancelled part way (whose cancel
    script sends one) must not look as if a job line came out of place.
    """
    with open(path, "w") as f:
        for line in HEADER:
            f.write(line.format(segments=segments) + "\n")
        for index, line in enumerate(segment_lines(segments)):
            if layer_every and index % layer_every == 0:
                f.write(f"G1 Z{0.2 + 0.2 * (index // layer_every + 1):.3f}\n")
            f.write(line + "\n")
        for line in FOOTER if footer else ():
            f.write(line + "\n")
    return path


def write_big(path: str, size_bytes: int) -> str:
    """A G-code file of at least `size_bytes` (uploads only: nobody prints it)."""
    block = "\n".join(segment_lines(20000)).encode() + b"\n"
    with open(path, "wb") as f:
        f.write(b"; octoserve benchmark upload file\nG21\nG90\nM82\nG92 E0\n")
        while f.tell() < size_bytes:
            f.write(block)
    return path


if __name__ == "__main__":
    import sys
    target = sys.argv[1] if len(sys.argv) > 1 else "bench-job.gcode"
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    write_job(target, count)
    print(target, os.path.getsize(target), "bytes")
