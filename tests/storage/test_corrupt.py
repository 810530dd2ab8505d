"""A database file that cannot be used is refused with a message naming it, and left untouched."""
import json

import pytest

from octoserve.errors import CorruptDatabase
from octoserve.services import open_services
from octoserve.storage import Database

VALID = json.dumps({"users": {"1": {"name": "alice", "note": "x" * 80}}}).encode()

CORRUPT = {
    "garbage": b"\x00\xff\xfe\x80 not json at all \x9c",
    "truncated": VALID[: len(VALID) // 2],
    "empty": b"",
    "whitespace": b" \n",
    "list": b'[{"name": "alice"}]',
    "scalar": b"42",
    "null": b"null",
    "table_not_object": b'{"users": [{"name": "alice"}]}',
    "bad_utf8": b'{"users": {"1": {"name": "\xff\xfe"}}}',
}


def write(path, content: bytes):
    path.write_bytes(content)
    return path


def assert_refused(excinfo, path, content):
    message = str(excinfo.value)
    assert str(path) in message
    assert "corrupt" in message
    assert excinfo.value.path == path
    assert path.read_bytes() == content, "the corrupt file must be left as it was"


@pytest.mark.parametrize("kind", CORRUPT)
def test_check_refuses_corrupt_file(tmp_path, kind):
    path = write(tmp_path / "db.json", CORRUPT[kind])
    with pytest.raises(CorruptDatabase) as excinfo:
        Database(path).check()
    assert_refused(excinfo, path, CORRUPT[kind])


@pytest.mark.parametrize("kind", ["garbage", "truncated", "empty", "list"])
def test_writes_to_corrupt_file_are_refused(tmp_path, kind):
    path = write(tmp_path / "db.json", CORRUPT[kind])
    db = Database(path)
    with pytest.raises(CorruptDatabase) as excinfo, db.locked():
        db.table("users").insert({"name": "bob"})
    assert_refused(excinfo, path, CORRUPT[kind])
    assert list(tmp_path.glob(".*.tmp")) == []


@pytest.mark.parametrize("name", ["settings.json", "access.json"])
@pytest.mark.parametrize("kind", ["garbage", "truncated", "empty", "list"])
def test_open_services_refuses_to_start_on_corrupt_file(tmp_path, name, kind):
    path = write(tmp_path / name, CORRUPT[kind])
    with pytest.raises(CorruptDatabase) as excinfo:
        open_services(tmp_path)
    assert_refused(excinfo, path.resolve(), CORRUPT[kind])


def test_open_services_leaves_the_other_database_alone(tmp_path):
    settings = write(tmp_path / "settings.json", CORRUPT["garbage"])
    with pytest.raises(CorruptDatabase):
        open_services(tmp_path)
    assert settings.read_bytes() == CORRUPT["garbage"]
    assert not (tmp_path / "access.json").exists(), "nothing may be set up beside a corrupt file"


def test_missing_file_is_an_empty_database_and_check_creates_nothing(tmp_path):
    path = tmp_path / "db.json"
    db = Database(path)
    db.check()
    assert not path.exists()
    with db.locked():
        assert db.table("users").all() == []


@pytest.mark.parametrize("content", [b"{}", VALID, b'{"users": {}}'])
def test_valid_files_pass_the_check(tmp_path, content):
    path = write(tmp_path / "db.json", content)
    Database(path).check()
    assert path.read_bytes() == content


def test_deeply_nested_json_is_refused(tmp_path):
    content = b"[" * 100_000
    path = write(tmp_path / "db.json", content)
    with pytest.raises(CorruptDatabase) as excinfo:
        Database(path).check()
    assert_refused(excinfo, path, content)


@pytest.mark.parametrize("content", [b'{"users": {"1": 5}}', b'{"users": {"x": {"name": "a"}}}'])
def test_malformed_documents_are_refused(tmp_path, content):
    path = write(tmp_path / "access.json", content)
    with pytest.raises(CorruptDatabase) as excinfo:
        open_services(tmp_path)
    assert_refused(excinfo, path.resolve(), content)
