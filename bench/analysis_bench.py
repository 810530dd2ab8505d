"""Times the whole `octoserve analyse FILE` process (start-up included) against bare `python -c pass`.

    python bench/analysis_bench.py [FILE] [-n RUNS]

Runs are interleaved (baseline, C, pure Python, ...) so that drift in the machine's speed hits all
alike; medians are printed, then the per-phase times of one in-process analysis with each backend.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCHY = Path(__file__).resolve().parent.parent / "tests" / "data" / "gcode" / "benchy-prusaslicer-2.2.gcode"
PURE_VARIABLE = "OCTOSERVE_ANALYSIS_PURE"


def octoserve_command() -> list:
    script = Path(sys.executable).with_name("octoserve")
    return [str(script)] if script.exists() else [sys.executable, "-m", "octoserve"]


def run_once(command: list, env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def whole_process(path: str, runs: int) -> dict:
    plain = {k: v for k, v in os.environ.items() if k != PURE_VARIABLE}
    cases = {
        "python -c pass (baseline)": ([sys.executable, "-c", "pass"], plain),
        "python -c 'import octoserve.cli'": ([sys.executable, "-c", "import octoserve.cli"], plain),
        "octoserve analyse (C)": (octoserve_command() + ["analyse", path], plain),
        "octoserve analyse (pure Python)": (octoserve_command() + ["analyse", path], {**plain, PURE_VARIABLE: "1"}),
        "python -m octoserve.files.analysis (C)": ([sys.executable, "-m", "octoserve.files.analysis", path], plain),
    }
    times = {name: [] for name in cases}
    for command, env in cases.values():
        run_once(command, env)  # warm the page cache and .pyc files
    for _ in range(runs):
        for name, (command, env) in cases.items():
            times[name].append(run_once(command, env))
    return {name: statistics.median(values) for name, values in times.items()}


def phases(path: str) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from octoserve.files.analysis import analyse, engine

    found = {}
    for backend in engine.available_backends():
        best = None
        for _ in range(5):
            timings = {}
            analyse(path, backend=backend, timings=timings)
            if best is None or timings["total"] < best["total"]:
                best = timings
        found[backend] = best
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", default=str(BENCHY))
    parser.add_argument("-n", "--runs", type=int, default=15)
    options = parser.parse_args()
    medians = whole_process(options.file, options.runs)
    baseline = medians["python -c pass (baseline)"]
    print(f"{Path(options.file).name}: median of {options.runs} runs, whole process")
    for name, seconds in medians.items():
        extra = "" if seconds is baseline else f"   (+{(seconds - baseline) * 1000:.0f} ms over the baseline)"
        print(f"  {name:42s} {seconds * 1000:7.1f} ms{extra}")
    print("in-process phases (best of 5), ms:")
    for backend, timings in phases(options.file).items():
        cells = "  ".join(f"{k} {v * 1000:.1f}" for k, v in timings.items() if isinstance(v, float))
        print(f"  {backend:7s} {cells}  ({timings['blocks']} blocks)")


if __name__ == "__main__":
    main()
