"""The `octoserve` command: serve, user, config. Errors are one line and a non-zero exit."""
import json
import logging
import os
import sys

import click

from octoserve.config import BASEDIR_VARIABLE, SETTINGS, parse_cli_value, resolve_basedir
from octoserve.errors import OctoserveError


def main(argv=None):
    """Entry point: every error, usage errors included, is one line on stderr."""
    try:
        cli.main(args=argv, prog_name="octoserve", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"Error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except BrokenPipeError:
        # `octoserve config list | head`: the reader left; that is not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)


class OneLineErrors(click.Group):
    """Turns every error, expected or not, into one line on stderr and exit status 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort, BrokenPipeError):
            raise
        except OctoserveError as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            raise click.exceptions.Exit(130) from None
        except Exception as exc:
            raise click.ClickException(f"unexpected {type(exc).__name__}: {exc}") from None


class WithPluginCommands(OneLineErrors):
    """The top-level group: the core commands, then those plugins add (octoserve_cli_commands).

    Plugins are asked only for a name that is not a core command, or for the list of all
    commands: ``octoserve user list`` never calls the hook.
    """

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(self._plugin_commands(ctx)))

    def get_command(self, ctx, name):
        return super().get_command(ctx, name) or self._plugin_commands(ctx).get(name)

    def _plugin_commands(self, ctx) -> dict:
        if "plugin_commands" not in ctx.meta:
            ctx.meta["plugin_commands"] = self._load_plugin_commands(ctx.params.get("basedir"))
        return ctx.meta["plugin_commands"]

    def _load_plugin_commands(self, basedir) -> dict:
        from octoserve.plugins import build_plugin_manager

        manager = build_plugin_manager(resolve_basedir(basedir))
        commands = {}
        for plugin, answer in manager.call_each("octoserve_cli_commands"):
            for command in answer or []:
                if not isinstance(command, click.Command) or command.name in self.commands | commands.keys():
                    manager.failed[plugin] = f"octoserve_cli_commands: cannot add {command!r}"
                    logging.getLogger(__name__).error("plugin %s: %s", plugin, manager.failed[plugin])
                    continue
                commands[command.name] = command
        return commands


basedir_option = click.option(
    "--basedir", envvar=BASEDIR_VARIABLE, type=click.Path(file_okay=False), is_eager=True,  # before --help
    help=f"Base directory (default ~/.octoserve, or ${BASEDIR_VARIABLE}).",
)


@click.group(cls=WithPluginCommands)
@basedir_option
@click.version_option(package_name="octoserve")
@click.pass_context
def cli(ctx, basedir):
    """octoserve: a 3D-printer host that speaks OctoPrint's API."""
    ctx.obj = {"basedir": basedir}


def _ask_password(prompt: str) -> str:
    """Ask twice on a terminal; read one line when the password is piped in."""
    if sys.stdin.isatty():
        return click.prompt(prompt, hide_input=True, confirmation_prompt=True)
    line = sys.stdin.readline()
    if not line:
        raise click.ClickException("no password given: use --password or pipe it in")
    return line.rstrip("\r\n")


def _services(ctx):
    # Imported here: `octoserve analyse` and `virtual-printer` start faster without TinyDB, Flask and co.
    from octoserve.services import open_services

    return open_services(ctx.obj["basedir"])


@cli.command()
@click.option("--host", help="Address to listen on (setting server.host, default 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (setting server.port, default 5000).")
@click.option("--basedir", "serve_basedir", type=click.Path(file_okay=False),
              help="Base directory (as the global option).")
@click.pass_context
def serve(ctx, host, port, serve_basedir):
    """Run the server."""
    from octoserve.server import serve as run_server  # gunicorn is only needed here

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    run_server(serve_basedir or ctx.obj["basedir"], host, port)


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print OctoPrint's gcodeAnalysis as JSON instead.")
def analyse(file, as_json):
    """Analyse a G-code file: print time (a simulation of the firmware's planner), filament, size."""
    from octoserve.files.analysis import analyse as analyse_file  # only this command needs it
    from octoserve.files.analysis import report

    result = analyse_file(file)
    click.echo(json.dumps(result, indent=2) if as_json else report.summary(os.path.basename(file), result))


@cli.group(cls=OneLineErrors)
def user():
    """Manage users."""


@user.command("add")
@click.argument("name")
@click.option("--password", help="Password (asked for when not given).")
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
@click.option("--apikey", help="Give the user this API key (32 to 128 characters).")
@click.pass_context
def user_add(ctx, name, password, admin, apikey):
    """Add a user (in the default groups, or admins and users with --admin)."""
    services = _services(ctx)
    if services.users.find(name) is not None:
        raise click.ClickException(f"User {name} already exists")
    if password is None:
        password = _ask_password("Password")
    from octoserve.access.groups import ADMINS, USERS

    groups = [USERS, ADMINS] if admin else None
    services.users.add(name, password, groups=groups, apikey=apikey)
    click.echo(f"added user {name}" + (" (admin)" if admin else ""))


@user.command("list")
@click.pass_context
def user_list(ctx):
    """List users: name, groups, active."""
    for u in _services(ctx).users.all():
        click.echo(f"{u.name}\t{','.join(u.groups)}\t{'active' if u.active else 'inactive'}")


@user.command("delete")
@click.argument("name")
@click.pass_context
def user_delete(ctx, name):
    """Delete a user."""
    _services(ctx).users.delete(name)
    click.echo(f"deleted user {name}")


@user.command("password")
@click.argument("name")
@click.option("--password", help="New password (asked for when not given).")
@click.pass_context
def user_password(ctx, name, password):
    """Set a user's password."""
    services = _services(ctx)
    services.users.get(name)
    if password is None:
        password = _ask_password("New password")
    services.users.set_password(name, password)
    click.echo(f"changed the password of {name}")


@user.command("apikey")
@click.argument("name")
@click.option("--regenerate", is_flag=True, help="Replace the key with a new random one.")
@click.pass_context
def user_apikey(ctx, name, regenerate):
    """Show a user's API key, or make a new one."""
    users = _services(ctx).users
    if regenerate:
        click.echo(users.set_apikey(name))
        return
    key = users.get(name).apikey
    if key is None:
        raise click.ClickException(f"user {name} has no API key; make one with --regenerate")
    click.echo(key)


@cli.group(cls=OneLineErrors)
def config():
    """Read and change settings."""


@config.command("get")
@click.argument("key")
@click.pass_context
def config_get(ctx, key):
    """Print a setting's value as JSON."""
    click.echo(json.dumps(_services(ctx).settings.get(key)))


@config.command("set")
@click.argument("key")
@click.argument("value")
@click.pass_context
def config_set(ctx, key, value):
    """Set a setting; VALUE is read as JSON when it parses, else as text."""
    settings = _services(ctx).settings
    settings.set(key, parse_cli_value(value))
    click.echo(f"{key} = {json.dumps(settings.get(key))}")


@config.command("list")
@click.pass_context
def config_list(ctx):
    """Print every setting with its value and help."""
    values = _services(ctx).settings.as_dict()
    for setting in SETTINGS:
        click.echo(f"{setting.name} = {json.dumps(values[setting.name])}\t# {setting.help}")
