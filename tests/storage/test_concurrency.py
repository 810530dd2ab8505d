"""Writers in several processes, or several threads, lose none of one another's changes."""
import subprocess
import threading

from octoserve.storage import Database
from tests.storage.workers import spawn

PROCESSES = 3
COUNT = 200

# TinyDB's Table caches the next document id in memory (Table._next_id) and Database keeps
# its Table objects, so a process inserting after another process inserted reuses an id.


def run_together(*commands):
    """Start one real process per command, release them at once, and wait for all of them."""
    procs = [spawn(*command, stdin=subprocess.PIPE) for command in commands]
    for proc in procs:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    failures = []
    for proc in procs:
        _, stderr = proc.communicate(timeout=60)
        if proc.returncode != 0:
            failures.append(stderr)
    return failures


def start_counter(path):
    db = Database(path)
    with db.locked():
        db.table("counter").insert({"value": 0})
    return db


def counter_value(path):
    db = Database(path)
    with db.locked():
        (doc,) = db.table("counter").all()
    return doc["value"]


def test_processes_lose_no_increments(tmp_path):
    path = tmp_path / "shared.json"
    start_counter(path)
    failures = run_together(*[("increment", path, COUNT)] * PROCESSES)
    assert failures == []
    assert counter_value(path) == PROCESSES * COUNT


def test_processes_lose_no_inserted_documents(tmp_path):
    path = tmp_path / "shared.json"
    failures = run_together(*[("insert", path, f"w{n}", COUNT) for n in range(PROCESSES)])
    assert failures == [], failures[0][-2000:]
    db = Database(path)
    with db.locked():
        docs = db.table("docs").all()
    assert sorted((d["worker"], d["i"]) for d in docs) == sorted(
        (f"w{n}", i) for n in range(PROCESSES) for i in range(COUNT)
    )


def test_insert_after_another_process_inserted_keeps_both(tmp_path):
    path = tmp_path / "shared.json"
    db = Database(path)
    with db.locked():
        db.table("docs").insert({"by": "parent", "n": 1})
    child = spawn("insert_one", path, '{"by": "child"}')
    stdout, stderr = child.communicate(timeout=30)
    assert child.returncode == 0, stderr
    with db.locked():
        db.table("docs").insert({"by": "parent", "n": 2})
        docs = db.table("docs").all()
    assert [d["by"] for d in docs] == ["parent", "child", "parent"]


def run_threads(target, count):
    threads = [threading.Thread(target=target, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)


def test_threads_sharing_one_database_lose_nothing(tmp_path):
    path = tmp_path / "shared.json"
    db = start_counter(path)
    errors = []

    def work(n):
        try:
            for i in range(COUNT):
                with db.locked():
                    counter = db.table("counter")
                    (doc,) = counter.all()
                    counter.update({"value": doc["value"] + 1}, doc_ids=[doc.doc_id])
                    db.table("docs").insert({"worker": n, "i": i})
        except Exception as exc:  # noqa: BLE001 - reported below, threads swallow exceptions
            errors.append(exc)

    run_threads(work, 4)
    assert errors == []
    assert counter_value(path) == 4 * COUNT
    with db.locked():
        assert len({(d["worker"], d["i"]) for d in db.table("docs").all()}) == 4 * COUNT


def test_threads_with_their_own_database_objects_lose_no_increments(tmp_path):
    # Each thread opens its own lock file descriptor: flock must serialize them as well.
    path = tmp_path / "shared.json"
    start_counter(path)

    def work(_):
        db = Database(path)
        for _ in range(COUNT):
            with db.locked():
                counter = db.table("counter")
                (doc,) = counter.all()
                counter.update({"value": doc["value"] + 1}, doc_ids=[doc.doc_id])

    run_threads(work, 4)
    assert counter_value(path) == 4 * COUNT


def test_nested_locked_is_reentrant_and_releases_at_the_outermost_exit(tmp_path):
    db = Database(tmp_path / "db.json")
    other = Database(tmp_path / "db.json")
    acquired = []

    def take_lock():
        with other.locked():
            acquired.append(1)

    waiter = threading.Thread(target=take_lock)
    with db.locked():
        with db.locked():
            db.table("t").insert({"a": 1})
        waiter.start()
        waiter.join(timeout=0.2)
        assert acquired == [], "another holder got the lock while it was still held"
    waiter.join(timeout=5)
    assert acquired == [1]
