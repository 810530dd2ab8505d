"""The settings table: defaults, typed persistence, refusals naming the key, CLI values, base directory."""
import json
import re
import stat
from pathlib import Path

import pytest

from octoserve.config import BASEDIR_VARIABLE, SETTINGS, Settings, ensure_basedir, parse_cli_value, resolve_basedir
from octoserve.errors import Invalid, NotFound
from octoserve.storage import Database


@pytest.fixture
def path(tmp_path):
    return tmp_path / "settings.json"


@pytest.fixture
def settings(path):
    return Settings(Database(path))


def reopen(path):
    return Settings(Database(path))


def test_every_default_is_returned_without_writing_the_file(settings, path):
    for setting in SETTINGS:
        assert settings.get(setting.name) == setting.default
    assert settings.as_dict() == {s.name: s.default for s in SETTINGS}
    assert not path.exists()


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_default_satisfies_its_own_type(setting):
    assert setting.type.check(setting.default)
    assert setting.help


def test_known_defaults(settings):
    assert settings.get("server.host") == "127.0.0.1"
    assert settings.get("server.port") == 5000
    assert settings.get("server.firstRun") is True
    assert settings.get("serial.additionalPorts") == []


GOOD = [
    ("server.host", "0.0.0.0"),
    ("server.host", ""),
    ("server.port", 1),
    ("server.port", 65535),
    ("server.maxConnections", 1),
    ("server.firstRun", False),
    ("accessControl.reauthenticationTimeout", 30),
    ("accessControl.rememberMeDays", 1),
    ("devel.enableCsrfProtection", False),
    ("serial.additionalPorts", ["/dev/ttyFOO*", "/dev/printer"]),
]


@pytest.mark.parametrize("name,value", GOOD)
def test_set_value_persists_across_a_new_settings_on_the_same_file(settings, path, name, value):
    settings.set(name, value)
    fresh = reopen(path)
    assert fresh.get(name) == value
    assert type(fresh.get(name)) is type(value)
    assert fresh.as_dict()[name] == value


def test_setting_again_overwrites_in_place(settings, path):
    settings.set("server.port", 8080)
    settings.set("server.port", 8081)
    settings.set("server.host", "::")
    rows = json.loads(path.read_bytes())["settings"].values()
    assert sorted((r["name"], r["value"]) for r in rows) == [("server.host", "::"), ("server.port", 8081)]
    assert reopen(path).get("server.port") == 8081


def test_other_settings_keep_their_defaults(settings):
    settings.set("server.port", 8080)
    assert settings.get("server.maxConnections") == 1000
    assert settings.as_dict()["server.firstRun"] is True


@pytest.mark.parametrize("call", [
    lambda s: s.get("server.nope"),
    lambda s: s.set("server.nope", 1),
    lambda s: Settings.describe("server.nope"),
])
def test_unknown_setting_raises_not_found_naming_it(settings, path, call):
    with pytest.raises(NotFound, match="server.nope"):
        call(settings)
    assert not path.exists()


def test_setting_names_are_case_sensitive(settings):
    with pytest.raises(NotFound, match="server.PORT"):
        settings.get("server.PORT")


BAD = [
    ("server.port", "5000", "a port number"),
    ("server.port", True, "a port number"),
    ("server.port", 5000.0, "a port number"),
    ("server.port", 0, "a port number"),
    ("server.port", 65536, "a port number"),
    ("server.port", -80, "a port number"),
    ("server.maxConnections", 0, "a positive integer"),
    ("server.maxConnections", False, "a positive integer"),
    ("server.maxConnections", "8", "a positive integer"),
    ("accessControl.rememberMeDays", -1, "a positive integer"),
    ("server.firstRun", 1, "true or false"),
    ("server.firstRun", "true", "true or false"),
    ("server.firstRun", None, "true or false"),
    ("devel.enableCsrfProtection", 0, "true or false"),
    ("server.host", 127, "a string"),
    ("server.host", None, "a string"),
    ("server.host", ["127.0.0.1"], "a string"),
    ("serial.additionalPorts", "/dev/ttyFOO", "a list of strings"),
    ("serial.additionalPorts", ["/dev/a", 1], "a list of strings"),
    ("serial.additionalPorts", [None], "a list of strings"),
    ("serial.additionalPorts", {"a": "b"}, "a list of strings"),
]


