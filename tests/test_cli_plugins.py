"""Plugins add commands to the CLI (octoserve_cli_commands), and a broken one never breaks it."""
from tests.cli_helpers import ok, run_cli

LIGHTS = '''
import click
from octoserve.hookspecs import hookimpl

@hookimpl
def octoserve_cli_commands():
    @click.command("lights")
    @click.argument("state")
    def lights(state):
        """Switch the lights."""
        click.echo(f"lights {state}")
    return [lights]
'''
MARKER = '''
import pathlib
from octoserve.hookspecs import hookimpl

@hookimpl
def octoserve_cli_commands():
    pathlib.Path(__file__).with_name("asked").write_text("yes")
    return []
'''
RAISES = '''
from octoserve.hookspecs import hookimpl

@hookimpl
def octoserve_cli_commands():
    raise RuntimeError("boom")
'''
CLASH = '''
import click
from octoserve.hookspecs import hookimpl

@hookimpl
def octoserve_cli_commands():
    return [click.Command("user", callback=lambda: click.echo("hijacked")), "not a command"]
'''


def plugin(basedir, name, source):
    folder = basedir / "plugins"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.py").write_text(source)


def test_a_folder_plugin_adds_a_command_listed_in_help(tmp_path):
    plugin(tmp_path, "lights", LIGHTS)
    assert ok("lights", "on", basedir=tmp_path) == "lights on\n"
    assert "Switch the lights." in ok("--help", basedir=tmp_path)


def test_the_bundled_virtual_printer_command_comes_through_its_plugin(tmp_path):
    assert "--link" in ok("virtual-printer", "--help", basedir=tmp_path)


def test_core_commands_do_not_ask_plugins_for_commands(tmp_path):
    plugin(tmp_path, "marker", MARKER)
    ok("user", "list", basedir=tmp_path)
    ok("config", "get", "server.port", basedir=tmp_path)
    assert not (tmp_path / "plugins" / "asked").exists()
    ok("--help", basedir=tmp_path)
    assert (tmp_path / "plugins" / "asked").exists()


def test_a_raising_or_clashing_plugin_is_reported_and_the_core_wins(tmp_path):
    plugin(tmp_path, "raises", RAISES)
    plugin(tmp_path, "clash", CLASH)
    plugin(tmp_path, "lights", LIGHTS)
    result = run_cli("--help", basedir=tmp_path)
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert "lights" in result.stdout and "Manage users." in result.stdout
    assert "plugin raises failed in octoserve_cli_commands: RuntimeError: boom" in result.stderr
    assert "plugin clash: octoserve_cli_commands: cannot add" in result.stderr
    assert ok("user", "list", basedir=tmp_path) == ""  # the core's command, not the plugin's
    result = run_cli("nosuchcommand", basedir=tmp_path)
    assert result.returncode == 2 and "No such command 'nosuchcommand'" in result.stderr
