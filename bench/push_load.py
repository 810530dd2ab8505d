"""Push API clients for the benchmark: many raw-WebSocket clients in one asyncio process, as phone apps.

    python bench/push_load.py URL APIKEY --clients 200 --throttled 50 --stalled 1 --ready F --out F

Each client connects to /sockjs/websocket, authenticates with the session of a passive login
(as OctoPod does), and records when each ``current`` arrived, every temperature point it was
given (in ``history`` and in the ``current`` deltas) and when each ``ZChange`` event arrived.
``--throttled`` of them ask for ``throttle: 2``; ``--stalled`` of them stop reading once they
are authenticated. When all are authenticated, the READY file is written; on SIGTERM (or after
``--seconds``) the figures go to OUT as JSON. Needs the ``websockets`` package.
"""
import argparse
import asyncio
import json
import signal
import sys
import time

import requests
from websockets.asyncio.client import connect


class Client:
    def __init__(self, index: int, throttle: int, stalled: bool):
        self.index, self.throttle, self.stalled = index, throttle, stalled
        self.authed_at = None
        self.currents = []  # arrival times
        self.temps = set()  # (time, tool0 actual) of every point received
        self.zchanges = {}  # new Z -> arrival time
        self.closed_by_server = False
        self.error = None

    def take(self, text: str) -> None:
        message = json.loads(text)
        now = time.monotonic()
        if "current" in message or "history" in message:
            body = message.get("current") or message.get("history")
            for point in body.get("temps") or ():
                self.temps.add((point.get("time"), (point.get("tool0") or {}).get("actual")))
            if "current" in message:
                self.currents.append(now)
            elif self.authed_at is None:
                self.authed_at = now
        elif "event" in message and message["event"]["type"] == "ZChange":
            self.zchanges.setdefault(message["event"]["payload"]["new"], now)

    def summary(self) -> dict:
        return {"throttle": self.throttle, "stalled": self.stalled, "authed_at": self.authed_at,
                "currents": self.currents, "temps": sorted(self.temps, key=lambda p: (p[0] or 0, p[1] or 0)),
                "zchanges": self.zchanges, "closed_by_server": self.closed_by_server, "error": self.error}


async def run_client(client: Client, url: str, auth: str, stop: asyncio.Event, ready: asyncio.Queue):
    try:
        async with connect(url, max_size=None, ping_interval=None, open_timeout=60) as ws:
            client.take(await ws.recv())  # connected
            await ws.send(json.dumps({"auth": auth}))
            if client.throttle > 1:
                await ws.send(json.dumps({"throttle": client.throttle}))
            while client.authed_at is None:
                client.take(await ws.recv())
            await ready.put(client.index)
            if client.stalled:
                await stop.wait()  # reads nothing until the end
                try:
                    while True:  # then drain: the end of the stream says whether the server hung up
                        client.take(await asyncio.wait_for(ws.recv(), 2))
                except TimeoutError:
                    pass
                return
            while not stop.is_set():
                receive = asyncio.ensure_future(ws.recv())
                done, _ = await asyncio.wait({receive, asyncio.ensure_future(stop.wait())},
                                             return_when=asyncio.FIRST_COMPLETED)
                if receive in done:
                    client.take(receive.result())
                else:
                    receive.cancel()
    except Exception as exc:  # noqa: BLE001 - a closed connection is a figure, not a crash
        client.closed_by_server = True
        client.error = f"{type(exc).__name__}: {exc}"[:200]
        await ready.put(client.index)


async def main_async(args) -> int:
    response = requests.post(args.url + "/api/login", json={"passive": True}, headers={"X-Api-Key": args.apikey},
                             timeout=30)
    response.raise_for_status()
    body = response.json()
    auth = f"{body['name']}:{body['session']}"
    ws_url = args.url.replace("http://", "ws://") + "/sockjs/websocket"
    clients = [Client(i, 2 if i < args.throttled else 1, i >= args.clients - args.stalled)
               for i in range(args.clients)]
    stop, ready = asyncio.Event(), asyncio.Queue()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    tasks = []
    for client in clients:  # connect in small steps, as clients on a network would
        tasks.append(asyncio.create_task(run_client(client, ws_url, auth, stop, ready)))
        await asyncio.sleep(0.005)
    for _ in clients:
        await ready.get()
    with open(args.ready, "w") as f:
        f.write(str(time.monotonic()))
    try:
        await asyncio.wait_for(stop.wait(), args.seconds)
    except TimeoutError:
        stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    with open(args.out, "w") as f:
        json.dump({"clients": [c.summary() for c in clients]}, f)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("apikey")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--throttled", type=int, default=50)
    parser.add_argument("--stalled", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--ready", required=True)
    parser.add_argument("--out", required=True)
    return asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
