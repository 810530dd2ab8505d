"""The two servers under test behind one interface: prepare a base directory, start, talk REST, stop.

Both speak OctoPrint's REST API, so everything after start-up is one code path (bench/scenarios.py).
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import time

import requests

import procs

API_KEY = "BENCHKEY0123456789ABCDEF01234567"
OCTOPRINT_VERSION = "1.11.8"


class Unsupported(Exception):
    """The server lacks what a measurement needs (an endpoint or a command): skip it, say why."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Host:
    name = "?"

    def __init__(self, workdir: str, link_glob: str):
        self.workdir = workdir
        self.link_glob = link_glob
        self.basedir = os.path.join(workdir, self.slug)
        self.log_path = os.path.join(workdir, f"{self.slug}.log")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.session = requests.Session()
        self.session.headers["X-Api-Key"] = API_KEY

    # -- lifecycle ---------------------------------------------------------------------------
    def prepare(self) -> None:
        raise NotImplementedError

    def command(self) -> list:
        raise NotImplementedError

    def start(self, timeout: float = 120.0) -> float:
        """Start the server; return seconds from spawning to the first 200 from GET /api/version."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        started = time.monotonic()
        self.proc = procs.start(self.command(), log_path=self.log_path, env=self.env(), cpus=procs.SERVER_CPUS)
        probe = requests.Session()
        probe.headers["X-Api-Key"] = API_KEY
        while time.monotonic() - started < timeout:
            code = self.proc.poll()
            if code is not None:
                self.stop()  # its children may still run
                raise RuntimeError(f"{self.name} exited with {code} while starting; see {self.log_path}")
            try:
                if probe.get(self.url + "/api/version", timeout=2).status_code == 200:
                    return time.monotonic() - started
            except requests.RequestException:
                pass
            time.sleep(0.01)
        self.stop()
        raise RuntimeError(f"{self.name} gave no answer within {timeout:.0f} s; see {self.log_path}")

    def env(self) -> dict:
        env = dict(os.environ)
        env.pop("OCTOSERVE_BASEDIR", None)
        # An installed server keeps its compiled modules: without this (set in some shells and
        # CI machines) every start compiles every module of both servers again.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def stop(self) -> None:
        procs.stop(self.proc)
        self.proc = None
        self.session.close()
        self.session = requests.Session()
        self.session.headers["X-Api-Key"] = API_KEY

    @property
    def pid(self) -> int:
        return self.proc.pid

    # -- REST --------------------------------------------------------------------------------
    def get(self, path, **kw):
        kw.setdefault("timeout", 30)
        return self.session.get(self.url + path, **kw)

    def post(self, path, **kw):
        kw.setdefault("timeout", 30)
        return self.session.post(self.url + path, **kw)

    def delete(self, path, **kw):
        kw.setdefault("timeout", 30)
        return self.session.delete(self.url + path, **kw)

    def connection_state(self) -> str:
        r = self.get("/api/connection")
        r.raise_for_status()
        return r.json()["current"]["state"]

    def connect(self, port: str, timeout: float = 60.0) -> float:
        """Connect to `port` and wait for Operational; returns the seconds it took."""
        started = time.monotonic()
        while True:
            r = self.post("/api/connection", json={"command": "connect", "port": port, "baudrate": 250000,
                                                   "printerProfile": "_default", "autoconnect": False})
            # octoserve's web side answers before its printer daemon is up, and lists no ports until
            # then: give it a moment rather than fail.
            if r.status_code != 400 or "port" not in r.text or time.monotonic() - started > 15:
                break
            time.sleep(0.1)
        if r.status_code >= 400:
            raise RuntimeError(f"{self.name}: connect refused: {r.status_code} {r.text[:300]}")
        state = None
        while time.monotonic() - started < timeout:
            state = self.connection_state()
            if state == "Operational":
                return time.monotonic() - started
            if state.startswith("Error") or "error" in state.lower():
                raise RuntimeError(f"{self.name}: connection failed: {state}")
            time.sleep(0.05)
        raise RuntimeError(f"{self.name}: not operational after {timeout:.0f} s (state {state!r})")

    def disconnect(self, timeout: float = 30.0) -> None:
        try:
            self.post("/api/connection", json={"command": "disconnect"})
        except requests.RequestException:
            return
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            try:
                if self.connection_state() in ("Closed", "Offline"):
                    return
            except requests.RequestException:
                return
            time.sleep(0.1)

    def upload(self, path: str, name: str = None, body: bytes = None, timeout: float = 300.0) -> requests.Response:
        """POST /api/files/local; `body` is a ready multipart body (so building it is not timed)."""
        name = name or os.path.basename(path)
        if body is None:
            body, content_type = multipart(path, name)
        else:
            body, content_type = body
        r = self.session.post(self.url + "/api/files/local", data=body, timeout=timeout,
                              headers={"Content-Type": content_type})
        if r.status_code == 404 or r.status_code == 405:
            raise Unsupported(f"{self.name} has no POST /api/files/local ({r.status_code})")
        if r.status_code >= 400:
            raise RuntimeError(f"{self.name}: upload of {name} failed: {r.status_code} {r.text[:300]}")
        return r

    def file_info(self, name: str):
        return self.get(f"/api/files/local/{name}")

    def select_and_print(self, name: str) -> None:
        r = self.post(f"/api/files/local/{name}", json={"command": "select", "print": True})
        if r.status_code in (404, 405) and not self._has_files_api():
            raise Unsupported(f"{self.name} has no file command endpoint POST /api/files/local/<name>")
        if r.status_code >= 400:
            raise RuntimeError(f"{self.name}: select+print failed: {r.status_code} {r.text[:300]}")

    def _has_files_api(self) -> bool:
        return self.get("/api/files").status_code == 200

    def job(self) -> dict:
        r = self.get("/api/job")
        if r.status_code in (404, 405):
            raise Unsupported(f"{self.name} has no GET /api/job")
        r.raise_for_status()
        return r.json()

    def check_job_api(self) -> None:
        """Raise Unsupported unless the files and job endpoints the streaming runs need answer."""
        for path in ("/api/files", "/api/job"):
            r = self.get(path)
            if r.status_code in (404, 405):
                raise Unsupported(f"{self.name} has no GET {path} yet ({r.status_code})")

    def analyse_command(self, path: str) -> list:
        raise NotImplementedError


def multipart(path: str, name: str):
    boundary = "----octoservebench" + os.urandom(8).hex()
    with open(path, "rb") as f:
        data = f.read()
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return head + data + tail, f"multipart/form-data; boundary={boundary}"


class Octoserve(Host):
    name = "octoserve"
    slug = "octoserve"

    def __init__(self, workdir, link_glob, python=None):
        self.python = python or sys.executable
        super().__init__(workdir, link_glob)

    def cli(self, *args, check=True):
        argv = [self.python, "-m", "octoserve", "--basedir", self.basedir, *args]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=self.env())
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed: {result.stderr.strip() or result.stdout.strip()}")
        return result

    def prepare(self) -> None:
        shutil.rmtree(self.basedir, ignore_errors=True)
        os.makedirs(self.basedir)
        self.cli("user", "add", "admin", "--admin", "--apikey", API_KEY, "--password", "bench-password")
        self.cli("config", "set", "serial.additionalPorts", json.dumps([self.link_glob]))
        self.cli("config", "set", "feature.sdSupport", "false")
        self.cli("config", "set", "server.firstRun", "false")

    def command(self) -> list:
        return [self.python, "-m", "octoserve", "--basedir", self.basedir, "serve",
                "--host", "127.0.0.1", "--port", str(self.port)]

    def analyse_command(self, path: str) -> list:
        probe = self.cli("analyse", "--help", check=False)
        if probe.returncode != 0:
            raise Unsupported("octoserve has no `analyse` command yet")
        return [self.python, "-m", "octoserve", "--basedir", self.basedir, "analyse", path]


OCTOPRINT_CONFIG = """\
server:
  firstRun: false
  onlineCheck:
    enabled: false
  pluginBlacklist:
    enabled: false
  seenWizards:
    corewizard: "4"
    tracking: null
    backup: null
