"""The push API of a real `octoserve serve`: raw WebSocket and SockJS clients follow a print on the
virtual printer, over real sockets, the way OctoPod, OctoPrint's client and sockjs-client do."""
import json
import socket
import time

import pytest
import requests

from octoserve import events
from tests.cli_helpers import Server, ok
from tests.daemon_helpers import wait_for
from tests.push.clients import PushClient, SockJSClient, passive_session

ADMIN_KEY = "push-admin-key-".ljust(40, "x")
USER_KEY = "push-user-key-".ljust(40, "x")
# 400 moves on four layers, each move followed by a 15 ms dwell: about six seconds on the virtual printer.
JOB = "G28\n" + "".join((f"G1 Z{0.2 * (i // 100 + 1):.1f}\n" if i % 100 == 0 else "")
                         + f"G1 X{i % 90}.5 Y{(i * 7) % 90}.5 F6000\nG4 P15\n" for i in range(400)) + "M84\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("push")
    basedir = workdir / "base"
    basedir.mkdir()
    ok("user", "add", "admin", "--password", "admin-pw", "--admin", "--apikey", ADMIN_KEY, basedir=basedir)
    ok("user", "add", "bob", "--password", "bob-pw", "--apikey", USER_KEY, basedir=basedir)
    ok("config", "set", "server.firstRun", "false", basedir=basedir)
    tmp = workdir / "tmp"
    tmp.mkdir()
    running = Server(basedir, workdir, extra_env={"TMPDIR": tmp}).start()
    try:
        wait_for(lambda: "VIRTUAL" in api(running, "get", "/api/connection").json()["options"]["ports"], 20,
                 "the printer daemon")
        api(running, "post", "/api/connection", {"command": "connect", "port": "VIRTUAL", "baudrate": 250000})
        wait_for(lambda: operational(running), 20, "the virtual printer")
        yield running
    finally:
        running.stop()


def api(server, method, path, body=None, key=ADMIN_KEY, expect=(200, 201, 204)):
    response = requests.request(method, server.url + path, json=body, headers={"X-Api-Key": key}, timeout=10)
    assert response.status_code in expect, f"{method} {path}: {response.status_code} {response.text}"
    return response


def operational(server) -> bool:
    response = requests.get(server.url + "/api/printer", headers={"X-Api-Key": ADMIN_KEY}, timeout=5)
    return response.status_code == 200 and response.json()["state"]["flags"]["ready"]


def start_print(server, name="push.gcode"):
    wait_for(lambda: operational(server), 20, "an idle printer")
    files = {"file": (name, JOB.encode())}
    response = requests.post(server.url + "/api/files/local", files=files, data={"print": "true"},
                             headers={"X-Api-Key": ADMIN_KEY}, timeout=10)
    assert response.status_code == 201, response.text


def authed(server, client_class=PushClient, key=ADMIN_KEY, **options):
    client = client_class(server, **options)
    client.wait("connected")
    client.authenticate(*passive_session(server, key))
    return client


def test_connected_then_auth_by_passive_login_with_an_api_key(server):
    client = PushClient(server)
    try:
        client.wait("connected")
        connected = client.messages("connected")[0]["connected"]
        assert connected["version"] == "1.11.8" and "apikey" not in connected
        assert len(connected["config_hash"]) == 32 and connected["permissions"][0]["key"] == "ADMIN"
        client.authenticate(*passive_session(server, USER_KEY))
        kinds = [next(iter(m)) for m in client.messages() if "event" not in m]
        assert kinds[:4] == ["connected", "history", "timelapse", "current"][:len(kinds[:4])]
        history = client.messages("history")[0]["history"]
        assert history["state"]["flags"]["operational"] is True
        assert set(history) >= {"job", "progress", "currentZ", "offsets", "resends", "temps", "logs", "messages",
                                "markings", "serverTime"}
        assert any(m["type"] == "connected" for m in history["markings"])
    finally:
        client.close()


