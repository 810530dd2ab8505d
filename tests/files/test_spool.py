"""UploadSpool's background SHA-1: the thread that hashes a large upload from the page cache while it arrives."""
import hashlib
import os
import threading

import pytest

from octoserve.files import spool as spools
from tests.files.conftest import leftovers


@pytest.fixture
def small_threshold(monkeypatch):
    """The hashing thread starts after 1 KiB and reads back 100 bytes at a time (odd steps on purpose)."""
    monkeypatch.setattr(spools, "BACKGROUND_HASH_FROM", 1024)
    monkeypatch.setattr(spools, "HASH_STEP", 100)


def hashing_threads() -> list:
    return [thread for thread in threading.enumerate() if thread.name == "upload-sha1"]


def test_a_large_upload_is_hashed_by_a_thread_and_the_hash_is_exact(storage, small_threshold):
    pieces = [os.urandom(n) for n in (10, 700, 500, 3000, 1, 999)]  # crosses the threshold mid-write
    spool = storage.new_spool()
    for piece in pieces:
        spool.write(memoryview(piece))
    assert hashing_threads()
    assert spool.sha1 == hashlib.sha1(b"".join(pieces)).hexdigest()
    assert not hashing_threads()
    spool.write(b"more after asking")  # a later write is hashed too (by another thread)
    assert spool.sha1 == hashlib.sha1(b"".join(pieces) + b"more after asking").hexdigest()
    spool.close()
    assert leftovers(storage) == [] and not hashing_threads()


def test_storing_waits_for_the_hash(storage, small_threshold):
    data = os.urandom(50_000)
    spool = storage.new_spool()
    spool.write(data)
    storage.add_file((), "big.gcode", spool)
    spool.close()
    assert storage.metadata.get("big.gcode")["hash"] == hashlib.sha1(data).hexdigest()
    assert (storage.root / "big.gcode").read_bytes() == data and not hashing_threads()


def test_closing_an_unstored_spool_stops_its_thread_and_deletes_it(storage, small_threshold):
    spool = storage.new_spool()
    for _ in range(200):
        spool.write(os.urandom(1000))
    spool.close()
    assert not hashing_threads() and leftovers(storage) == []


def test_a_failing_read_back_stops_the_rename(storage, small_threshold, monkeypatch):
    def broken(*_args):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(spools.os, "preadv", broken)
    spool = storage.new_spool()
    spool.write(os.urandom(5000))
    with pytest.raises(OSError):
        storage.add_file((), "never.gcode", spool)
    spool.close()
    assert not (storage.root / "never.gcode").exists() and leftovers(storage) == []
