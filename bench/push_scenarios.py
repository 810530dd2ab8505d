"""The push and connection-model measurements: many push clients during a print, a client that stops
reading, and plain REST polling of an idle server. Each takes a host and returns a dict of figures."""
import os
import signal
import sys
import time

import procs
import scenarios
from hosts import API_KEY
from scenarios import read_json, start_simulator

HERE = os.path.dirname(os.path.abspath(__file__))
PUSH_LOAD = os.path.join(HERE, "push_load.py")
PUSH_JOB_NAME = "bench-push-job.gcode"


def _start_pollers(ctx, host, out, clients=8, seconds=600):
    argv = [sys.executable, scenarios.POLLER, host.url, API_KEY, "--clients", str(clients), "--seconds",
            str(seconds), "--out", out]
    nice = ["nice", "-n", str(ctx.poller_nice)] if ctx.poller_nice else []
    return procs.start(nice + argv, log_path=os.path.join(ctx.workdir, "pollers.log"), cpus=procs.LOAD_CPUS)


def _start_clients(ctx, host, label, clients, throttled, stalled):
    ready = os.path.join(ctx.records, f"{ctx.next_id():03d}-{label}-ready")
    out = os.path.join(ctx.records, f"{ctx.counter:03d}-{label}-clients.json")
    argv = [sys.executable, PUSH_LOAD, host.url, API_KEY, "--clients", str(clients), "--throttled",
            str(throttled), "--stalled", str(stalled), "--ready", ready, "--out", out]
    proc = procs.start(argv, log_path=os.path.join(ctx.workdir, "push-clients.log"), cpus=procs.LOAD_CPUS)
    procs.wait_for_path(proc, ready, 180, "the push clients did not all authenticate; see push-clients.log")
    return proc, out


def _finish(proc, out) -> list:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(60)
    finally:
        procs.stop(proc)
    return read_json(out)["clients"] if os.path.exists(out) else []


def _print_for(ctx, host, sim, record_path, seconds):
    """Print the push job until it ends or `seconds` pass (then cancel); the simulator's record."""
    started = time.monotonic()
    host.select_and_print(PUSH_JOB_NAME)
    while time.monotonic() - started < seconds and not os.path.exists(record_path) and sim.poll() is None:
        time.sleep(0.05)
    if not os.path.exists(record_path):
        host.post("/api/job", json={"command": "cancel"})
        time.sleep(1.0)
        procs.stop(sim)  # SIGTERM: the record is written with what arrived
    return read_json(record_path) if os.path.exists(record_path) else {}


def push(ctx, host, clients=200, throttled=50, stalled=1, seconds=25.0, sim_extra=()) -> dict:
    """`clients` raw-WebSocket clients (`throttled` at throttle 2, `stalled` reading nothing) and 8
    pollers, while the push job streams (with instant acks, unless `sim_extra` says otherwise)."""
    sim, link, record_path = start_simulator(ctx, f"{host.slug}-push", list(sim_extra), job_path=ctx.push_job_path)
    poller = load = None
    poll_out = os.path.join(ctx.records, f"{ctx.counter:03d}-{host.slug}-push-pollers.json")
    try:
        host.connect(link)
        procs.wait_quiet(host.pid, below=0.10, window=0.5, timeout=20)
        memory_before = procs.pss_kb(procs.tree(host.pid))
        load, clients_out = _start_clients(ctx, host, f"{host.slug}-push", clients, throttled, stalled)
        time.sleep(3.0)
        procs.wait_quiet(host.pid, below=0.10, window=0.5, timeout=20)
        memory_after = procs.pss_kb(procs.tree(host.pid))
        poller = _start_pollers(ctx, host, poll_out)
        time.sleep(1.0)
        watched = procs.tree(host.pid) + [sim.pid, poller.pid, load.pid]
        cpu_before = procs.cpu_by_process(watched)
        epoch_start = time.time()
        record = _print_for(ctx, host, sim, record_path, seconds)
        epoch_end = time.time()
        cpu_after = procs.cpu_by_process(watched)
        procs.stop(poller, timeout=20)
        poller = None
        time.sleep(1.5)  # the last currents and events reach the clients
        results = _finish(load, clients_out)
        load = None
    finally:
        for proc in (poller, load):
            procs.stop(proc)
        try:
            host.disconnect()
        finally:
            procs.stop(sim)
    figures = {"host": host.name, "clients": clients, "lines_per_s": record.get("lines_per_s"),
               "in_order_once": record.get("in_order_once"), "job_lines_accepted": record.get("job_lines_accepted"),
               "memory_per_client_kb": (memory_after - memory_before) / clients,
               "cpu_s_by_process": {name: round(cpu_after[name] - cpu_before.get(name, 0.0), 2) for name in cpu_after},
               "seconds": epoch_end - epoch_start}
    if os.path.exists(poll_out):
        polled = read_json(poll_out)
        figures["poll_requests_per_s"] = polled["per_s"]
        figures["poll_latency_ms"] = polled["latency_ms"]
    figures.update(client_figures(results, record, epoch_start, epoch_end))
    return figures


