"""The measurements, each one function that takes a host and returns a dict of figures."""
import json
import os
import statistics
import subprocess
import sys
import time

import procs
from hosts import API_KEY, multipart

HERE = os.path.dirname(os.path.abspath(__file__))
SIMULATOR = os.path.join(HERE, "simulator.py")
POLLER = os.path.join(HERE, "poller.py")
JOB_NAME = "bench-job.gcode"
# Before each measurement, wait up to this long for the rest of the machine to go quiet (it is shared).
QUIET_TIMEOUT = 30.0
QUIET_BELOW = 0.3  # cores busy
UPLOAD_NAME = "bench-upload.gcode"

# Streaming scenarios: simulator options and the number of polling clients.
STREAMING = {
    "idle": {"title": "streaming, instant acks", "sim": [], "pollers": 0},
    "pollers": {"title": "streaming, 8 clients polling /api/printer", "sim": [], "pollers": 8},
    "resend50": {"title": "streaming, resend every 50 lines", "sim": ["--resend-every", "50"], "pollers": 0},
    "latency1ms": {"title": "streaming, acks 1 ms late", "sim": ["--ack-delay", "1"], "pollers": 0},
    # Diagnostics, not run unless named in --scenarios: plain ok keeps octoserve to one line in flight.
    "idle-plain": {"title": "streaming, instant plain oks", "sim": [], "pollers": 0, "advanced_ok": False},
    "resend50-plain": {"title": "streaming, plain oks, resend every 50 lines", "sim": ["--resend-every", "50"],
                       "pollers": 0, "advanced_ok": False},
}
DEFAULT_STREAMING = ("idle", "pollers", "resend50", "latency1ms")


class Context:
    """Paths and settings shared by the measurements of one benchmark run."""

    def __init__(self, workdir: str, job_path: str, advanced_ok: bool = True, job_timeout: float = 600.0,
                 poller_nice: int = 0, log=print):
        self.workdir = workdir
        self.job_path = job_path
        self.advanced_ok = advanced_ok
        self.job_timeout = job_timeout
        self.poller_nice = poller_nice
        self.log = log
        self.counter = 0
        self.link_dir = os.path.join(workdir, "links")
        self.records = os.path.join(workdir, "records")
        os.makedirs(self.link_dir, exist_ok=True)
        os.makedirs(self.records, exist_ok=True)

    @property
    def link_glob(self) -> str:
        return os.path.join(self.link_dir, "ttyBENCH*")

    def next_id(self) -> int:
        self.counter += 1
        return self.counter


def start_simulator(ctx: Context, label: str, extra=(), advanced_ok=None, job_path=None):
    """Start a simulator on a fresh link; returns (process, link path, record path)."""
    n = ctx.next_id()
    link = os.path.join(ctx.link_dir, f"ttyBENCH{n}")
    record = os.path.join(ctx.records, f"{n:03d}-{label}.json")
    for stale in (record, link):
        if os.path.lexists(stale):
            os.unlink(stale)
    argv = [sys.executable, SIMULATOR, "--link", link, "--job", job_path or ctx.job_path, "--record", record,
            "--max-time", str(ctx.job_timeout + 120)]
    if ctx.advanced_ok if advanced_ok is None else advanced_ok:
        argv.append("--advanced-ok")
    argv.extend(extra)
    proc = procs.start(argv, log_path=os.path.join(ctx.workdir, "simulators.log"), cpus=procs.LOAD_CPUS)
    procs.wait_for_path(proc, link, 10, "the simulator did not come up; see simulators.log")
    return proc, link, record


def read_json(path: str):
    with open(path) as f:
        return json.load(f)


# -- streaming ----------------------------------------------------------------------------------
def stream(ctx: Context, host, scenario: str) -> dict:
    """Print the job through `host` to a fresh simulator; the simulator's record plus a few host figures."""
    spec = STREAMING[scenario]
    sim, link, record_path = start_simulator(ctx, f"{host.slug}-{scenario}", spec["sim"], spec.get("advanced_ok"))
    poller = None
    poll_out = os.path.join(ctx.records, f"{ctx.counter:03d}-{host.slug}-{scenario}-pollers.json")
    result = {"host": host.name, "scenario": scenario}
    try:
        host.connect(link)
        procs.wait_quiet(host.pid, below=0.10, window=0.3, timeout=20)
        result["machine_busy_before"] = _wait_machine_quiet()
        if spec["pollers"]:
            nice = ["nice", "-n", str(ctx.poller_nice)] if ctx.poller_nice else []
            poller = procs.start(nice + [sys.executable, POLLER, host.url, API_KEY, "--clients", str(spec["pollers"]),
                                  "--seconds", str(ctx.job_timeout), "--out", poll_out],
                                 log_path=os.path.join(ctx.workdir, "pollers.log"), cpus=procs.LOAD_CPUS)
            time.sleep(1.0)  # clients connected and busy before the first line
        pids = procs.tree(host.pid)
        by_process = procs.cpu_by_process(pids + [sim.pid])
        cpu_before, started = procs.cpu_ticks(pids), time.monotonic()
        host.select_and_print(JOB_NAME)
        state = _wait_for_record(ctx, host, sim, record_path, started)
        cpu_used = (procs.cpu_ticks(procs.tree(host.pid)) - cpu_before) / procs.TICK
        after = procs.cpu_by_process(pids + [sim.pid])
        result["cpu_s_by_process"] = {name: round(after[name] - by_process.get(name, 0.0), 2) for name in after}
        wall = time.monotonic() - started
        result["host_state_at_end"] = state
        if poller is not None:
            procs.stop(poller, timeout=20)
            poller = None
            if os.path.exists(poll_out):
                polled = read_json(poll_out)
                result["poll_requests_per_s"] = polled["per_s"]
                result["poll_statuses"] = polled["by_status"]
                result["poll_latency_ms"] = polled.get("latency_ms")
        _wait_until_done(host)
        result["host_cpu_s"] = cpu_used
        result["wall_s"] = wall
    finally:
        if poller is not None:
            procs.stop(poller)
        try:
            host.disconnect()
        finally:
            procs.stop(sim)
    record = read_json(record_path) if os.path.exists(record_path) else {"reason": "no record", "intact": False}
    result.update(record)
    if result.get("lines_per_s") and result.get("host_cpu_s"):
        result["host_cpu_per_1000_lines_ms"] = 1000.0 * result["host_cpu_s"] / max(1, record["job_lines_accepted"])
    return result


