"""LocalStorage on a real folder: spools, adding, listing, moving, copying, deleting, links refused."""
import hashlib
import os
import subprocess
import sys

import pytest

from octoserve.errors import Conflict, Invalid, NotFound
from octoserve.files import spool as spools
from tests.files.conftest import DATA, add, leftovers


def test_a_spool_hashes_while_writing_and_vanishes_unless_committed(storage):
    spool = storage.new_spool()
    for _ in range(3):
        spool.write(DATA)
    assert spool.sha1 == hashlib.sha1(DATA * 3).hexdigest() and spool.size == 3 * len(DATA)
    spool.seek(0)
    assert spool.read() == DATA * 3
    assert spool.path.parent == storage.root
    spool.close()
    assert not spool.path.exists() and leftovers(storage) == []


def test_add_file_stores_content_and_metadata(storage, events):
    path = add(storage, "parts/cube.gcode", display="Cube (1).gcode", user="alice", userdata={"k": 1})
    assert path == "parts/cube.gcode"
    assert (storage.root / "parts" / "cube.gcode").read_bytes() == DATA
    assert storage.metadata.get(path) == {"display": "Cube (1).gcode", "hash": hashlib.sha1(DATA).hexdigest(),
                                          "user": "alice", "userdata": {"k": 1}}
    assert ("FileAdded", {"storage": "local", "path": path, "name": "cube.gcode",
                          "type": ["machinecode", "gcode"], "operation": "add"}) in events.seen
    assert leftovers(storage) == []


def test_overwriting_replaces_content_and_metadata(storage):
    add(storage, "cube.gcode", user="alice")
    storage.metadata.update("cube.gcode", {"gcodeAnalysis": {"estimatedPrintTime": 1}})
    add(storage, "cube.gcode", data=b"G1 X1\n", user="bob")
    assert (storage.root / "cube.gcode").read_bytes() == b"G1 X1\n"
    assert storage.metadata.get("cube.gcode")["user"] == "bob"
    assert "gcodeAnalysis" not in storage.metadata.get("cube.gcode")


def test_tree_shapes_and_depth(storage):
    add(storage, "a.gcode")
    add(storage, "f/b.gcode")
    add(storage, "f/g/c.gcode", data=DATA * 2)
    (storage.root / "notes.txt").write_text("not printable")
    full = storage.tree()
    assert [e["name"] for e in full] == ["a.gcode", "f"]
    folder = full[1]
    assert folder["type"] == "folder" and folder["size"] == 3 * len(DATA)
    assert [c["path"] for c in folder["children"]] == ["f/b.gcode", "f/g"]
    assert folder["children"][1]["children"][0]["path"] == "f/g/c.gcode"
    shallow = storage.tree(depth=1)
    assert shallow[1]["children"] == [] and shallow[1]["size"] == 3 * len(DATA)
    one = storage.entry(("f",))
    assert one["children"][1]["children"] == []


def test_move_and_copy_keep_metadata_and_history_consistent(storage):
    add(storage, "f/b.gcode", display="B.gcode")
    storage.history.record("local", "f/b.gcode", True, 100.0, 1.0)
    storage.copy(("f",), ("copy",))
    storage.move(("f",), ("moved",))
    assert storage.metadata.get("copy/b.gcode")["display"] == "B.gcode"
    assert storage.metadata.get("moved/b.gcode")["display"] == "B.gcode"
    assert storage.metadata.get("f/b.gcode") == {}
    assert storage.history.stats("local", "moved/b.gcode")["prints"]["success"] == 1
    assert storage.history.stats("local", "copy/b.gcode")["prints"]["success"] == 0
    assert not (storage.root / "f").exists()
    storage.remove(("moved",))
    assert storage.metadata.get("moved/b.gcode") == {} and storage.history.all("local") == {}
    assert not (storage.root / "moved").exists() and leftovers(storage) == []


@pytest.mark.parametrize("source, target, error", [
    (("a.gcode",), ("a.gcode",), Invalid),
    (("f",), ("f", "inner"), Invalid),
    (("a.gcode",), ("f", "b.gcode"), Conflict),
    (("missing.gcode",), ("x.gcode",), NotFound),
    (("a.gcode",), ("nowhere", "a.gcode"), NotFound),
])
def test_transfer_errors(storage, source, target, error):
    add(storage, "a.gcode")
    add(storage, "f/b.gcode")
    with pytest.raises(error):
        storage.copy(source, target)
    with pytest.raises(error):
        storage.move(source, target)


def test_links_are_never_followed(storage, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.gcode").write_text("secret")
    (storage.root / "link").symlink_to(outside)
    (storage.root / "file.gcode").symlink_to(outside / "secret.gcode")
    assert storage.tree() == []
    for parts in (("link",), ("link", "secret.gcode"), ("file.gcode",)):
        with pytest.raises(NotFound):
            storage.locate(parts)
        with pytest.raises(NotFound):
            storage.open_file(parts)
    spool = storage.new_spool()
    spool.write(DATA)
    with pytest.raises(Invalid):
        storage.add_file(("link",), "new.gcode", spool)
    with pytest.raises(Conflict):
        storage.add_file((), "file.gcode", spool)
    spool.close()
    with pytest.raises(Invalid):
        storage.add_folder(("link", "sub"))
    assert sorted(p.name for p in outside.iterdir()) == ["secret.gcode"]
    assert (outside / "secret.gcode").read_text() == "secret"


def test_a_fifo_is_not_opened(storage):
    os.mkfifo(storage.root / "pipe.gcode")
    with pytest.raises(NotFound):
        storage.open_file(("pipe.gcode",))


def test_sweep_removes_spools_of_dead_writers_only(storage, tmp_path):
    live = storage.new_spool()
    script = f"""
import os, sys
sys.path.insert(0, {str(os.getcwd())!r})
from octoserve.files.spool import UploadSpool
spool = UploadSpool({str(storage.root)!r})
spool.write(b"half an upload")
os._exit(0)  # killed mid-upload: no close(), the spool stays behind
"""
    subprocess.run([sys.executable, "-c", script], check=True)
    assert len(leftovers(storage)) == 2
    assert spools.sweep(storage.root) == 1
    assert leftovers(storage) == [live.name]
    live.close()
    assert leftovers(storage) == []


def test_usage_is_in_bytes(storage):
    usage = storage.usage()
    assert isinstance(usage["free"], int) and isinstance(usage["total"], int) and usage["total"] >= usage["free"]


def test_a_new_name_replaces_the_display_name(storage):
    add(storage, "a.gcode", display="A (original).gcode")
    storage.copy(("a.gcode",), ("b.gcode",))
    storage.move(("a.gcode",), ("c.gcode",))
    add(storage, "f/x.gcode", display="X!.gcode")
    storage.move(("f", "x.gcode"), ("x.gcode",))
    displays = {path: meta["display"] for path, meta in storage.metadata.all().items()}
    assert displays == {"b.gcode": "b.gcode", "c.gcode": "c.gcode", "f": "f", "x.gcode": "X!.gcode"}
