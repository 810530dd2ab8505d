"""Benchmark octoserve (and, with --reference, OctoPrint 1.11.8) and print a table of medians and ratios.

    python bench/run.py [--reference] [--runs N] [--quick] [--write-docs] [--only stream,upload,...]

Run by hand, never by the test suite. Every process it starts runs in its own process group and is
stopped on exit, Ctrl-C included. See docs/benchmarks.rst for what each figure means.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import jobgen  # noqa: E402
import procs  # noqa: E402
import push_scenarios  # noqa: E402
import report  # noqa: E402
import scenarios  # noqa: E402
from hosts import OctoPrint, Octoserve, Unsupported, ensure_octoprint_venv, multipart  # noqa: E402

REPO = os.path.dirname(HERE)
BENCHY = os.path.join(REPO, "tests", "data", "gcode", "benchy-prusaslicer-2.2.gcode")  # in the repository
MEASURES = ("analysis", "startup", "memory", "stream", "rest", "push", "push1ms", "stall", "upload")


def log(*args):
    print(time.strftime("%H:%M:%S"), *args, file=sys.stderr, flush=True)


def machine() -> dict:
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--", "octoserve", "plugins"],
                           capture_output=True, text=True).stdout.strip()
    return {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "nproc": os.cpu_count(), "cpu": model,
            "python": platform.python_version(), "kernel": platform.release(),
            "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
            "octoserve_commit": commit + (" (with uncommitted changes)" if dirty else "")}


class Bench:
    def __init__(self, args):
        self.args = args
        self.workdir = tempfile.mkdtemp(prefix="octoserve-bench-")
        self.results = {"meta": machine(), "settings": {}, "runs": {}, "skipped": {}}
        self.hosts = []

    # -- bookkeeping ---------------------------------------------------------------------------
    def add(self, host, measure, value):
        self.results["runs"].setdefault(host.name, {}).setdefault(measure, []).append(value)

    def skip(self, host, measure, reason):
        self.results["skipped"].setdefault(host.name, {})[measure] = str(reason)
        log(f"SKIP {host.name} {measure}: {reason}")

    def skipped(self, host, measure) -> bool:
        return measure in self.results["skipped"].get(host.name, {})

    def attempt(self, host, measure, fn, *args):
        """Run one measurement; Unsupported skips the measure for this host, other errors are recorded."""
        if self.skipped(host, measure):
            return None
        try:
            value = fn(*args)
        except Unsupported as exc:
            self.skip(host, measure, exc)
            return None
        except Exception as exc:  # noqa: BLE001 - one failed measurement must not end the others
            log(f"FAIL {host.name} {measure}: {exc}")
            self.results.setdefault("failures", []).append(
                {"host": host.name, "measure": measure, "error": str(exc), "trace": traceback.format_exc()[-2000:]})
            return None
        self.add(host, measure, value)
        return value

    # -- the run -------------------------------------------------------------------------------
    def run(self):
        a = self.args
        segments = 5000 if a.quick else a.segments
        runs = 1 if a.quick else a.runs
        self.results["settings"] = {"segments": segments, "runs": runs, "upload_mb": a.upload_mb,
                                    "advanced_ok": not a.plain_ok, "reference": a.reference,
                                    "poller_nice": a.poller_nice, "quiet_wait": a.quiet_wait}
        log(f"work directory {self.workdir}")
        job = jobgen.write_job(os.path.join(self.workdir, "job.gcode"), segments)
        scenarios.QUIET_TIMEOUT = a.quiet_wait
        if a.no_pin:
            procs.SERVER_CPUS = procs.LOAD_CPUS = None
        ctx = scenarios.Context(self.workdir, job, advanced_ok=not a.plain_ok, job_timeout=a.job_timeout,
                                poller_nice=a.poller_nice, log=log)
        ctx.push_job_path = jobgen.write_job(os.path.join(self.workdir, "push-job.gcode"),
                                             50_000 if a.quick else a.push_segments, layer_every=2000,
                                             footer=False)
        self.hosts = [Octoserve(self.workdir, ctx.link_glob, python=a.octoserve_python)]
        if a.reference:
            venv = ensure_octoprint_venv(a.reference_venv, log=log)
            self.hosts.append(OctoPrint(self.workdir, ctx.link_glob, venv))
        for host in self.hosts:
            log(f"preparing {host.name} in {host.basedir}")
            host.prepare()
        only = set(a.only.split(",")) if a.only else set(MEASURES)

        if "analysis" in only:
            for i in range(runs):
                for host in self.hosts:
                    value = self.attempt(host, "analysis", scenarios.analysis, host, a.benchy)
                    if value:
                        log(f"analysis {host.name} run {i + 1}: {value['seconds']:.3f} s")
                    if isinstance(host, Octoserve) and value:
                        # octoserve's analysis has an optional C kernel; a board without a compiler
                        # gets the pure-Python path, which this variable forces.
                        value = self.attempt(host, "analysis-pure", scenarios.analysis, host, a.benchy,
                                             {"OCTOSERVE_ANALYSIS_PURE": "1"})
                        if value:
                            log(f"analysis (pure Python) {host.name} run {i + 1}: {value['seconds']:.3f} s")
        if "startup" in only:
            for host in self.hosts:  # a first start writes caches: not counted
                self.attempt(host, "startup-warmup", scenarios.startup, host)
            for i in range(runs):
                for host in self.hosts:
                    value = self.attempt(host, "startup", scenarios.startup, host)
                    if value:
                        log(f"startup {host.name} run {i + 1}: {value['seconds']:.2f} s")
        if not only & {"memory", "stream", "rest", "push", "push1ms", "stall", "upload"}:
            return
        for host in self.hosts:
            log(f"starting {host.name}")
            host.start()
        if "memory" in only:
            for host in self.hosts:
                value = self.attempt(host, "memory", scenarios.idle_memory, ctx, host)
                if value:
                    log(f"idle memory {host.name}: PSS {value['pss_mb']:.1f} MB, RSS {value['rss_mb']:.1f} MB")
        if "stream" in only:
            self.streaming(ctx, runs, a.scenarios.split(","))
        self.push_load(ctx, runs, only)
        if "upload" in only:
            self.uploads(runs)
        for host in self.hosts:
            host.stop()

    def streaming(self, ctx, runs, names):
        ready = []
        for host in self.hosts:
            try:
                scenarios.upload_job(host, ctx.job_path)
                ready.append(host)
            except Unsupported as exc:
                for name in names:
                    self.skip(host, f"stream-{name}", exc)
            except Exception as exc:  # noqa: BLE001
                log(f"FAIL {host.name} job upload: {exc}")
                for name in names:
                    self.skip(host, f"stream-{name}", f"job upload failed: {exc}")
        for i in range(runs):
            for name in names:
                for host in ready:
                    value = self.attempt(host, f"stream-{name}", scenarios.stream, ctx, host, name)
                    if value:
                        rate = value.get("lines_per_s")
                        log(f"{name} {host.name} run {i + 1}: {rate or 0:.0f} lines/s, "
                            f"{value['job_lines_accepted']}/{value['expected_job_lines']} job lines, "
                            f"intact={value['intact']}"
                            + (f", {value['poll_requests_per_s']:.0f} polls/s"
                               if 'poll_requests_per_s' in value else "")
                            + ("" if value["intact"] else f" problems={value.get('problem_texts')} "
                                                          f"end={value.get('host_state_at_end')}"))

    def push_load(self, ctx, runs, only):
        a = self.args
        if "rest" in only:
            for i in range(runs):
                for host in self.hosts:
                    value = self.attempt(host, "rest", push_scenarios.rest, ctx, host)
                    if value:
                        log(f"rest {host.name} run {i + 1}: {value['requests_per_s']:.0f} req/s, "
                            f"p99 {value['latency_ms']['p99']:.1f} ms")
        wanted = [m for m in ("push", "push1ms", "stall") if m in only]
        if not wanted:
            return
        for host in self.hosts:
            scenarios.upload_job(host, ctx.push_job_path, push_scenarios.PUSH_JOB_NAME)
        for i in range(runs):
            for host in self.hosts:
                if "push" in wanted:
                    value = self.attempt(host, "push", push_scenarios.push, ctx, host, a.push_clients,
                                         a.push_clients // 4, 1, a.push_seconds)
                    if value:
                        log(f"push {host.name} run {i + 1}: {value}")
                if "push1ms" in wanted:  # the same with every ack 1 ms late: a native-USB board
                    value = self.attempt(host, "push1ms", push_scenarios.push, ctx, host, a.push_clients,
                                         a.push_clients // 4, 1, a.push_seconds, ["--ack-delay", "1"])
                    if value:
                        log(f"push1ms {host.name} run {i + 1}: {value}")
                if "stall" in wanted:
                    value = self.attempt(host, "stall", push_scenarios.stall, ctx, host, a.stall_seconds)
                    if value:
                        log(f"stall {host.name} run {i + 1}: {value}")

    def uploads(self, runs):
        a = self.args
        path = jobgen.write_big(os.path.join(self.workdir, "upload.gcode"), int(a.upload_mb * 1024 * 1024))
        body = multipart(path, scenarios.UPLOAD_NAME)
        for i in range(runs):
            for host in self.hosts:
                value = self.attempt(host, "upload", scenarios.upload, host, path, body)
                if value:
                    log(f"upload {host.name} run {i + 1}: {value['seconds']:.3f} s, "
                        f"RSS +{value['rss_growth_mb']:.1f} MB (peak {value['rss_peak_mb']:.1f} MB)")

    def cleanup(self):
        for host in self.hosts:
            try:
                host.stop()
            except Exception:  # noqa: BLE001
                pass
        procs.stop_all()
        if not self.args.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reference", action="store_true",
                        help="also run OctoPrint 1.11.8 (own venv) and print ratios")
    parser.add_argument("--reference-venv", default="/tmp/octoprint-ref",
                        help="throwaway venv for OctoPrint (made with pip install OctoPrint==1.11.8 if missing)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each measurement (medians are reported)")
    parser.add_argument("--quick", action="store_true", help="one run, a 5,000-segment job: checks the harness")
    parser.add_argument("--segments", type=int, default=20000, help="segments in the streaming job")
    parser.add_argument("--upload-mb", type=float, default=50.0, help="size of the upload file")
    parser.add_argument("--only", default="", help=f"comma-separated subset of {','.join(MEASURES)}")
    parser.add_argument("--scenarios", default=",".join(scenarios.DEFAULT_STREAMING),
                        help=f"streaming scenarios, of {','.join(scenarios.STREAMING)} "
                             f"(default {','.join(scenarios.DEFAULT_STREAMING)})")
    parser.add_argument("--plain-ok", action="store_true", help="simulator answers plain ok (no ADVANCED_OK)")
    parser.add_argument("--job-timeout", type=float, default=600.0, help="seconds one streamed job may take")
    parser.add_argument("--quiet-wait", type=float, default=30.0,
                        help="before each measurement wait up to this many seconds for the machine to be idle")
    parser.add_argument("--poller-nice", type=int, default=0,
                        help="nice level of the polling clients (default 0, the servers' own: they run on the "
                             "other core, see --no-pin)")
    parser.add_argument("--no-pin", action="store_true",
                        help="do not pin the server to core 0 and the load and simulator to core 1")
    parser.add_argument("--push-clients", type=int, default=200, help="push clients in the push measurement")
    parser.add_argument("--push-segments", type=int, default=400_000, help="segments in the push measurement's job")
    parser.add_argument("--push-seconds", type=float, default=25.0, help="longest print in the push measurement")
    parser.add_argument("--stall-seconds", type=float, default=60.0, help="how long a client stops reading")
    parser.add_argument("--benchy", default=BENCHY, help="G-code file for the analysis timing")
    parser.add_argument("--octoserve-python", default=sys.executable, help="interpreter with octoserve installed")
    parser.add_argument("--json", default="", help="also write every raw figure to this file")
    parser.add_argument("--write-docs", action="store_true", help="write the results into docs/benchmarks.rst")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, records)")
    parser.add_argument("--from-json", default="", help="measure nothing: print (and --write-docs) a saved --json file")
    args = parser.parse_args(argv)

    if args.from_json:
        with open(args.from_json) as f:
            results = json.load(f)
        return publish(args, results, interrupted=False)

    bench = Bench(args)
    # SIGTERM ends the run like Ctrl-C: through the finally below, which stops every process.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)  # also when started from a shell that ignores SIGINT
    interrupted = False
    try:
        bench.run()
    except KeyboardInterrupt:
        interrupted = True
        log("interrupted: stopping everything")
    finally:
        bench.cleanup()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(bench.results, f, indent=1, default=str)
        log(f"raw figures in {args.json}")
    return publish(args, bench.results, interrupted)


def publish(args, results, interrupted) -> int:
    results.pop("summary", None)
    summary = report.summarise(results)
    print(report.text_table(results, summary))
    if args.write_docs and not interrupted:
        path = os.path.join(REPO, "docs", "benchmarks.rst")
        report.write_docs(path, results, summary)
        log(f"results written to {path}")
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