ACTIVE_STATES = ("Printing", "Pausing", "Paused", "Resuming", "Starting", "Cancelling", "Finishing", "Sending")


def _wait_for_record(ctx, host, sim, record_path, started) -> str:
    """Until the simulator says the job's last line arrived, or the host stops printing; the host's state."""
    last_check, state = 0.0, "?"
    while time.monotonic() - started < ctx.job_timeout:
        if os.path.exists(record_path) or sim.poll() is not None:
            return _job_state(host)
        now = time.monotonic()
        if now - last_check > 1.0:  # rarely, so the check itself does not load the host
            last_check = now
            state = _job_state(host)
            if now - started > 3 and not state.startswith(ACTIVE_STATES):
                time.sleep(1.0)  # a record may still be on its way
                return state
        time.sleep(0.02)
    return f"timeout after {ctx.job_timeout:.0f} s (host state {_job_state(host)})"


def _job_state(host) -> str:
    try:
        return host.job()["state"]
    except Exception as exc:  # noqa: BLE001 - reported with the run's figures
        return f"unreachable ({type(exc).__name__})"


def _wait_until_done(host, timeout: float = 60.0) -> None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if not host.job()["state"].startswith(ACTIVE_STATES):
                return
        except Exception:  # noqa: BLE001
            return
        time.sleep(0.1)


# -- other figures -------------------------------------------------------------------------------
def analysis(host, gcode_path: str, extra_env=None) -> dict:
    """Whole-process time of the host's command-line G-code analysis of `gcode_path`."""
    argv = host.analyse_command(gcode_path)
    env = host.env()
    env.update(extra_env or {})
    busy = _wait_machine_quiet()
    started = time.monotonic()
    result = subprocess.run(argv, capture_output=True, text=True, timeout=600, env=env)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        raise RuntimeError(f"{host.name} analysis failed ({result.returncode}): {result.stderr.strip()[-300:]}")
    return {"seconds": elapsed, "machine_busy_before": busy}


def startup(host) -> dict:
    busy = _wait_machine_quiet()
    seconds = host.start()
    try:
        procs.wait_quiet(host.pid, below=0.05, window=0.5, timeout=30)
        pids = procs.tree(host.pid)
        return {"seconds": seconds, "processes": len(pids), "machine_busy_before": busy}
    finally:
        host.stop()


def idle_memory(ctx: Context, host, settle: float = 5.0) -> dict:
    """PSS and RSS of the host's process tree, connected to an idle printer and quiet."""
    sim, link, _ = start_simulator(ctx, f"{host.slug}-idle-memory")
    try:
        host.connect(link)
        time.sleep(settle)
        procs.wait_quiet(host.pid, below=0.05, window=0.5, timeout=30)
        pids = procs.tree(host.pid)
        return {"pss_mb": procs.pss_kb(pids) / 1024, "rss_mb": procs.rss_kb(pids) / 1024, "processes": len(pids)}
    finally:
        try:
            host.disconnect()
        finally:
            procs.stop(sim)


def upload(host, path: str, body=None) -> dict:
    """Time POST /api/files/local of `path` and the tree's peak RSS during it; the file is deleted after."""
    body = body or multipart(path, UPLOAD_NAME)
    procs.wait_quiet(host.pid, below=0.05, window=0.5, timeout=60)
    busy = _wait_machine_quiet()
    with procs.RssSampler(host.pid, interval=0.003) as sampler:
        started = time.monotonic()
        host.upload(path, UPLOAD_NAME, body=body)
        seconds = time.monotonic() - started
    size = os.path.getsize(path)
    info = {"seconds": seconds, "mb_per_s": size / seconds / 1e6, "rss_before_mb": sampler.baseline_kb / 1024,
            "rss_peak_mb": sampler.peak_kb / 1024, "rss_growth_mb": (sampler.peak_kb - sampler.baseline_kb) / 1024,
            "samples": sampler.samples, "machine_busy_before": busy}
    r = host.delete(f"/api/files/local/{UPLOAD_NAME}")
    if r.status_code >= 400:
        host.delete(f"/api/files/local/{UPLOAD_NAME}")  # a running analysis may hold it for a moment
    procs.wait_quiet(host.pid, below=0.05, window=0.5, timeout=60)
    return info


def upload_job(host, job_path: str, name: str = JOB_NAME) -> None:
    """Put the streaming job on the host and wait until its own analysis of it is over."""
    host.check_job_api()
    host.upload(job_path, name)
    started = time.monotonic()
    while time.monotonic() - started < 60:
        r = host.file_info(name)
        if r.status_code == 200 and "gcodeAnalysis" in r.json():
            break
        time.sleep(0.2)
    procs.wait_quiet(host.pid, below=0.05, window=0.5, timeout=60)


def _wait_machine_quiet() -> float:
    """Cores busy on the machine just before a measurement (after waiting for quiet, bounded)."""
    return round(procs.wait_machine_quiet(QUIET_BELOW, QUIET_TIMEOUT), 2)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None
