"""Processes for the benchmark: start in their own process group, stop for sure, and measure (/proc)."""
import atexit
import os
import signal
import subprocess
import threading
import time

_started = []  # every Popen made through start(), so an interrupted run leaves nothing behind
_lock = threading.Lock()


# The load benchmarks' method: the server's processes on one core, the load generators and the
# simulated firmware on the other, every one at the same nice level. Clients live on other
# machines in real use; this keeps them from stealing the server's CPU without giving either
# server a privilege the other lacks. None: no pinning (--no-pin).
SERVER_CPUS = "0"
LOAD_CPUS = "1"


def start(argv, *, log_path=None, env=None, cwd=None, cpus=None) -> subprocess.Popen:
    """Popen in a new session (its own process group), stdout and stderr to `log_path`; pinned to `cpus`."""
    if cpus is not None:
        argv = ["taskset", "-c", cpus, *argv]
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL
    try:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, cwd=cwd, start_new_session=True)
    finally:
        if log_path:
            out.close()
    with _lock:
        _started.append(proc)
    return proc


def wait_for_path(proc: subprocess.Popen, path: str, timeout: float, what: str) -> None:
    """Until `path` exists (a process's sign that it is ready); stop it and raise if it dies or takes too long."""
    deadline = time.monotonic() + timeout
    while not os.path.lexists(path):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop(proc)
            raise RuntimeError(what)
        time.sleep(0.01)


def stop(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    """SIGTERM to the process group, SIGKILL to what is left after `timeout`."""
    if proc is None:
        return
    if proc.poll() is None:
        _signal_group(proc, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    # Children (a server's workers and daemon) may outlive the leader: the group goes in any case.
    _signal_group(proc, signal.SIGKILL)
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        pass
    with _lock:
        if proc in _started:
            _started.remove(proc)


def _signal_group(proc, signum):
    try:
        os.killpg(proc.pid, signum)  # start_new_session: the group id is the leader's pid
    except (ProcessLookupError, PermissionError):
        pass


def stop_all() -> None:
    with _lock:
        procs = list(_started)
    for proc in procs:
        stop(proc, timeout=5.0)


atexit.register(stop_all)


# -- /proc measurements -------------------------------------------------------------------------
def _children_map():
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: fields start after the last ')'.
        fields = stat[stat.rfind(b")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def tree(root: int) -> list:
    """`root` and all its descendants."""
    children = _children_map()
    result, todo = [], [root]
    while todo:
        pid = todo.pop()
        result.append(pid)
        todo.extend(children.get(pid, ()))
    return result


def _status_kb(pid: int, field: bytes) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def rss_kb(pids) -> int:
    return sum(_status_kb(pid, b"VmRSS:") for pid in pids)


def pss_kb(pids) -> int:
    """Proportional set size: shared pages (forked workers) counted once across the tree."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
                for line in f:
                    if line.startswith(b"Pss:"):
                        total += int(line.split()[1])
                        break
        except (OSError, ValueError):
            pass
    return total


def cpu_ticks(pids) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total


TICK = os.sysconf("SC_CLK_TCK")


def cpu_by_process(pids) -> dict:
    """CPU seconds so far of each process, keyed by a short name from its command line."""
    out = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
        except OSError:
            continue
        name = " ".join(a for a in argv[1:4] if not a.startswith("/")) or (argv[0] if argv else str(pid))
        out[f"{pid} {name}"] = cpu_ticks([pid]) / TICK
    return out


def wait_quiet(root: int, *, below: float = 0.05, window: float = 0.5, timeout: float = 60.0) -> float:
    """Wait until the tree uses less than `below` of a core over `window` seconds; returns the wait."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        pids = tree(root)
        before = cpu_ticks(pids)
        time.sleep(window)
        if (cpu_ticks(pids) - before) / TICK / window < below:
            break
    return time.monotonic() - started


class RssSampler:
    """Samples the tree's summed VmRSS every `interval` seconds in a thread; `peak_kb` when stopped."""

    def __init__(self, root: int, interval: float = 0.005):
        self.root, self.interval = root, interval
        self.samples = 0
        self.peak_kb = 0
        self.baseline_kb = rss_kb(tree(root))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)

    def _run(self):
        pids, refreshed = tree(self.root), time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            if now - refreshed > 0.2:
                pids, refreshed = tree(self.root), now
            value = rss_kb(pids)
            self.samples += 1
            if value > self.peak_kb:
                self.peak_kb = value
            self._stop.wait(self.interval)


def _cpu_times():
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields[:8]), idle


def machine_busy(window: float = 0.5) -> float:
    """Cores in use on the whole machine over `window` seconds (other users' work included)."""
    total0, idle0 = _cpu_times()
    time.sleep(window)
    total1, idle1 = _cpu_times()
    span = total1 - total0
    if span <= 0:
        return 0.0
    return (span - (idle1 - idle0)) / span * (os.cpu_count() or 1)


def wait_machine_quiet(max_busy: float = 0.3, timeout: float = 30.0, window: float = 0.5) -> float:
    """Wait (at most `timeout`) until the machine uses less than `max_busy` cores; the last reading."""
    started = time.monotonic()
    busy = machine_busy(window)
    while busy > max_busy and time.monotonic() - started < timeout:
        busy = machine_busy(window)
    return busy
