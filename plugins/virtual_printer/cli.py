"""`octoserve virtual-printer`: the standalone mode as a command of the octoserve CLI."""
import sys

import click

from .standalone import main


@click.command("virtual-printer", context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def command(args):
    """Run the virtual printer on a pseudo-terminal for another host (--link PATH; --help for more)."""
    sys.exit(main(list(args)))
