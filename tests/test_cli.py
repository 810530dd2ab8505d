"""The CLI against a real base directory, while a server runs on it.

Everything here runs ``python -m octoserve`` as a subprocess: the commands, and one
``octoserve serve`` shared by the module, which must see what the CLI writes (and the
other way round) without a restart.
"""
import json
import secrets
import time

import pytest
import requests

from tests.cli_helpers import START_TIMEOUT, Server, assert_one_line_error, clean_env, free_port, ok, run_cli

GARBAGE = b"{this is not json\n\x00 at all"


def new_key() -> str:
    return secrets.token_hex(16)  # 32 characters: the shortest key the CLI accepts


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


# -- the running server -------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``octoserve serve --port P --basedir DIR`` on a fresh base directory, stopped afterwards."""
    workdir = tmp_path_factory.mktemp("served")
    basedir = workdir / "base"
    basedir.mkdir()
    running = Server(basedir, workdir).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def keeper(server):
    """An admin who stays, so that deleting a test's user never leaves the server without users
    (with no users at all every guarded endpoint is closed, which would hide what a test checks)."""
    key = new_key()
    ok("user", "add", "keeper", "--password", "keeper-pw", "--admin", "--apikey", key, basedir=server.basedir)
    return key


def assert_authenticates(server, key):
    response = server.get("/api/version", key=key)
    assert response.status_code == 200, response.text
    assert response.json()["text"].startswith("OctoPrint")


def assert_anonymous(server, key):
    response = server.get("/api/version", key=key)
    assert response.status_code == 403, response.text


def test_serve_answers_api_version_soon_after_start(server, capsys):
    with capsys.disabled():
        print(f"\n[octoserve serve answered GET /api/version {server.startup_seconds:.2f}s after start]")
    assert server.startup_seconds < START_TIMEOUT
    response = server.get("/api/version")
    assert response.status_code in (200, 403)  # anonymous: answered, not necessarily allowed


def test_user_add_admin_with_apikey_authenticates_on_running_server(server, keeper):
    name, key = unique("ada"), new_key()
    out = ok("user", "add", name, "--password", "pw-ada", "--admin", "--apikey", key, basedir=server.basedir)
    assert name in out
    assert_authenticates(server, key)
    record = server.get(f"/api/access/users/{name}", key=keeper)
    assert record.status_code == 200, record.text
    assert set(record.json()["groups"]) == {"users", "admins"}


def test_user_list_shows_users_and_groups(server, keeper):
    admin, plain = unique("lister-admin"), unique("lister-plain")
    ok("user", "add", admin, "--password", "pw", "--admin", basedir=server.basedir)
    ok("user", "add", plain, "--password", "pw", basedir=server.basedir)
    rows = {line.split("\t")[0]: line.split("\t") for line in ok("user", "list", basedir=server.basedir).splitlines()}
    assert set(rows[admin][1].split(",")) == {"users", "admins"}
    assert rows[plain][1].split(",") == ["users"]
    assert rows[admin][2] == rows[plain][2] == "active"


def test_user_created_over_the_api_is_seen_by_the_cli(server, keeper):
    name = unique("via-api")
    response = requests.post(
        server.url + "/api/access/users", headers={"X-Api-Key": keeper}, timeout=10,
        json={"name": name, "password": "pw-api", "active": True, "groups": ["users"]},
    )
    assert response.status_code in (200, 201), response.text
    assert name in [line.split("\t")[0] for line in ok("user", "list", basedir=server.basedir).splitlines()]


def test_user_apikey_show_and_regenerate(server, keeper):
    name, key = unique("keyed"), new_key()
    ok("user", "add", name, "--password", "pw", "--apikey", key, basedir=server.basedir)
    assert ok("user", "apikey", name, basedir=server.basedir).strip() == key
    assert_authenticates(server, key)

    new = ok("user", "apikey", name, "--regenerate", basedir=server.basedir).strip()
    assert new and new != key and len(new.splitlines()) == 1
    assert_anonymous(server, key)
    assert_authenticates(server, new)
    assert ok("user", "apikey", name, basedir=server.basedir).strip() == new


