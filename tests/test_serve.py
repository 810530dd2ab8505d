"""`octoserve serve` as real processes: the printer daemon beside gunicorn, each surviving the other.

One server is shared by the module (start-up, connecting to VIRTUAL and heating, killing the web
worker, killing the daemon); stopping with SIGTERM gets a server of its own. Every process runs
in the Server helper's process group, which is SIGKILLed whatever a test does.
"""
import json
import os
import signal
import socket
import stat
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.cli_helpers import START_TIMEOUT, Server, ok

KEY = "serve-admin-key-".ljust(40, "x")
DAEMON_MODULE = "octoserve.printer.daemon"
SUPERVISOR_MODULE = "octoserve.printer.supervisor"
SOCKET_NAME = "printer.sock"
DAEMON_READY_TIMEOUT = 10  # seconds from HTTP answering to the daemon offering VIRTUAL
CONNECT_TIMEOUT = 5  # seconds from POST connect to Operational on VIRTUAL
RESTART_TIMEOUT = 10  # seconds from killing the daemon to a new one answering
POLL = 0.05


# -- processes, seen through /proc ---------------------------------------------------------

def _stat(pid: int):
    """(state letter, parent pid) of a process, or None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()  # the name may hold spaces and parentheses
    return fields[0], int(fields[1])


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _all_pids():
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def live_children(pid: int) -> list:
    """Children of a process that are running (zombies left out: they are already dead)."""
    found = []
    for child in _all_pids():
        info = _stat(child)
        if info is not None and info[1] == pid and info[0] != "Z":
            found.append(child)
    return found


def descendants(pid: int) -> list:
    found, pending = [], [pid]
    while pending:
        children = live_children(pending.pop())
        found.extend(children)
        pending.extend(children)
    return found


def daemon_pids(server) -> list:
    """The daemon runs under the supervisor process, a grandchild of serve."""
    return [pid for pid in descendants(server.proc.pid) if DAEMON_MODULE in cmdline(pid)]


def worker_pids(server) -> list:
    return [pid for pid in live_children(server.proc.pid)
            if DAEMON_MODULE not in cmdline(pid) and SUPERVISOR_MODULE not in cmdline(pid)]


def the_one(pids: list, what: str) -> int:
    assert len(pids) == 1, f"expected exactly one {what}, found {pids}"
    return pids[0]


def processes_naming(basedir: Path) -> dict:
    """Running processes whose command line names the base directory: pid -> command line."""
    names = {str(basedir), str(basedir.resolve())}
    found = {}
    for pid in _all_pids():
        if pid == os.getpid():
            continue
        line = cmdline(pid)
        if any(name in line for name in names):
            info = _stat(pid)
            if info is not None and info[0] != "Z":
                found[pid] = line
    return found


def wait_for(predicate, timeout: float, message):
    """Poll until predicate() returns something truthy; return it, or fail with message()."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(message() if callable(message) else message)
        time.sleep(POLL)


# -- HTTP -----------------------------------------------------------------------------------

def get_json(server, path, expect=200):
    response = server.get(path, key=KEY)
    assert response.status_code == expect, f"GET {path}: {response.status_code} {response.text}"
    return response.json()


def post(server, path, body, expect=204):
    response = requests.post(server.url + path, json=body, headers={"X-Api-Key": KEY}, timeout=10)
    assert response.status_code == expect, f"POST {path} {body}: {response.status_code} {response.text}"
    return response


def connection(server) -> dict:
    return get_json(server, "/api/connection")


def try_connection(server):
    """GET /api/connection, or None while nothing answers (a worker being rebooted)."""
    try:
        response = requests.get(server.url + "/api/connection", headers={"X-Api-Key": KEY}, timeout=2)
    except (requests.ConnectionError, requests.Timeout):
        return None
    return response.json() if response.status_code == 200 else None


def wait_daemon_ready(server) -> dict:
    """Until the daemon answers and the web side follows it: VIRTUAL offered, state not Error."""
    def ready():
        data = try_connection(server)
        if data and "VIRTUAL" in data["options"]["ports"] and data["current"]["state"] != "Error":
            return data
        return None
    return wait_for(ready, DAEMON_READY_TIMEOUT,
                    lambda: f"the daemon did not come up: {try_connection(server)}\n{server.log()}")


def connect_virtual(server) -> dict:
    post(server, "/api/connection", {"command": "connect", "port": "VIRTUAL", "baudrate": 250000})

    def operational():
        current = connection(server)["current"]
        return current if current["state"] == "Operational" else None
    current = wait_for(operational, CONNECT_TIMEOUT,
                       lambda: f"not Operational after {CONNECT_TIMEOUT}s: {connection(server)}")
    assert current["port"] == "VIRTUAL" and current["baudrate"] == 250000, current
    return current