def test_a_print_followed_live_with_deltas_events_and_throttle(server):
    fast = authed(server)
    slow = authed(server, key=USER_KEY)
    slow.send({"throttle": 2})
    try:
        start_print(server)
        fast.wait_event(events.PRINT_STARTED)
        wait_for(lambda: len(fast.messages("current")) > 3, 10, "currents during the print")
        api(server, "post", "/api/job", {"command": "pause", "action": "pause"})
        paused = fast.wait_event(events.PRINT_PAUSED)
        assert paused["payload"]["name"] == "push.gcode" and 0 < paused["payload"]["progress"] < 100
        api(server, "post", "/api/job", {"command": "pause", "action": "resume"})
        fast.wait_event(events.PRINT_RESUMED)
        done = fast.wait_event(events.PRINT_DONE, timeout=60)
        assert done["payload"]["path"] == "push.gcode" and done["payload"]["time"] > 0
        time.sleep(1.5)  # the last currents of the print
        for client, interval in ((fast, 0.5), (slow, 1.0)):
            times = [at for at, m in client.received if "current" in m]
            gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
            assert min(gaps) > interval * 0.85, (interval, sorted(gaps)[:3])
            currents = [m["current"] for m in client.messages("current")]
            sent = [line for c in currents for line in c["logs"] if line.startswith("Send: N")]
            moves = [line for line in sent if " G1 X" in line]  # each one a different line of the job
            assert len(moves) == len(set(moves)), "a terminal line came twice"
            assert len(moves) >= 350, len(moves)  # every 'current' adds only what is new
            assert any(c["temps"] for c in currents) and all("busyFiles" in c for c in currents)
            assert any(c["busyFiles"] == [{"origin": "local", "path": "push.gcode"}] for c in currents)
        heights = [e["payload"]["new"] for e in fast.events(events.Z_CHANGE)]
        assert heights[-4:] == [0.2, 0.4, 0.6, 0.8]
        assert fast.messages("current")[-1]["current"]["currentZ"] == 0.8
    finally:
        fast.close()
        slow.close()


def test_a_cancelled_print_and_its_events(server):
    client = authed(server)
    try:
        start_print(server, "cancel.gcode")
        client.wait_event(events.PRINT_STARTED)
        api(server, "post", "/api/job", {"command": "cancel"})
        client.wait_event(events.PRINT_CANCELLING)
        cancelled = client.wait_event(events.PRINT_CANCELLED)
        failed = client.wait_event(events.PRINT_FAILED)
        assert cancelled["payload"]["path"] == failed["payload"]["path"] == "cancel.gcode"
        assert failed["payload"]["reason"] == "cancelled"
    finally:
        client.close()


def test_active_login_then_reauth_required_after_logout(server):
    browser = requests.Session()
    browser.get(server.url + "/api/version", timeout=10)
    csrf = {"X-CSRF-Token": browser.cookies.get(f"csrf_token_P{server.port}")}
    login = browser.post(server.url + "/api/login", json={"user": "bob", "pass": "bob-pw"}, headers=csrf, timeout=10)
    assert login.status_code == 200
    client = PushClient(server)
    try:
        client.wait("connected")
        client.authenticate("bob", login.json()["session"])
        assert browser.post(server.url + "/api/logout", headers=csrf, timeout=10).status_code == 200
        client.wait("reauthRequired")
        assert client.messages("reauthRequired")[0] == {"reauthRequired": {"reason": "logout"}}
    finally:
        client.close()


def test_a_guest_without_status_gets_nothing_but_connected(server):
    guest = PushClient(server)
    watcher = authed(server)
    try:
        api(server, "post", "/api/printer/command", {"commands": ["M117 for the watcher"]})
        watcher.wait("current", count=2)
        assert [next(iter(m)) for m in guest.messages()] == ["connected"]
        guest.send({"auth": "admin:forged"})
        guest.wait("reauthRequired")
        assert [next(iter(m)) for m in guest.messages()] == ["connected", "reauthRequired"]
    finally:
        guest.close()
        watcher.close()


def test_subscribe_with_a_regex_over_the_wire(server):
    client = authed(server)
    try:
        client.send({"subscribe": {"state": {"logs": "M117 only-this", "messages": False}, "events": False}})
        time.sleep(0.2)
        api(server, "post", "/api/printer/command", {"commands": ["M117 only-this", "M117 not-that"]})
        client.wait("current", where=lambda m: m["current"].get("logs"))
        logs = [line for m in client.messages("current") for line in m["current"].get("logs", [])]
        assert logs and all("M117 only-this" in line for line in logs)
    finally:
        client.close()


def test_a_client_that_stops_reading_is_dropped_and_the_others_carry_on(server):
    stalled = PushClient(server, read=False, sockopt=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)])
    assert "connected" in json.loads(stalled.ws.recv())
    stalled.send({"auth": "{}:{}".format(*passive_session(server, ADMIN_KEY))})  # then it reads no more
    watcher = authed(server)
    try:
        # 5,000 moves, each to a new height: 5,000 ZChange events, far more than the stalled socket holds.
        job = "G28\n" + "".join(f"G1 X{i % 90} Y{i % 77} Z{i / 100:.2f} F6000\n" for i in range(1, 5001))
        wait_for(lambda: operational(server), 20, "an idle printer")
        response = requests.post(server.url + "/api/files/local", files={"file": ("stall.gcode", job.encode())},
                                 data={"print": "true"}, headers={"X-Api-Key": ADMIN_KEY}, timeout=10)
        assert response.status_code == 201
        done = watcher.wait_event(events.PRINT_DONE, timeout=60)
        assert done["payload"]["path"] == "stall.gcode"
        heights = [e["payload"]["new"] for e in watcher.events(events.Z_CHANGE)]
        assert heights[-5000:] == [round(i / 100, 2) for i in range(1, 5001)]  # the watcher lost nothing
        wait_for(lambda: _peer_closed(stalled), 30, "the server to drop the client that reads nothing")
        watcher.wait("current", timeout=15, count=5)  # and the currents go on (the terminal keeps moving)
        times = [at for at, m in watcher.received if "current" in m]
        assert max(b - a for a, b in zip(times, times[1:], strict=False)) < 3.0
    finally:
        stalled.close()
        watcher.close()


