"""Fixtures for the storage tests: a LocalStorage on a temporary base directory, and its events."""
import pytest

from octoserve.events import EventBus
from octoserve.files.metadata import FileMetadata
from octoserve.files.storage import LocalStorage
from octoserve.storage import Database
from octoserve.storage.history import PrintHistory

DATA = b"G28\nG1 X10 Y10 F3000\n"


@pytest.fixture
def events():
    bus, seen = EventBus(), []
    bus.subscribe(lambda name, payload: seen.append((name, payload)))
    bus.seen = seen
    return bus


@pytest.fixture
def storage(tmp_path, events):
    return LocalStorage(tmp_path, FileMetadata(Database(tmp_path / "files.json")),
                        PrintHistory(Database(tmp_path / "history.json")), events)


def add(storage, path, data=DATA, **meta):
    *folder, name = path.split("/")
    spool = storage.new_spool()
    spool.write(data)
    try:
        return storage.add_file(tuple(folder), name, spool, **meta)
    finally:
        spool.close()


def leftovers(storage):
    return [p.name for p in storage.root.rglob(".*")]
