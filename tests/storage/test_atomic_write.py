"""Every write replaces the file with a new one (new inode, mode 0600) instead of rewriting it in place."""
import json
import os
import stat

import pytest

from octoserve.storage import Database


@pytest.fixture
def open_umask():
    # A permissive umask proves the mode comes from the storage, not from the environment.
    previous = os.umask(0)
    yield
    os.umask(previous)


def insert(db, doc):
    with db.locked():
        return db.table("t").insert(doc)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_each_write_replaces_the_file_with_a_new_inode(tmp_path):
    # Each version stays open so the filesystem cannot hand a freed inode number out again.
    path = tmp_path / "db.json"
    db = Database(path)
    versions = []
    try:
        for n in range(5):
            insert(db, {"n": n})
            versions.append(open(path, "rb"))
        assert len({os.fstat(v.fileno()).st_ino for v in versions}) == 5
        assert [len(json.loads(v.read())["t"]) for v in versions] == [1, 2, 3, 4, 5]
    finally:
        for version in versions:
            version.close()


def test_update_and_remove_replace_the_file_too(tmp_path):
    path = tmp_path / "db.json"
    db = Database(path)
    doc_id = insert(db, {"n": 1})
    inode = os.stat(path).st_ino
    with db.locked():
        db.table("t").update({"n": 2}, doc_ids=[doc_id])
    assert os.stat(path).st_ino != inode
    inode = os.stat(path).st_ino
    with db.locked():
        db.table("t").remove(doc_ids=[doc_id])
    assert os.stat(path).st_ino != inode
    assert json.loads(path.read_bytes()) == {"t": {}}


def test_database_and_lock_files_are_private_whatever_the_umask(tmp_path, open_umask):
    path = tmp_path / "db.json"
    db = Database(path)
    insert(db, {"secret": "hash"})
    assert mode(path) == 0o600
    assert mode(tmp_path / "db.json.lock") == 0o600
    insert(db, {"secret": "other"})
    assert mode(path) == 0o600


def test_existing_world_readable_file_becomes_private_on_write(tmp_path):
    path = tmp_path / "db.json"
    path.write_text("{}")
    path.chmod(0o644)
    insert(Database(path), {"a": 1})
    assert mode(path) == 0o600


def test_reader_of_the_old_file_keeps_its_complete_content(tmp_path):
    path = tmp_path / "db.json"
    db = Database(path)
    insert(db, {"n": 1})
    with open(path, "rb") as old:
        insert(db, {"n": 2, "pad": "x" * 100_000})
        assert json.loads(old.read()) == {"t": {"1": {"n": 1}}}
    assert len(json.loads(path.read_bytes())["t"]) == 2


def test_write_leaves_no_temporary_file_and_only_json(tmp_path):
    path = tmp_path / "db.json"
    db = Database(path)
    insert(db, {"name": "h\u00e9llo \u2603"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db.json", "db.json.lock"]
    assert json.loads(path.read_bytes().decode("utf-8")) == {"t": {"1": {"name": "h\u00e9llo \u2603"}}}


def test_failed_write_keeps_the_old_file_and_removes_its_temporary(tmp_path):
    path = tmp_path / "db.json"
    db = Database(path)
    insert(db, {"n": 1})
    before = path.read_bytes()
    with pytest.raises(TypeError):
        insert(db, {"n": object()})  # not JSON-serializable: fails before anything is written
    assert path.read_bytes() == before
    assert list(tmp_path.glob(".*.tmp")) == []