def test_user_password_then_login_on_running_server(server, keeper):
    name = unique("passer")
    ok("user", "add", name, "--password", "old-password", basedir=server.basedir)
    assert server.login(name, "old-password").status_code == 200

    ok("user", "password", name, "--password", "new-password", basedir=server.basedir)
    response = server.login(name, "new-password")
    assert response.status_code == 200, response.text
    assert response.json()["name"] == name
    assert server.login(name, "old-password").status_code == 403


def test_user_add_reads_the_password_from_the_prompt(server, keeper):
    name, password = unique("prompted"), "prompted-secret"
    result = run_cli("user", "add", name, basedir=server.basedir, input=f"{password}\n{password}\n")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert password not in result.stdout + result.stderr  # the answer is not echoed back
    response = server.login(name, password)
    assert response.status_code == 200, response.text


def test_user_delete_revokes_the_key_on_running_server(server, keeper):
    name, key = unique("doomed"), new_key()
    ok("user", "add", name, "--password", "pw", "--apikey", key, basedir=server.basedir)
    assert_authenticates(server, key)
    ok("user", "delete", name, basedir=server.basedir)
    assert_anonymous(server, key)
    assert name not in [line.split("\t")[0] for line in ok("user", "list", basedir=server.basedir).splitlines()]
    assert_authenticates(server, keeper)  # the server itself is fine


def test_config_set_and_get_a_list_while_serving(server):
    out = ok("config", "set", "serial.additionalPorts", '["/dev/ttyFOO*"]', basedir=server.basedir)
    assert "serial.additionalPorts" in out
    got = ok("config", "get", "serial.additionalPorts", basedir=server.basedir)
    assert json.loads(got) == ["/dev/ttyFOO*"]
    assert got.strip() == '["/dev/ttyFOO*"]'


def test_config_set_ill_typed_value_fails_and_keeps_the_old_one(server):
    before = ok("config", "get", "server.port", basedir=server.basedir)
    assert_one_line_error(run_cli("config", "set", "server.port", "notanumber", basedir=server.basedir))
    assert ok("config", "get", "server.port", basedir=server.basedir) == before


def test_config_value_that_is_not_json_is_taken_as_text(server):
    ok("config", "set", "server.host", "localhost", basedir=server.basedir)
    assert json.loads(ok("config", "get", "server.host", basedir=server.basedir)) == "localhost"
    ok("config", "set", "server.host", "127.0.0.1", basedir=server.basedir)


# -- errors: one line, non-zero, no traceback ---------------------------------------------

@pytest.fixture(scope="module")
def existing(server):
    """A user without an API key, for the error cases that need one to exist."""
    ok("user", "add", "existing", "--password", "pw", basedir=server.basedir)
    return "existing"


ERROR_CASES = {
    "unknown setting (get)": ["config", "get", "no.such.setting"],
    "unknown setting (set)": ["config", "set", "no.such.setting", "1"],
    "ill-typed value": ["config", "set", "server.port", "notanumber"],
    "out-of-range value": ["config", "set", "server.port", "70000"],
    "ill-typed list": ["config", "set", "serial.additionalPorts", "[1, 2]"],
    "duplicate user": ["user", "add", "existing", "--password", "pw"],
    "delete unknown user": ["user", "delete", "nobody-here"],
    "apikey of unknown user": ["user", "apikey", "nobody-here"],
    "regenerate apikey of unknown user": ["user", "apikey", "nobody-here", "--regenerate"],
    "password of unknown user": ["user", "password", "nobody-here", "--password", "pw"],
    "too-short apikey": ["user", "add", "shortkey", "--password", "pw", "--apikey", "tooshort"],
    "invalid user name": ["user", "add", "no spaces allowed", "--password", "pw"],
    "user without apikey": ["user", "apikey", "existing"],
}


@pytest.mark.parametrize("args", list(ERROR_CASES.values()), ids=list(ERROR_CASES))
def test_errors_are_one_line_and_non_zero(server, existing, args):
    assert_one_line_error(run_cli(*args, basedir=server.basedir))


def test_failed_user_add_leaves_no_user(server, existing):
    assert_one_line_error(run_cli("user", "add", "shortkey2", "--password", "pw", "--apikey", "x" * 31,
                                  basedir=server.basedir))
    assert "shortkey2" not in ok("user", "list", basedir=server.basedir)