@pytest.mark.parametrize("name,value,expected", BAD)
def test_ill_typed_value_is_refused_naming_the_key_and_type(settings, path, name, value, expected):
    with pytest.raises(Invalid) as excinfo:
        settings.set(name, value)
    assert name in str(excinfo.value)
    assert expected in str(excinfo.value)
    assert not path.exists()


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_refuses_an_object_naming_key_and_type(settings, setting):
    with pytest.raises(Invalid) as excinfo:
        settings.set(setting.name, {"not": "valid"})
    assert setting.name in str(excinfo.value)
    assert setting.type.name in str(excinfo.value)


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_booleans_and_integers_are_not_interchangeable(settings, setting):
    # bool is a subclass of int in Python: True must not pass for 1, nor 1 for True.
    wrong = 1 if isinstance(setting.default, bool) else True
    with pytest.raises(Invalid, match=re.escape(setting.name)):
        settings.set(setting.name, wrong)


def test_refused_value_leaves_the_stored_one(settings, path):
    settings.set("server.port", 8080)
    with pytest.raises(Invalid):
        settings.set("server.port", 70000)
    assert reopen(path).get("server.port") == 8080


def test_unserializable_value_is_refused_as_invalid(settings):
    with pytest.raises(Invalid, match="server.port"):
        settings.set("server.port", b"5000")


def test_mutating_a_returned_default_does_not_change_the_default(settings, path):
    default = Settings.describe("serial.additionalPorts").default
    try:
        settings.get("serial.additionalPorts").append("/dev/leak")
        assert reopen(path).get("serial.additionalPorts") == []
    finally:
        default[:] = []  # the leak must not reach the other tests


@pytest.mark.parametrize("text,expected", [
    ("5000", 5000),
    ("true", True),
    ("false", False),
    ("null", None),
    ("1.5", 1.5),
    ('["/dev/a", "/dev/b"]', ["/dev/a", "/dev/b"]),
    ('{"a": 1}', {"a": 1}),
    ('"quoted"', "quoted"),
    ("localhost", "localhost"),
    ("0.0.0.0", "0.0.0.0"),
    ("True", "True"),
    ("[unclosed", "[unclosed"),
    ("", ""),
])
def test_parse_cli_value_is_json_when_it_parses_else_text(text, expected):
    value = parse_cli_value(text)
    assert value == expected
    assert type(value) is type(expected)


def test_cli_value_round_trip_through_settings(settings):
    settings.set("server.port", parse_cli_value("8080"))
    settings.set("server.host", parse_cli_value("example.local"))
    assert (settings.get("server.port"), settings.get("server.host")) == (8080, "example.local")


@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv(BASEDIR_VARIABLE, raising=False)
    return home


def test_basedir_defaults_to_dot_octoserve_in_home(home):
    assert resolve_basedir() == home.resolve() / ".octoserve"


def test_basedir_from_environment_beats_home(home, tmp_path, monkeypatch):
    monkeypatch.setenv(BASEDIR_VARIABLE, str(tmp_path / "from-env"))
    assert resolve_basedir() == tmp_path.resolve() / "from-env"


def test_explicit_basedir_beats_environment(home, tmp_path, monkeypatch):
    monkeypatch.setenv(BASEDIR_VARIABLE, str(tmp_path / "from-env"))
    assert resolve_basedir(tmp_path / "explicit") == tmp_path.resolve() / "explicit"
    assert resolve_basedir(str(tmp_path / "explicit")) == tmp_path.resolve() / "explicit"


def test_empty_environment_variable_falls_back_to_home(home, monkeypatch):
    monkeypatch.setenv(BASEDIR_VARIABLE, "")
    assert resolve_basedir() == home.resolve() / ".octoserve"


def test_basedir_expands_tilde_and_becomes_absolute(home, tmp_path, monkeypatch):
    monkeypatch.setenv(BASEDIR_VARIABLE, "~/env-base")
    assert resolve_basedir() == home.resolve() / "env-base"
    monkeypatch.chdir(tmp_path)
    assert resolve_basedir("relative/base") == tmp_path.resolve() / "relative" / "base"
    assert resolve_basedir("relative/base").is_absolute()


def test_ensure_basedir_creates_a_private_directory(tmp_path):
    path = tmp_path / "a" / "b"
    assert ensure_basedir(path) == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o700
    assert ensure_basedir(path) == path  # existing directory is fine


def test_ensure_basedir_refuses_a_path_under_a_file(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(Invalid, match=re.escape(str(blocker / "base"))):
        ensure_basedir(Path(blocker / "base"))
