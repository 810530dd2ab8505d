"""Run the `octoserve` command and server as real subprocesses, and always clean them up."""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

CLI = [sys.executable, "-m", "octoserve"]
BASEDIR_VARIABLE = "OCTOSERVE_BASEDIR"
CLI_TIMEOUT = 30  # seconds; a CLI command is expected to take well under one
START_TIMEOUT = 15  # seconds the server may take to answer HTTP


def clean_env(basedir_variable=None, **extra) -> dict:
    """The current environment without a stray OCTOSERVE_BASEDIR (unless one is given)."""
    env = {k: v for k, v in os.environ.items() if k != BASEDIR_VARIABLE}
    if basedir_variable is not None:
        env[BASEDIR_VARIABLE] = str(basedir_variable)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def _die_with_parent() -> None:
    """In the child before exec (Linux): get SIGTERM if the test process dies without cleaning up."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _kill_group(proc) -> None:
    """SIGKILL the process group of a child that has not been reaped yet (so the id is still ours)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_cli(*args, basedir=None, env=None, input=None, timeout=CLI_TIMEOUT) -> subprocess.CompletedProcess:
    """Run ``python -m octoserve [--basedir DIR] ARGS`` and return its result (text).

    The child gets its own session, hence no controlling terminal: a password prompt reads
    stdin instead of /dev/tty. On timeout the whole process group is killed.
    """
    command = list(CLI)
    if basedir is not None:
        command += ["--basedir", str(basedir)]
    command += [str(a) for a in args]
    proc = subprocess.Popen(
        command, env=clean_env() if env is None else env, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(input=input or "", timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        stdout, stderr = proc.communicate()
        raise AssertionError(
            f"{command} did not finish within {timeout}s\nstdout: {stdout}\nstderr: {stderr}"
        ) from None
    return subprocess.CompletedProcess(command, proc.returncode, stdout, stderr)


def ok(*args, **kwargs) -> str:
    """Run a CLI command that must succeed; return its stdout."""
    result = run_cli(*args, **kwargs)
    assert result.returncode == 0, f"{result.args} failed ({result.returncode}): {result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout


def assert_one_line_error(result: subprocess.CompletedProcess) -> str:
    """A failure: non-zero exit, exactly one non-empty stderr line, no traceback. Returns the line."""
    context = f"{result.args}\nexit: {result.returncode}\nstdout: {result.stdout!r}\nstderr: {result.stderr!r}"
    assert result.returncode != 0, context
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, context
    lines = result.stderr.splitlines()
    assert len(lines) == 1, context
    assert lines[0].strip(), context
    return lines[0]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_unreaped(proc, timeout: float) -> bool:
    """Wait for a child to exit without reaping it; True if it did within the time."""
    deadline = time.monotonic() + timeout
    while not _exited(proc):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _exited(proc) -> bool:
    """Whether a child has exited, leaving it unreaped (a zombie keeps its process group id ours)."""
    if proc.returncode is not None:
        return True
    return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


class Server:
    """``python -m octoserve serve`` on a base directory and a free port, in its own process group."""

    def __init__(self, basedir: Path, logdir: Path, extra_env: dict | None = None):
        self.basedir = Path(basedir)
        self.extra_env = dict(extra_env or {})
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(logdir) / f"server-{self.port}.log"
        self.proc = None
        self.startup_seconds = None

    def start(self) -> "Server":
        command = CLI + ["serve", "--port", str(self.port), "--basedir", str(self.basedir)]
        # XDG_RUNTIME_DIR: gunicorn puts its control socket there, not in the tester's home.
        env = clean_env(XDG_RUNTIME_DIR=self.log_path.parent, **self.extra_env)
        self._log = open(self.log_path, "wb")
        started = time.monotonic()
        self.proc = subprocess.Popen(
            command, env=env, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        try:
            self._wait_until_answering(started)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_answering(self, started: float) -> None:
        deadline = started + START_TIMEOUT
        while time.monotonic() < deadline:
            if _exited(self.proc):
                self.stop()
                raise AssertionError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                requests.get(self.url + "/api/version", timeout=1)
            except requests.ConnectionError:
                time.sleep(0.05)
                continue
            except requests.Timeout:
                continue
            self.startup_seconds = time.monotonic() - started
            return
        raise AssertionError(f"server did not answer within {START_TIMEOUT}s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM, a bounded wait, then SIGKILL to the whole group (workers included)."""
        if self.proc is None:
            return
        try:
            if self.proc.returncode is None:
                # os.kill, not send_signal: that one would reap the master first.
                os.kill(self.proc.pid, signal.SIGTERM)
                _wait_unreaped(self.proc, 15)
        finally:
            if self.proc.returncode is None:
                # The master is alive or a zombie: its group id cannot have been reused.
                # Kill whatever is left in the group (e.g. a stuck worker), then reap.
                _kill_group(self.proc)
                self.proc.wait(timeout=10)
            self._log.close()

    def get(self, path, key=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if key is not None:
            headers["X-Api-Key"] = key
        return requests.get(self.url + path, headers=headers, timeout=10, **kwargs)

    def login(self, name, password):
        """POST /api/login with a CSRF cookie and header, as a browser would."""
        session = requests.Session()
        session.get(self.url + "/api/version", timeout=10)
        token = session.cookies.get(f"csrf_token_P{self.port}")
        assert token, "the server handed out no CSRF cookie"
        return session.post(
            self.url + "/api/login", json={"user": name, "pass": password},
            headers={"X-CSRF-Token": token}, timeout=10,
        )
