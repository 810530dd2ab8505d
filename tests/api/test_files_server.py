"""Uploads through a real `octoserve serve` (gunicorn, gthread): memory, dropped clients, killed workers.

One server for the module. What the test client cannot show: gunicorn's own request body reader,
a client that hangs up mid-body, and a web worker SIGKILLed mid-upload (its spool is swept by the
worker gunicorn starts in its place).
"""
import hashlib
import os
import signal
import socket
import time
from pathlib import Path

import pytest
import requests

from tests.cli_helpers import Server, ok
from tests.daemon_helpers import wait_for

KEY = "files-admin-key-".ljust(40, "x")
BOUNDARY = "octoserve-test-boundary"
MB = 1024 * 1024
LINE = b"G1 X100.000 Y100.000 E0.01234 F1800\n"


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def worker_pid(server) -> int:
    """gunicorn forks its worker from the master: same command line, parent = master."""
    master = _cmdline(server.proc.pid)
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            fields = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == server.proc.pid and fields[0] != "Z" and _cmdline(int(name)) == master:
            found.append(int(name))
    assert len(found) == 1, f"expected one web worker, found {found}"
    return found[0]


def memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def multipart_head(name: str) -> bytes:
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode()


TAIL = f"\r\n--{BOUNDARY}--\r\n".encode()