plugins:
  tracking:
    enabled: false
  announcements:
    enabled_channels: []
  virtual_printer:
    enabled: false
serial:
  additionalPorts:
  - {link_glob}
  autoconnect: false
  log: false
feature:
  sdSupport: false
"""


class OctoPrint(Host):
    name = "OctoPrint"
    slug = "octoprint"

    def __init__(self, workdir, link_glob, venv):
        self.venv = venv
        super().__init__(workdir, link_glob)

    @property
    def exe(self) -> str:
        return os.path.join(self.venv, "bin", "octoprint")

    def prepare(self) -> None:
        shutil.rmtree(self.basedir, ignore_errors=True)
        os.makedirs(self.basedir)
        with open(os.path.join(self.basedir, "config.yaml"), "w") as f:
            f.write(OCTOPRINT_CONFIG.format(link_glob=json.dumps(self.link_glob)))
        result = subprocess.run([self.exe, "--basedir", self.basedir, "user", "add", "admin",
                                 "--password", "bench-password", "--admin"],
                                capture_output=True, text=True, timeout=300, env=self.env())
        if result.returncode != 0:
            raise RuntimeError(f"octoprint user add failed: {result.stderr.strip()}")
        # The API key goes straight into users.yaml, with OctoPrint's own yaml helpers.
        script = ("import sys\nfrom octoprint.util import yaml\n"
                  "path = sys.argv[1]\nusers = yaml.load_from_file(path=path)\n"
                  "users['admin']['apikey'] = sys.argv[2]\n"
                  "yaml.save_to_file(users, path=path)\n")
        subprocess.run([os.path.join(self.venv, "bin", "python"), "-c", script,
                        os.path.join(self.basedir, "users.yaml"), API_KEY], check=True, timeout=120)

    def command(self) -> list:
        argv = [self.exe, "--basedir", self.basedir, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        if os.geteuid() == 0:
            argv.append("--iknowwhatimdoing")  # OctoPrint refuses root without it
        return argv

    def analyse_command(self, path: str) -> list:
        return [self.exe, "--basedir", self.basedir, "analysis", "gcode", path]


def ensure_octoprint_venv(venv: str, log=print) -> str:
    """Make `venv` with OctoPrint 1.11.8 from PyPI unless it is there already."""
    exe = os.path.join(venv, "bin", "octoprint")
    if os.path.exists(exe):
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=120).stdout
        if OCTOPRINT_VERSION in out:
            return venv
        raise RuntimeError(f"{venv} holds {out.strip()!r}, not OctoPrint {OCTOPRINT_VERSION}; remove it or pick "
                           f"another --reference-venv")
    log(f"installing OctoPrint {OCTOPRINT_VERSION} into {venv} (a few minutes)")
    subprocess.run(["python3", "-m", "venv", venv], check=True)
    subprocess.run([os.path.join(venv, "bin", "pip"), "install", "-q", f"OctoPrint=={OCTOPRINT_VERSION}"],
                   check=True)
    return venv
