"""Clients that poll GET /api/printer as fast as they can, in their own process, bounded in time.

    python bench/poller.py URL APIKEY --clients 8 --seconds 300 --out result.json

Runs until SIGTERM/SIGINT or `--seconds`; then writes requests made, by status, requests/s and
the latency percentiles of the answered requests (milliseconds).
"""
import argparse
import json
import signal
import sys
import threading
import time

import requests


def client(url, key, stop, counts, latencies, lock):
    session = requests.Session()
    session.headers["X-Api-Key"] = key
    local, took = {}, []
    clock = time.perf_counter
    while not stop.is_set():
        started = clock()
        try:
            status = session.get(url, timeout=10).status_code
            took.append(clock() - started)
        except requests.RequestException as exc:
            status = type(exc).__name__
            stop.wait(0.01)
        local[status] = local.get(status, 0) + 1
    with lock:
        for status, n in local.items():
            counts[str(status)] = counts.get(str(status), 0) + n
        latencies.extend(took)


def percentile(values, share):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(share * len(values)))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("apikey")
    parser.add_argument("--path", default="/api/printer")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    stop, lock, counts, latencies = threading.Event(), threading.Lock(), {}, []
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threads = [threading.Thread(target=client, args=(args.url + args.path, args.apikey, stop, counts, latencies,
                                                     lock), daemon=True) for _ in range(args.clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    while not stop.is_set() and time.monotonic() - started < args.seconds:
        stop.wait(0.1)
    stop.set()
    for t in threads:
        t.join(15)
    elapsed = time.monotonic() - started
    total = sum(counts.values())
    with open(args.out, "w") as f:
        json.dump({"requests": total, "by_status": counts, "seconds": elapsed,
                   "per_s": total / elapsed if elapsed else None,
                   "latency_ms": {name: (percentile(latencies, share) or 0) * 1000
                                  for name, share in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0))}},
                  f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
