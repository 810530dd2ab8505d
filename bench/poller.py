"""Clients that poll GET /api/printer as fast as they can, in their own process, bounded in time.

    python bench/poller.py URL APIKEY --clients 8 --seconds 300 --out result.json

Each client is one keep-alive HTTP/1.1 connection of an asyncio loop, speaking just enough
HTTP to send a GET and read its answer (Content-Length or chunked): the load generator must
cost far less than the server it loads, and ``requests`` in threads cost a millisecond of
CPU per request. Runs until SIGTERM/SIGINT or ``--seconds``; then writes requests made, by
status, requests/s and the latency percentiles of the answered requests (milliseconds).
"""
import argparse
import asyncio
import json
import signal
import sys
import time
from urllib.parse import urlsplit


async def _read_response(reader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        await reader.readexactly(int(headers.get(b"content-length", b"0")))
    return status


async def client(host, port, request, stop, counts, latencies):
    clock = time.perf_counter
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError as exc:
            counts[type(exc).__name__] = counts.get(type(exc).__name__, 0) + 1
            await asyncio.sleep(0.01)
            continue
        try:
            while not stop.is_set():
                started = clock()
                writer.write(request)
                status = await asyncio.wait_for(_read_response(reader), 10)
                latencies.append(clock() - started)
                counts[str(status)] = counts.get(str(status), 0) + 1
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError) as exc:
            counts[type(exc).__name__] = counts.get(type(exc).__name__, 0) + 1
        finally:
            writer.close()


def percentile(values, share):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(share * len(values)))]


async def main_async(args) -> dict:
    url = urlsplit(args.url)
    request = (f"GET {args.path} HTTP/1.1\r\nHost: {url.netloc}\r\nX-Api-Key: {args.apikey}\r\n"
               f"Accept: application/json\r\n\r\n").encode()
    stop, counts, latencies = asyncio.Event(), {}, []
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    started = time.monotonic()
    tasks = [asyncio.create_task(client(url.hostname, url.port, request, stop, counts, latencies))
             for _ in range(args.clients)]
    try:
        await asyncio.wait_for(stop.wait(), args.seconds)
    except TimeoutError:
        stop.set()
    await asyncio.wait(tasks, timeout=15)
    elapsed = time.monotonic() - started
    total = sum(counts.values())
    return {"requests": total, "by_status": counts, "seconds": elapsed, "per_s": total / elapsed if elapsed else None,
            "latency_ms": {name: (percentile(latencies, share) or 0) * 1000
                           for name, share in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0))}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("apikey")
    parser.add_argument("--path", default="/api/printer")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    result = asyncio.run(main_async(args))
    with open(args.out, "w") as f:
        json.dump(result, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