@pytest.mark.parametrize("corrupt", ["access.json", "settings.json"])
def test_corrupt_database_is_named_and_left_untouched(tmp_path, corrupt):
    basedir = tmp_path / "base"
    ok("user", "add", "someone", "--password", "pw", basedir=basedir)
    ok("config", "set", "server.maxConnections", "4", basedir=basedir)
    path = basedir / corrupt
    path.write_bytes(GARBAGE)
    for args in (
        ["user", "list"],
        ["user", "add", "another", "--password", "pw"],
        ["user", "delete", "someone"],
        ["user", "apikey", "someone", "--regenerate"],
        ["user", "password", "someone", "--password", "pw2"],
        ["config", "get", "server.maxConnections"],
        ["config", "set", "server.maxConnections", "2"],
    ):
        line = assert_one_line_error(run_cli(*args, basedir=basedir))
        assert str(path.resolve()) in line, (args, line)
        assert path.read_bytes() == GARBAGE, args


# -- the base directory: --basedir, $OCTOSERVE_BASEDIR, and which wins --------------------

def test_basedir_from_option_and_environment(tmp_path):
    env_dir, opt_dir = tmp_path / "from-env", tmp_path / "from-option"

    ok("config", "set", "server.maxConnections", "3", env=clean_env(basedir_variable=env_dir))
    ok("user", "add", "envuser", "--password", "pw", env=clean_env(basedir_variable=env_dir))
    assert (env_dir / "settings.json").exists() and (env_dir / "access.json").exists()
    assert ok("config", "get", "server.maxConnections", basedir=env_dir).strip() == "3"
    assert "envuser" in ok("user", "list", basedir=env_dir)

    # Both given: --basedir wins, the environment's directory is left alone.
    both = clean_env(basedir_variable=env_dir)
    ok("config", "set", "server.maxConnections", "5", basedir=opt_dir, env=both)
    ok("user", "add", "optuser", "--password", "pw", basedir=opt_dir, env=both)
    assert ok("config", "get", "server.maxConnections", basedir=opt_dir).strip() == "5"
    assert ok("config", "get", "server.maxConnections", env=both).strip() == "3"
    assert "optuser" in ok("user", "list", basedir=opt_dir, env=both)
    assert "optuser" not in ok("user", "list", env=both)
    assert "envuser" not in ok("user", "list", basedir=opt_dir)


def test_default_basedir_is_under_home(tmp_path):
    env = clean_env(HOME=tmp_path)
    ok("config", "set", "server.maxConnections", "6", env=env)
    assert (tmp_path / ".octoserve" / "settings.json").exists()


SERVE_PLACEMENTS = {
    # id: (args with {B} for the directory to be used, whether $OCTOSERVE_BASEDIR names another one)
    "serve --basedir": (["serve", "--basedir", "{B}"], False),
    "global --basedir": (["--basedir", "{B}", "serve"], False),
    "environment": (["serve"], None),
    "serve --basedir beats environment": (["serve", "--basedir", "{B}"], True),
    "global --basedir beats environment": (["--basedir", "{B}", "serve"], True),
}


@pytest.mark.parametrize("placement", list(SERVE_PLACEMENTS), ids=list(SERVE_PLACEMENTS))
def test_serve_refuses_a_corrupt_base_directory(tmp_path, placement):
    """`serve` on a corrupt base directory exits at once, naming the file; which file it names
    also tells which base directory it chose (both candidates are corrupt)."""
    args, other_in_env = SERVE_PLACEMENTS[placement]
    chosen, other = tmp_path / "chosen", tmp_path / "other"
    for directory in (chosen, other):
        directory.mkdir()
        (directory / "access.json").write_bytes(GARBAGE)
    env_dir = chosen if other_in_env is None else other if other_in_env else None
    env = clean_env(basedir_variable=env_dir, XDG_RUNTIME_DIR=tmp_path)
    args = [a.replace("{B}", str(chosen)) for a in args] + ["--port", str(free_port())]

    started = time.monotonic()
    result = run_cli(*args, env=env, timeout=15)
    elapsed = time.monotonic() - started

    line = assert_one_line_error(result)
    assert str((chosen / "access.json").resolve()) in line, line
    assert elapsed < 15
    for directory in (chosen, other):
        assert (directory / "access.json").read_bytes() == GARBAGE
