"""Opens what both the web process and the CLI work on: databases, settings, plugins, access."""
import logging
from dataclasses import dataclass, field
from pathlib import Path

from octoserve.access.groups import GroupRepository
from octoserve.access.permissions import PermissionRegistry
from octoserve.access.ratelimit import FailedLoginLimiter
from octoserve.access.sessions import SessionTokens
from octoserve.access.users import UserRepository
from octoserve.config import Settings, ensure_basedir, resolve_basedir
from octoserve.events import EventBus
from octoserve.files.metadata import FileMetadata
from octoserve.files.storage import LocalStorage
from octoserve.plugins import PluginManager, build_plugin_manager
from octoserve.printer.profiles import ProfileRepository
from octoserve.printer.scripts import ScriptLibrary
from octoserve.storage import Database
from octoserve.storage.history import PrintHistory

log = logging.getLogger(__name__)


@dataclass
class Services:
    basedir: Path
    settings: Settings
    plugins: PluginManager
    registry: PermissionRegistry
    groups: GroupRepository
    users: UserRepository
    profiles: ProfileRepository
    scripts: ScriptLibrary
    files: LocalStorage
    history: PrintHistory
    events: EventBus = field(default_factory=EventBus)
    # Web-process state: session tokens handed out at login, failed-login counts.
    tokens: SessionTokens = field(default_factory=SessionTokens)
    login_limiter: FailedLoginLimiter = field(default_factory=FailedLoginLimiter)

    def first_run_locked(self) -> bool:
        """True while setup is unfinished and no user exists: every guarded endpoint is closed."""
        return self.settings.get("server.firstRun") and self.users.count() == 0


def _collect_permissions(plugins: PluginManager) -> PermissionRegistry:
    registry = PermissionRegistry()
    for impl in plugins.hook.octoserve_permissions.get_hookimpls():
        try:
            registry.add_plugin_permissions(impl.plugin_name, impl.function())
        except Exception as exc:
            plugins.failed[impl.plugin_name] = f"permissions: {exc}"
            log.error("plugin %s declared bad permissions: %s", impl.plugin_name, exc)
    return registry


def open_services(basedir=None) -> Services:
    """Open the base directory; raises CorruptDatabase (naming the file) rather than start empty."""
    basedir = ensure_basedir(resolve_basedir(basedir))
    settings_db = Database(basedir / "settings.json")
    access_db = Database(basedir / "access.json")
    profiles_db = Database(basedir / "printerprofiles.json")
    files_db = Database(basedir / "files.json")
    history_db = Database(basedir / "history.json")
    for database in (settings_db, access_db, profiles_db, files_db, history_db):
        database.check()
    plugins = build_plugin_manager(basedir)
    registry = _collect_permissions(plugins)
    groups = GroupRepository(access_db, registry)
    groups.ensure_defaults()
    settings = Settings(settings_db)
    events = EventBus()
    history = PrintHistory(history_db)
    return Services(
        basedir=basedir,
        settings=settings,
        plugins=plugins,
        registry=registry,
        groups=groups,
        users=UserRepository(access_db, groups),
        profiles=ProfileRepository(profiles_db, settings),
        scripts=ScriptLibrary(basedir),
        files=LocalStorage(basedir, FileMetadata(files_db), history, events),
        history=history,
        events=events,
    )
