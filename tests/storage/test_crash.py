"""A writer killed with SIGKILL at any moment leaves the old or the new file, never half of one."""
import json
import os
import random
import signal
import threading
import time

from octoserve.storage import Database
from tests.storage.workers import SLOTS, checksum, spawn

KILLS = 25


def kill_writer(path, rng, mid_write, spread=0.002):
    """Start a crash writer and SIGKILL it: after a random while, or once it has opened a temp file."""
    proc = spawn("crash_writer", path)
    try:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        if mid_write:
            wait_for_new_temp_file(path, proc.pid)
            time.sleep(rng.uniform(0, spread))  # somewhere in write, fsync or rename
        else:
            time.sleep(rng.uniform(0, 0.12))
    finally:
        proc.kill()
        _, stderr = proc.communicate()
    assert proc.returncode == -signal.SIGKILL, f"writer died on its own:\n{stderr}"


def wait_for_new_temp_file(path, pid, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not list(path.parent.glob(f".{path.name}.{pid}.*.tmp")):
        assert time.monotonic() < deadline, "the writer never started a write"


def read_generations(path):
    """Check the file parses and every document is whole; return the sorted generations."""
    json.loads(path.read_bytes())  # parses as plain JSON, before TinyDB sees it
    db = Database(path)
    db.check()
    with db.locked():
        docs = db.table("t").all()
    for doc in docs:
        assert set(doc) == {"gen", "payload", "sha"}
        assert checksum(doc["payload"]) == doc["sha"], f"torn document gen {doc['gen']}"
    return sorted(doc["gen"] for doc in docs)


def assert_one_whole_state(gens):
    """The writer keeps the SLOTS newest generations: a contiguous run ending at the newest."""
    if gens:
        newest = gens[-1]
        assert gens == list(range(max(1, newest - SLOTS + 1), newest + 1))


def leftovers(path):
    return sorted(path.parent.glob(f".{path.name}.*.tmp"))


def test_sigkill_at_any_moment_leaves_old_or_new_file(tmp_path):
    path = tmp_path / "crash.json"
    rng = random.Random(1234)
    newest = landed_mid_write = 0
    for kill in range(KILLS):
        kill_writer(path, rng, mid_write=kill % 2 == 0)
        landed_mid_write += bool(leftovers(path))  # read before check() sweeps them away
        if not path.exists():
            continue  # killed before its first write completed
        gens = read_generations(path)
        assert_one_whole_state(gens)
        assert gens[-1] >= newest, "a committed write was rolled back"
        newest = gens[-1]
    assert newest >= KILLS // 5, "the writers hardly wrote anything; the test proved little"
    assert landed_mid_write, "no kill landed inside a write; the test proved little"


def test_leftover_temp_files_are_swept_at_start_and_never_read(tmp_path):
    path = tmp_path / "crash.json"
    rng = random.Random(99)
    first = Database(path)
    with first.locked():
        first.table("t").insert({"gen": 1, "payload": "", "sha": checksum("")})
    for _ in range(10):
        kill_writer(path, rng, mid_write=True, spread=0)
    stale = leftovers(path)
    assert 1 <= len(stale) <= 10  # at most one per killed process
    db = Database(path)  # a later start, beside the leftovers
    with db.locked():
        before = sorted(doc["gen"] for doc in db.table("t").all())
        db.table("t").insert({"gen": before[-1] + 1, "payload": "", "sha": checksum("")})
    assert leftovers(path) == stale, "a normal write must leave no temp file of its own"
    db.check()  # what start-up runs: under the lock every temp file is stale
    assert leftovers(path) == []
    assert read_generations(path)[-1] == before[-1] + 1


def test_stale_temp_file_with_our_own_name_is_truncated_not_reused(tmp_path):
    path = tmp_path / "db.json"
    own = tmp_path / f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp"
    own.write_bytes(b"x" * 100_000)  # as if an earlier process with this pid died mid-write
    db = Database(path)
    with db.locked():
        db.table("t").insert({"a": 1})
    assert json.loads(path.read_bytes()) == {"t": {"1": {"a": 1}}}
    assert not own.exists()


def test_garbage_temp_files_are_never_read(tmp_path):
    path = tmp_path / "db.json"
    db = Database(path)
    with db.locked():
        db.table("t").insert({"a": 1})
    (tmp_path / f".{path.name}.1.2.tmp").write_bytes(b"\x00garbage{")
    (tmp_path / f".{path.name}.3.4.tmp").write_text('{"t": {"1": {"a": 2}}}')
    fresh = Database(path)
    fresh.check()
    with fresh.locked():
        assert fresh.table("t").all() == [{"a": 1}]
