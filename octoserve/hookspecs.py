"""Every pluggy hook a plugin may implement, with when and where it is called."""
import pluggy

PROJECT = "octoserve"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def octoserve_permissions():
    """Declare the permissions this plugin adds.

    Called once per process (web server and CLI) while the plugin manager is built, on
    the main thread, before any request is served. Return a list of dicts with the keys
    ``key`` (letters, digits, underscore), ``name``, ``description``, ``default_groups``
    (list of group keys, e.g. ``["users"]``) and ``dangerous`` (bool). Each key is
    published as ``PLUGIN_<PLUGINID>_<KEY>`` in upper case, as OctoPrint names them.
    Every plugin's answer is used.
    """


@hookspec
def octoserve_serial_ports():
    """Offer serial ports that are not device files, such as the virtual printer's ``VIRTUAL``.

    Called once in the printer daemon process, on its main thread, at start-up. Return a dict
    mapping a port name (as listed by /api/connection) to a callable taking no arguments
    that is called on the connecting thread when a client connects to that port; it
    returns ``(path, close)``: a device path or pyserial URL the comm layer opens, and a
    callable run when the connection ends. Every plugin's answer is used; names must differ.
    """


@hookspec
def octoserve_cli_commands():
    """Add commands to the ``octoserve`` command line.

    Called in the CLI process, on its main thread, only when the command line names a
    command that is not a core one, or asks for the list of commands (``octoserve --help``);
    a core command never calls it. Return a list of ``click.Command`` objects; each
    becomes ``octoserve <command name>``. A name that a core command or an earlier plugin
    already has is refused and the plugin listed as failed. Every plugin's answer is used.
    """