def _peer_closed(client) -> bool:
    """Read what the stalled client was sent; True once the server has closed its end."""
    client.ws.sock.settimeout(0.5)
    try:
        while True:
            if not client.ws.sock.recv(1 << 20):
                return True
    except (TimeoutError, BlockingIOError):
        return False
    except OSError:
        return True


def test_sockjs_over_websocket_frames_and_heartbeat(server):
    client = SockJSClient(server)
    try:
        wait_for(lambda: client.frames, 10, "the open frame")
        assert client.frames[0] == "o"
        client.wait("connected")
        client.authenticate(*passive_session(server, USER_KEY))
        assert all(frame[0] in "oahc" for frame in client.frames)
        assert any(frame.startswith("a[") and '{"history":' in frame for frame in client.frames)
        wait_for(lambda: "h" in client.frames, 30, "a heartbeat within 25 s of silence")
    finally:
        client.close()


@pytest.mark.parametrize("transport", ["xhr", "xhr_streaming"])
def test_sockjs_xhr_transports_round_trip(server, transport):
    base = f"{server.url}/sockjs/7/{transport}-session"
    name, session = passive_session(server, USER_KEY)
    if transport == "xhr":
        assert requests.post(base + "/xhr", timeout=10).text == "o\n"
        connected = requests.post(base + "/xhr", timeout=30).text
        assert connected.startswith('a[{"connected":')
        sent = requests.post(base + "/xhr_send", data=json.dumps([json.dumps({"auth": f"{name}:{session}"})]),
                             timeout=10)
        assert sent.status_code == 204
        frames = [requests.post(base + "/xhr", timeout=30).text for _ in range(2)]
    else:
        stream = requests.post(base + "/xhr_streaming", stream=True, timeout=30)
        lines = stream.iter_lines()
        assert next(lines) == b"h" * 2048 and next(lines) == b"o"
        assert next(lines).startswith(b'a[{"connected":')
        sent = requests.post(base + "/xhr_send", data=json.dumps([json.dumps({"auth": f"{name}:{session}"})]),
                             timeout=10)
        assert sent.status_code == 204
        frames = [next(lines).decode(), next(lines).decode()]
        stream.close()
    assert any('{"history":' in frame for frame in frames), frames
    assert requests.post(base + "/xhr_send", data="not json", timeout=10).status_code == 500
    assert requests.post(f"{server.url}/sockjs/7/nobody/xhr_send", data="[]", timeout=10).status_code == 404


def test_sockjs_info(server):
    info = requests.get(server.url + "/sockjs/info", timeout=10).json()
    assert info["websocket"] is True and info["cookie_needed"] is False and info["origins"] == ["*:*"]


@pytest.mark.parametrize("origin, allowed", [(None, True), ("same", True), ("http://evil.example", False)])
def test_the_origin_check_on_upgrade(server, origin, allowed):
    host = f"127.0.0.1:{server.port}"
    options = {} if origin is None else {"origin": f"http://{host}" if origin == "same" else origin}
    if allowed:
        client = PushClient(server, **options)
        client.wait("connected")
        client.close()
    else:
        with pytest.raises(Exception, match="403"):
            PushClient(server, **options)


def test_a_path_prefix_from_the_proxy(server):
    client = PushClient(server, path="/octoprint/sockjs/websocket", header=["X-Script-Name: /octoprint"])
    try:
        client.wait("connected")
    finally:
        client.close()
    response = requests.get(server.url + "/octoprint/api/files/local", headers={
        "X-Api-Key": ADMIN_KEY, "X-Script-Name": "/octoprint", "X-Forwarded-Host": "printer.example",
        "X-Scheme": "https"}, timeout=10)
    assert response.status_code == 200
    refs = [f["refs"]["resource"] for f in response.json()["files"]]
    assert refs and all(r.startswith("https://printer.example/octoprint/api/files/local/") for r in refs)


def test_half_sent_requests_do_not_stop_the_api(server):
    sockets = []
    try:
        for _ in range(40):  # five times what stopped the thread-pool server
            sock = socket.create_connection(("127.0.0.1", server.port))
            sock.sendall(b"GET /api/version HTTP/1.1\r\nHost: x\r\n")
            sockets.append(sock)
        started = time.monotonic()
        assert requests.get(server.url + "/api/version", headers={"X-Api-Key": USER_KEY}, timeout=5).ok
        assert time.monotonic() - started < 1.0
        sockets[0].settimeout(10)
        assert sockets[0].recv(100) == b""  # the server gave up on it after its header timeout
    finally:
        for sock in sockets:
            sock.close()
