"""Database.cached: one parse per version of the file, whichever process writes the next version."""
import time

from octoserve.config import Settings
from octoserve.storage import Database
from octoserve.storage import database as database_module
from tests.cli_helpers import ok


def test_a_value_is_computed_once_per_version(tmp_path):
    db = Database(tmp_path / "t.json")
    calls = []

    def compute():
        calls.append(1)
        with db.locked():
            return [doc["n"] for doc in db.table("t").all()]

    assert db.cached("k", compute) == [] and db.cached("k", compute) == [] and len(calls) == 1
    with db.locked():
        db.table("t").insert({"n": 1})
    assert db.cached("k", compute) == [1] and len(calls) == 2  # our own write: seen at once


def test_another_process_s_write_is_seen_after_the_recheck_interval(tmp_path):
    basedir = tmp_path / "base"
    basedir.mkdir()
    settings = Settings(Database(basedir / "settings.json"))
    assert settings.get("server.port") == 5000
    ok("config", "set", "server.port", "5123", basedir=basedir)  # a real second process
    time.sleep(database_module.RECHECK * 2)
    assert settings.get("server.port") == 5123
    ok("config", "set", "server.port", "5124", basedir=basedir)  # same size, a new file renamed into place
    time.sleep(database_module.RECHECK * 2)
    assert settings.get("server.port") == 5124


def test_cached_values_are_not_handed_out_for_mutation(tmp_path):
    settings = Settings(Database(tmp_path / "settings.json"))
    settings.set("serial.additionalPorts", ["/dev/ttyA*"])
    settings.get("serial.additionalPorts").append("/dev/evil")
    assert settings.get("serial.additionalPorts") == ["/dev/ttyA*"]
