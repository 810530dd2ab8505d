"""Every hook is documented in docs/plugins.rst, and plugins load, register and fail safely."""
import inspect
from pathlib import Path

import pytest

from octoserve import hookspecs
from octoserve.hookspecs import hookimpl
from octoserve.plugins import PluginManager, build_plugin_manager
from octoserve.services import open_services

DOCS = Path(__file__).resolve().parent.parent / "docs" / "plugins.rst"
HOOKS = [name for name, value in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("octoserve_")]


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented(hook):
    assert f"{hook}()" in DOCS.read_text(), f"{hook} is missing from docs/plugins.rst"
    assert inspect.getdoc(getattr(hookspecs, hook)), f"{hook} has no docstring"


def test_the_bundled_virtual_printer_is_found_through_its_entry_point(tmp_path):
    manager = build_plugin_manager(tmp_path)
    ports = {}
    for answer in manager.hook.octoserve_serial_ports():
        ports.update(answer)
    assert "VIRTUAL" in ports and manager.failed == {}


def test_a_plugin_in_the_basedir_adds_permissions_granted_to_its_default_groups(tmp_path):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "lights.py").write_text(
        "from octoserve.hookspecs import hookimpl\n"
        "@hookimpl\n"
        "def octoserve_permissions():\n"
        "    return [{'key': 'switch', 'name': 'Switch', 'description': 'lights', 'default_groups': ['users']}]\n")
    services = open_services(tmp_path)
    assert "PLUGIN_LIGHTS_SWITCH" in services.registry.keys()
    assert "PLUGIN_LIGHTS_SWITCH" in services.groups.get("users")["permissions"]
    assert "PLUGIN_LIGHTS_SWITCH" in services.groups.permissions_of(["admins"])  # ADMIN implies all


def test_a_broken_plugin_is_reported_not_fatal(tmp_path):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "broken.py").write_text("raise RuntimeError('boom')\n")
    (tmp_path / "plugins" / "badperm.py").write_text(
        "from octoserve.hookspecs import hookimpl\n"
        "@hookimpl\n"
        "def octoserve_permissions():\n"
        "    return [{'key': 'no spaces allowed'}]\n")
    services = open_services(tmp_path)
    assert "boom" in services.plugins.failed["broken"]
    assert "badperm" in services.plugins.failed
    assert services.users.count() == 0  # and the rest of the server is fine


def test_hookimpls_register_on_a_fresh_manager():
    class Plugin:
        @hookimpl
        def octoserve_serial_ports(self):
            return {"X": lambda: ("loop://", lambda: None)}

    manager = PluginManager()
    manager.register(Plugin(), name="x")
    (answer,) = manager.hook.octoserve_serial_ports()
    assert list(answer) == ["X"]
    assert answer["X"]()[0] == "loop://"