def ensure_operational(server) -> None:
    """Operational on VIRTUAL with the hotend at 200 (connecting first if an earlier test did not)."""
    current = wait_daemon_ready(server)["current"]
    if current["state"] != "Operational" or current["port"] != "VIRTUAL":
        connect_virtual(server)
    post(server, "/api/printer/tool", {"command": "target", "targets": {"tool0": 200}})


def tool0(server) -> dict:
    """The hotend as GET /api/printer reports it, once the snapshot has one with its target set."""
    def reported():
        heater = get_json(server, "/api/printer")["temperature"].get("tool0")
        return heater if heater and heater["target"] else None
    return wait_for(reported, 3, lambda: f"no tool0 target in {get_json(server, '/api/printer')}")


# -- the daemon's own socket ----------------------------------------------------------------

class DaemonWatch:
    """A subscription of our own to the daemon: every state it publishes, and whether it hung up."""

    def __init__(self, basedir: Path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(5)
        self.sock.connect(str(basedir / SOCKET_NAME))
        self.sock.settimeout(None)
        self.sock.sendall(b'{"id":0,"method":"subscribe","params":{}}\n')
        self.snapshots = []  # (monotonic time, state id, port, log count)
        self.hung_up = False
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        reader = self.sock.makefile("rb")
        try:
            for line in reader:
                message = json.loads(line)
                if "update" in message:
                    snap = message["update"]["snapshot"]
                    self.snapshots.append((time.monotonic(), snap["state"]["id"],
                                           snap["connection"]["port"], snap.get("log_count")))
        except (OSError, ValueError):
            pass
        self.hung_up = True

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self._thread.join(5)


# -- the shared server ------------------------------------------------------------------------

def start_server(workdir: Path) -> Server:
    """A fresh base directory with an admin and KEY made by the CLI, then `serve` on it."""
    basedir = workdir / "base"
    basedir.mkdir()
    ok("user", "add", "admin", "--password", "admin-pw", "--admin", "--apikey", KEY, basedir=basedir)
    # TMPDIR: the virtual printer's SD folder lands here, so a killed daemon litters the test's tmp.
    tmp = workdir / "tmp"
    tmp.mkdir()
    return Server(basedir, workdir, extra_env={"TMPDIR": tmp}).start()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = start_server(tmp_path_factory.mktemp("serve"))
    try:
        yield running
    finally:
        running.stop()


# -- the tests ---------------------------------------------------------------------------------

def test_startup_answers_api_version_soon(server, capsys):
    started = time.monotonic()
    wait_daemon_ready(server)
    daemon_ready = time.monotonic() - started
    with capsys.disabled():
        print(f"\n[serve: GET /api/version answered {server.startup_seconds:.2f}s after spawn; "
              f"daemon followed {daemon_ready:.2f}s later]")
    assert server.startup_seconds < START_TIMEOUT
    assert get_json(server, "/api/version")["text"].startswith("OctoPrint")


def test_fresh_basedir_connects_to_virtual_and_heats(server):
    data = wait_daemon_ready(server)
    assert "VIRTUAL" in data["options"]["ports"]
    assert 250000 in data["options"]["baudrates"]
    assert data["current"]["state"] == "Closed", data["current"]
    get_json(server, "/api/printer", expect=409)  # not operational yet

    started = time.monotonic()
    connect_virtual(server)
    assert time.monotonic() - started < CONNECT_TIMEOUT

    post(server, "/api/printer/tool", {"command": "target", "targets": {"tool0": 200}})
    post(server, "/api/printer/bed", {"command": "target", "target": 60})

    readings = []  # (tool0 actual, bed actual) as reported; the firmware reports every 2 s

    def risen():
        temperature = get_json(server, "/api/printer")["temperature"]
        if "tool0" not in temperature or "bed" not in temperature:
            return False  # the snapshot follows the command a moment later
        assert temperature["tool0"]["target"] == 200, temperature
        assert temperature["bed"]["target"] == 60, temperature
        reading = (temperature["tool0"]["actual"], temperature["bed"]["actual"])
        if None in reading:
            return False
        if not readings or readings[-1] != reading:
            readings.append(reading)
        return readings[-1][0] > readings[0][0] and readings[-1][1] > readings[0][1]

    wait_for(risen, 10, lambda: f"temperatures did not rise within 10s: {readings}")
    tool_first, tool_last = readings[0][0], readings[-1][0]
    bed_first, bed_last = readings[0][1], readings[-1][1]
    assert tool_first < tool_last < 200, readings  # heating with a lag, not jumping to the target
    assert bed_first < bed_last <= 60, readings
    assert get_json(server, "/api/printer")["state"]["flags"]["operational"] is True


def test_killing_the_web_worker_leaves_the_daemon_and_printer_alone(server):
    ensure_operational(server)
    daemon = the_one(daemon_pids(server), "daemon")
    worker = the_one(worker_pids(server), "web worker")
    before = tool0(server)
    watch = DaemonWatch(server.basedir)
    try:
        wait_for(lambda: watch.snapshots, 2, "the daemon sent no snapshot to a subscriber")
        os.kill(worker, signal.SIGKILL)
        killed = time.monotonic()

        new_worker = wait_for(lambda: [p for p in worker_pids(server) if p != worker], 15,
                              lambda: f"gunicorn booted no new worker:\n{server.log()}")
        after = wait_for(lambda: try_connection(server), 15,
                         lambda: f"the new worker does not answer:\n{server.log()}")
        answered = time.monotonic() - killed
        # Let the daemon publish a little longer: a reconnect would show up as a state change.
        time.sleep(0.3)
        still_subscribed = not watch.hung_up
    finally:
        watch.close()

    print(f"[new worker {new_worker} answered {answered:.2f}s after killing {worker}]")
    assert daemon_pids(server) == [daemon], "the daemon was replaced"
    assert after["current"]["state"] == "Operational", after["current"]
    assert after["current"]["port"] == "VIRTUAL" and after["current"]["baudrate"] == 250000, after["current"]
    # The daemon itself: our subscription stayed open and every state it published was Operational.
    assert still_subscribed, "the daemon hung up on a subscriber when the web worker died"
    states = {(state, port) for _, state, port, _ in watch.snapshots}
    assert states == {("OPERATIONAL", "VIRTUAL")}, watch.snapshots
    counts = [count for *_, count in watch.snapshots]
    assert counts == sorted(counts), f"the terminal log started over: {counts}"
    # The same virtual printer: a reconnect would have made a fresh one, cold and without a target.
    after_temps = tool0(server)
    assert after_temps["target"] == 200, after_temps
    assert before["actual"] is None or after_temps["actual"] >= before["actual"] - 1, (before, after_temps)


def test_killed_daemon_is_reported_as_error_and_restarted(server):
    ensure_operational(server)
    sock_path = server.basedir / SOCKET_NAME
    assert stat.S_ISSOCK(os.stat(sock_path).st_mode)
    assert stat.S_IMODE(os.stat(sock_path).st_mode) == 0o600, oct(os.stat(sock_path).st_mode)
    daemon = the_one(daemon_pids(server), "daemon")

    os.kill(daemon, signal.SIGKILL)
    killed = time.monotonic()
    seen = []  # (seconds after the kill, state text, port list)
    while True:
        data = try_connection(server)
        elapsed = time.monotonic() - killed
        if data is not None:
            seen.append((round(elapsed, 2), data["current"]["state"], data["options"]["ports"]))
            replaced = [pid for pid in daemon_pids(server) if pid != daemon]
            if replaced and data["current"]["state"] == "Closed" and "VIRTUAL" in data["options"]["ports"]:
                break
        assert elapsed < RESTART_TIMEOUT, f"no new daemon answered within {RESTART_TIMEOUT}s: {seen}\n{server.log()}"
        time.sleep(0.02)
    restarted = seen[-1][0]
    compact = [(t, s) for t, s, _ in seen]
    print(f"[daemon {daemon} killed; states over time {compact[:3]}...{compact[-2:]}; "
          f"a new daemon answered after {restarted:.2f}s]")

    new_daemon = the_one(daemon_pids(server), "daemon")
    assert new_daemon != daemon
    assert worker_pids(server), "the web worker went with the daemon"
    # While no daemon runs the API says Error, never a stale Operational. Right after the kill
    # the web side may not have read the hang-up yet, so only a brief stale answer is allowed.
    before_closed = [(t, s) for t, s, _ in seen[:-1]]
    stale = [(t, s) for t, s in before_closed if s == "Operational" and t > 0.5]
    assert not stale, f"the API kept reporting a dead daemon as Operational: {seen}"
    assert {s for _, s in before_closed} <= {"Operational", "Error"}, seen
    if restarted > 0.3:  # a down time that long spans several polls: one of them saw it
        assert "Error" in {s for _, s in before_closed}, seen
    # The new socket is private too.
    assert stat.S_IMODE(os.stat(sock_path).st_mode) == 0o600, oct(os.stat(sock_path).st_mode)
    # And the new daemon works: it can connect again.
    connect_virtual(server)


def test_sigterm_stops_the_daemon_and_removes_the_socket(tmp_path):
    server = start_server(tmp_path)
    try:
        wait_daemon_ready(server)
        connect_virtual(server)
        daemon = the_one(daemon_pids(server), "daemon")
        sock_path = server.basedir / SOCKET_NAME
        assert sock_path.exists()
        sd_folders = list((tmp_path / "tmp").glob("octoserve-sd-*"))
        assert sd_folders, "the virtual printer made no SD folder in TMPDIR"

        started = time.monotonic()
        os.kill(server.proc.pid, signal.SIGTERM)
        wait_for(lambda: os.waitid(os.P_PID, server.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT),
                 15, lambda: f"serve did not exit within 15s of SIGTERM:\n{server.log()}")
        stopped = time.monotonic() - started
        print(f"[serve stopped {stopped:.2f}s after SIGTERM]")

        left = processes_naming(server.basedir)
        assert not left, f"still running after serve exited: {left}"
        assert _stat(daemon) is None or _stat(daemon)[0] == "Z", f"daemon {daemon} still runs"
        assert not sock_path.exists(), "printer.sock was left behind"
        # The daemon closed the printer on its way out (a killed one would leave its SD folder).
        assert not [p for p in sd_folders if p.exists()], "the daemon did not shut the virtual printer down"
        server.proc.wait(timeout=5)
        assert server.proc.returncode == 0, f"serve exited with {server.proc.returncode}:\n{server.log()}"
    finally:
        server.stop()


# -- found while writing the above: each asserts the right behaviour ---------------------------

def kill_daemon_and_wait_for_error(server) -> int:
    """SIGKILL the daemon and wait until the API reports it; the supervisor waits 1 s to restart."""
    wait_daemon_ready(server)
    daemon = the_one(daemon_pids(server), "daemon")
    os.kill(daemon, signal.SIGKILL)
    wait_for(lambda: (try_connection(server) or {}).get("current", {}).get("state") == "Error", 1,
             "the API did not report the dead daemon")
    return daemon


def wait_for_new_daemon(server, old: int) -> None:
    wait_for(lambda: [p for p in daemon_pids(server) if p != old], RESTART_TIMEOUT,
             lambda: f"no new daemon:\n{server.log()}")
    wait_daemon_ready(server)


def test_connect_while_the_daemon_is_down_is_409_not_a_bad_port(server):
    daemon = kill_daemon_and_wait_for_error(server)
    try:
        response = requests.post(server.url + "/api/connection", headers={"X-Api-Key": KEY}, timeout=10,
                                 json={"command": "connect", "port": "VIRTUAL", "baudrate": 250000})
        still_down = not [p for p in daemon_pids(server) if p != daemon]
        assert still_down, "the daemon came back before the request: the test proved nothing"
        # VIRTUAL is a good port; what is wrong is that no daemon runs: 409, as for every other command.
        assert response.status_code == 409, f"{response.status_code} {response.text}"
    finally:
        wait_for_new_daemon(server, daemon)


def test_supervisor_logs_how_the_daemon_really_died(server):
    daemon = kill_daemon_and_wait_for_error(server)
    wait_for_new_daemon(server, daemon)
    lines = [line for line in server.log().splitlines() if "printer daemon exited" in line]
    assert lines, server.log()
    # Every daemon this module lost was SIGKILLed: Popen says -9. "status 0" passes a crash off as a
    # clean exit (gunicorn's arbiter reaps any child, so the supervisor's poll() can get ECHILD).
    wrong = [line for line in lines if "status -9" not in line and "SIGKILL" not in line]
    assert not wrong, wrong


def test_sigterm_also_stops_a_daemon_that_serve_adopted(tmp_path):
    """A serve killed outright leaves its daemon (the print goes on); the next serve adopts it.
    Stopping that serve must stop the daemon too: one command runs both and stops both."""
    first = start_server(tmp_path)
    second = None
    try:
        wait_daemon_ready(first)
        connect_virtual(first)
        daemon = the_one(daemon_pids(first), "daemon")
        os.kill(first.proc.pid, signal.SIGKILL)  # its worker notices the lost parent and leaves
        wait_for(lambda: set(processes_naming(first.basedir)) == {daemon}, 5,
                 lambda: f"expected only the orphaned daemon: {processes_naming(first.basedir)}")

        second = Server(first.basedir, tmp_path, extra_env={"TMPDIR": tmp_path / "tmp"}).start()
        current = wait_daemon_ready(second)["current"]
        assert (current["state"], current["port"]) == ("Operational", "VIRTUAL"), current  # not interrupted
        assert "adopting" in second.log(), second.log()

        os.kill(second.proc.pid, signal.SIGTERM)
        wait_for(lambda: os.waitid(os.P_PID, second.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT),
                 15, lambda: f"serve did not exit within 15s of SIGTERM:\n{second.log()}")
        left = wait_for(lambda: not processes_naming(first.basedir) or None, 5,
                        lambda: f"the adopted daemon outlived serve: {processes_naming(first.basedir)}")
        assert left
        assert not (first.basedir / SOCKET_NAME).exists(), "printer.sock was left behind"
    finally:
        if second is not None:
            second.stop()
        first.stop()  # SIGKILLs the first server's process group, where the daemon still lives