def client_figures(results, record, epoch_start, epoch_end) -> dict:
    """Rates of `current`, event latency (simulator's arrival of a Z line to the client's ZChange), temps."""
    start, end = record.get("first_job_time"), record.get("last_job_time")
    live = [c for c in results if not c["stalled"]]
    figures = {"clients_closed_by_server": sum(1 for c in live if c["closed_by_server"]),
               "stalled_dropped": all(c["closed_by_server"] for c in results if c["stalled"]) if results else None}
    if not start or not end or end - start < 1.0 or not live:
        return figures
    span = end - start
    for throttle in (1, 2):
        rates = [len([t for t in c["currents"] if start <= t <= end]) / span for c in live if c["throttle"] == throttle]
        if rates:
            figures[f"current_per_s_max_throttle{throttle}"] = max(rates)
    latencies, missing = [], 0
    for z, arrived in (record.get("z_times") or {}).items():
        if not start <= arrived <= end:
            continue
        for client in live:
            got = {round(float(k), 3): v for k, v in client["zchanges"].items()}.get(round(float(z), 3))
            if got is None:
                missing += 1
            else:
                latencies.append(got - arrived)
    if latencies:
        latencies.sort()
        figures["event_latency_p99_ms"] = 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
        figures["events_within_100ms"] = sum(1 for v in latencies if v <= 0.1) / len(latencies)
    figures["events_missing"] = missing
    union = set()
    window = [tuple(p) for c in live for p in c["temps"] if p[0] and epoch_start + 1 <= p[0] <= epoch_end - 2]
    union.update(window)
    figures["temps_points"] = len(union)
    figures["temps_missing"] = sum(len(union - {tuple(p) for p in c["temps"]}) for c in live)
    return figures


def stall(ctx, host, seconds=60.0) -> dict:
    """One client stops reading for `seconds` while 20 others follow a print with acks 1 ms late."""
    sim, link, record_path = start_simulator(ctx, f"{host.slug}-stall", ["--ack-delay", "1"],
                                             job_path=ctx.push_job_path)
    load = None
    try:
        host.connect(link)
        load, clients_out = _start_clients(ctx, host, f"{host.slug}-stall", 21, 0, 1)
        procs.wait_quiet(host.pid, below=0.10, window=0.5, timeout=20)
        with procs.RssSampler(host.pid, interval=0.25) as sampler:
            epoch_start = time.time()
            record = _print_for(ctx, host, sim, record_path, seconds)
            epoch_end = time.time()
        results = _finish(load, clients_out)
        load = None
    finally:
        procs.stop(load)
        try:
            host.disconnect()
        finally:
            procs.stop(sim)
    figures = {"host": host.name, "lines_per_s": record.get("lines_per_s"),
               "in_order_once": record.get("in_order_once"),
               "rss_growth_mb": (sampler.peak_kb - sampler.baseline_kb) / 1024}
    figures.update(client_figures(results, record, epoch_start, epoch_end))
    gaps = []
    for client in (c for c in results if not c["stalled"]):
        times = sorted(client["currents"])
        gaps += [b - a for a, b in zip(times, times[1:], strict=False)]
    figures["longest_current_gap_s"] = max(gaps) if gaps else None
    return figures


def rest(ctx, host, seconds=10.0) -> dict:
    """8 clients polling GET /api/printer as fast as they can, the printer connected and idle."""
    sim, link, _ = start_simulator(ctx, f"{host.slug}-rest")
    out = os.path.join(ctx.records, f"{ctx.counter:03d}-{host.slug}-rest-pollers.json")
    try:
        host.connect(link)
        procs.wait_quiet(host.pid, below=0.10, window=0.5, timeout=20)
        busy = round(procs.wait_machine_quiet(scenarios.QUIET_BELOW, scenarios.QUIET_TIMEOUT), 2)
        poller = _start_pollers(ctx, host, out, seconds=seconds)
        poller.wait(seconds + 60)
    finally:
        try:
            host.disconnect()
        finally:
            procs.stop(sim)
    polled = read_json(out)
    return {"requests_per_s": polled["per_s"], "latency_ms": polled["latency_ms"],
            "statuses": polled["by_status"], "machine_busy_before": busy}
