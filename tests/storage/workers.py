"""Child-process bodies for the storage tests, run as ``python -m tests.storage.workers``.

The tests prove properties across real processes (SIGKILL, concurrent writers), so the
writers must be separate interpreters, not threads or mocks.
"""
import hashlib
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from octoserve.storage import Database

ROOT = Path(__file__).resolve().parents[2]
SLOTS = 4  # documents kept by the crash writer; older generations are overwritten in place


def checksum(payload: str) -> str:
    return hashlib.sha256(payload.encode("ascii")).hexdigest()


def spawn(*args, **kwargs) -> subprocess.Popen:
    """Start ``python -m tests.storage.workers *args`` as a real child process."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.storage.workers", *map(str, args)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs,
    )


def crash_writer(path):
    """Write ever-newer large documents as fast as possible until killed."""
    db = Database(path)
    print("ready", flush=True)
    rng = random.Random()
    while True:
        with db.locked():
            table = db.table("t")
            docs = table.all()
            gen = max((doc["gen"] for doc in docs), default=0) + 1
            payload = os.urandom(rng.randint(20_000, 400_000)).hex()
            doc = {"gen": gen, "payload": payload, "sha": checksum(payload)}
            if len(docs) < SLOTS:
                table.insert(doc)
            else:
                oldest = min(docs, key=lambda d: d["gen"])
                table.update(doc, doc_ids=[oldest.doc_id])


def _await_go():
    # All workers block here until the parent has started every one of them, so they overlap.
    print("ready", flush=True)
    assert sys.stdin.readline().strip() == "go"


def increment(path, count):
    """Read-modify-write the shared counter ``count`` times."""
    db = Database(path)
    _await_go()
    for _ in range(int(count)):
        with db.locked():
            table = db.table("counter")
            (doc,) = table.all()
            table.update({"value": doc["value"] + 1}, doc_ids=[doc.doc_id])
        time.sleep(random.random() / 1000)  # let the others in, as spaced requests would


def insert(path, worker, count):
    """Insert ``count`` distinct documents tagged with this worker's name."""
    db = Database(path)
    _await_go()
    for i in range(int(count)):
        with db.locked():
            db.table("docs").insert({"worker": worker, "i": i})
        time.sleep(random.random() / 1000)


def insert_one(path, doc_json):
    db = Database(path)
    with db.locked():
        print(db.table("docs").insert(json.loads(doc_json)), flush=True)


COMMANDS = {"crash_writer": crash_writer, "increment": increment, "insert": insert, "insert_one": insert_one}

if __name__ == "__main__":
    COMMANDS[sys.argv[1]](*sys.argv[2:])
