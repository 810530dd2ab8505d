"""Builds the plugin manager: entry points of group octoserve.plugins plus the base directory's plugins/."""
import importlib.metadata
import importlib.util
import logging
from pathlib import Path

import pluggy

from octoserve import hookspecs

ENTRY_POINT_GROUP = "octoserve.plugins"
log = logging.getLogger(__name__)


class PluginManager(pluggy.PluginManager):
    """pluggy's manager plus the record of plugins that failed to load (reported, never fatal)."""

    def __init__(self):
        super().__init__(hookspecs.PROJECT)
        self.add_hookspecs(hookspecs)
        self.failed = {}

    def load_entry_points(self) -> None:
        for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            self._guarded_register(entry_point.name, entry_point.load)

    def load_folder(self, folder: Path) -> None:
        if not folder.is_dir():
            return
        for path in sorted(folder.glob("*.py")):
            self._guarded_register(path.stem, lambda p=path: _import_file(p))

    def call_each(self, hook_name: str, **kwargs) -> list:
        """Call one hook on every plugin, each call guarded: ``[(plugin_name, answer), ...]``.

        A plugin whose implementation raises is logged and recorded in ``failed``, and the
        others still answer: one broken plugin never takes a feature down with it.
        """
        answers = []
        for impl in getattr(self.hook, hook_name).get_hookimpls():
            try:
                answers.append((impl.plugin_name, impl.function(**kwargs)))
            except Exception as exc:
                self.failed[impl.plugin_name] = f"{hook_name}: {type(exc).__name__}: {exc}"
                log.error("plugin %s failed in %s", impl.plugin_name, self.failed[impl.plugin_name])
        return answers

    def _guarded_register(self, name, loader) -> None:
        if self.has_plugin(name):
            return
        try:
            self.register(loader(), name=name)
        except Exception as exc:  # a broken plugin must never stop the server
            self.failed[name] = f"{type(exc).__name__}: {exc}"
            log.error("plugin %s failed to load: %s", name, self.failed[name])


def _import_file(path: Path):
    spec = importlib.util.spec_from_file_location(f"octoserve_user_plugin_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_plugin_manager(basedir: Path) -> PluginManager:
    manager = PluginManager()
    manager.load_entry_points()
    manager.load_folder(basedir / "plugins")
    return manager