class StreamedBody:
    """The multipart body, generated 64 KiB at a time (the test process holds no big buffer either).

    A length makes requests send Content-Length, not chunked transfer encoding.
    """

    def __init__(self, name: str, size: int):
        self.name, self.size = name, size
        self.digest = hashlib.sha1()

    def __len__(self):
        return len(multipart_head(self.name)) + self.size + len(TAIL)

    def __iter__(self):
        yield multipart_head(self.name)
        chunk = LINE * (64 * 1024 // len(LINE))
        sent = 0
        while sent < self.size:
            piece = chunk[:self.size - sent]
            self.digest.update(piece)
            sent += len(piece)
            yield piece
        yield TAIL


def upload_streamed(server, name, size):
    body = StreamedBody(name, size)
    response = requests.post(server.url + "/api/files/local", data=body, timeout=120, headers={
        "X-Api-Key": KEY, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
    return response, body.digest.hexdigest()


def uploads_of(server) -> list:
    root = server.basedir / "uploads"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("files-serve")
    basedir = workdir / "base"
    basedir.mkdir()
    ok("user", "add", "admin", "--password", "admin-pw", "--admin", "--apikey", KEY, basedir=basedir)
    tmp = workdir / "tmp"
    tmp.mkdir()
    running = Server(basedir, workdir, extra_env={"TMPDIR": tmp}).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def clean(server):
    yield server
    for name in uploads_of(server):
        requests.delete(f"{server.url}/api/files/local/{name}", headers={"X-Api-Key": KEY}, timeout=10)


def test_a_50_mb_upload_barely_moves_the_workers_memory(clean, record_property):
    server = clean
    response, _ = upload_streamed(server, "warmup.gcode", MB)  # imports, thread stacks, first spool
    assert response.status_code == 201, response.text
    worker = worker_pid(server)
    before = memory_kib(worker, "VmRSS")
    # VmHWM is the peak since the worker started; reset it so it measures this upload alone.
    Path(f"/proc/{worker}/clear_refs").write_text("5")
    response, digest = upload_streamed(server, "big.gcode", 50 * MB)
    assert response.status_code == 201, response.text
    peak = memory_kib(worker, "VmHWM")
    growth_mib = (peak - before) / 1024
    record_property("rss_growth_mib", round(growth_mib, 2))
    print(f"\nweb worker RSS before {before / 1024:.1f} MiB, peak during a 50 MiB upload {peak / 1024:.1f} MiB "
          f"(+{growth_mib:.2f} MiB)")
    assert growth_mib < 16
    entry = requests.get(f"{server.url}/api/files/local/big.gcode", headers={"X-Api-Key": KEY}, timeout=10).json()
    assert entry["size"] == 50 * MB and entry["hash"] == digest
    assert uploads_of(server) == ["big.gcode", "warmup.gcode"]


def test_a_client_hanging_up_mid_upload_leaves_nothing(clean):
    server = clean
    head = (f"POST /api/files/local HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: {KEY}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {20 * MB}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head + multipart_head("dropped.gcode"))
        for _ in range(32):
            sock.sendall(LINE * 1000)
        wait_for(lambda: uploads_of(server), 5, "the spool to appear")
        assert [name for name in uploads_of(server) if not name.startswith(".upload-")] == []
    wait_for(lambda: uploads_of(server) == [], 10, "the half upload to be deleted")


def test_a_killed_worker_leaves_no_half_file(clean):
    server = clean
    worker = worker_pid(server)
    head = (f"POST /api/files/local HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: {KEY}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {20 * MB}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head + multipart_head("killed.gcode") + LINE * 10000)
        wait_for(lambda: uploads_of(server), 5, "the spool to appear")
        os.kill(worker, signal.SIGKILL)
        wait_for(lambda: worker_pid_or_none(server) not in (None, worker), 20, "gunicorn to start a new worker")
    # The new worker sweeps the dead one's spool when it opens the storage.
    deadline = time.monotonic() + 10
    while uploads_of(server) and time.monotonic() < deadline:
        requests.get(server.url + "/api/files", headers={"X-Api-Key": KEY}, timeout=10)
        time.sleep(0.1)
    assert uploads_of(server) == []


def worker_pid_or_none(server):
    try:
        return worker_pid(server)
    except AssertionError:
        return None


@pytest.mark.parametrize("raw_path", [
    "/api/files/local/../../etc/passwd", "/api/files/local/..%2F..%2Fsecret.gcode",
    "/api/files/local/%2e%2e/%2e%2e/secret.gcode", "/downloads/files/local/..%2f..%2fsecret.gcode",
    "/downloads/files/local/%2Fetc%2Fpasswd", "/api/files/local//etc/passwd",
])
def test_raw_traversal_requests_over_http(server, raw_path):
    """Sent byte for byte (requests would normalise the path): gunicorn decodes, the app refuses."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(f"GET {raw_path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: {KEY}\r\nConnection: close\r\n\r\n"
                     .encode())
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    status = int(reply.split(b" ", 2)[1])
    assert status in (400, 404), reply[:300]


# -- the upload reader on gunicorn's socket (octoserve.api.body): fields, keep-alive, pipelining --------
class RawConnection:
    """One client connection, requests written by hand, responses read from one buffered reader."""

    def __init__(self, server):
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        self.reader = self.sock.makefile("rb")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def response(self):
        status = int(self.reader.readline().split()[1])
        headers = {}
        while (line := self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, headers, self.reader.read(int(headers.get("content-length", 0)))

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


def field(name: str, value: str) -> bytes:
    return f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n".encode()


def post(body: bytes) -> bytes:
    """A POST /api/files/local of a multipart body (the boundary quoted in the header, as some clients do)."""
    return (f"POST /api/files/local HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: {KEY}\r\n"
            f"Content-Type: multipart/form-data; boundary=\"{BOUNDARY}\"\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode() + body


def get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: {KEY}\r\n\r\n".encode()


def test_fields_around_the_file_and_keep_alive_over_gunicorn(clean):
    """A 3 MB file with fields before and after it, then a second request on the same connection."""
    server = clean
    data = os.urandom(3 * MB + 12345)  # random bytes: any byte sequence must come through intact
    body = (field("select", "false") + multipart_head("raw.gcode") + data + b"\r\n" + field("path", "in/here")
            + f"--{BOUNDARY}--\r\n".encode())
    connection = RawConnection(server)
    try:
        connection.send(post(body))
        status, headers, reply = connection.response()
        assert status == 201, reply
        assert headers.get("connection", "").lower() != "close"
        connection.send(get("/api/files/local/in/here/raw.gcode"))
        status, _, reply = connection.response()
        assert status == 200, reply
    finally:
        connection.close()
    entry = requests.get(f"{server.url}/api/files/local/in/here/raw.gcode", headers={"X-Api-Key": KEY},
                         timeout=10).json()
    assert entry["hash"] == hashlib.sha1(data).hexdigest() and entry["size"] == len(data)
    assert (server.basedir / "uploads" / "in" / "here" / "raw.gcode").read_bytes() == data
    assert uploads_of(server) == ["in", "in/here", "in/here/raw.gcode"]


def test_a_pipelined_request_behind_an_upload_is_answered(clean):
    """gunicorn read the next request along with the small body: it is handed back, not swallowed."""
    server = clean
    body = multipart_head("small.gcode") + LINE * 10 + TAIL
    connection = RawConnection(server)
    try:
        connection.send(post(body) + get("/api/files/local/small.gcode"))
        assert connection.response()[0] == 201
        status, _, reply = connection.response()
    finally:
        connection.close()
    assert status == 200 and b'"small.gcode"' in reply
    assert (server.basedir / "uploads" / "small.gcode").read_bytes() == LINE * 10


@pytest.mark.parametrize("body", [
    multipart_head("cut.gcode") + LINE * 1000,  # all of Content-Length arrives, the final boundary never does
    f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\n".encode() + LINE * 1000 + TAIL,  # refused at once
], ids=["unterminated", "refused-halfway"])
def test_a_bad_body_is_400_and_the_connection_stays_usable(clean, body):
    """Whatever part of the body the reader took, gunicorn skips the rest before the next request.

    (gunicorn skips at most 64 KiB so; with more left over it closes the connection instead.)
    """
    server = clean
    connection = RawConnection(server)
    try:
        connection.send(post(body))
        status, _, reply = connection.response()
        assert status == 400 and b"Invalid multipart/form-data body" in reply, reply
        connection.send(get("/api/version"))
        assert connection.response()[0] == 200
    finally:
        connection.close()
    assert uploads_of(server) == []
