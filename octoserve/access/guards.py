"""Permission checks for views: what the current caller holds, and decorators that demand it."""
import functools

from flask import current_app, g
from flask_login import current_user

from octoserve.access.login import credentials_fresh
from octoserve.errors import Forbidden, PermissionDenied


def services():
    return current_app.extensions["octoserve"]


def permissions() -> list:
    """The current caller's effective permission keys (worked out once per request)."""
    held = g.get("permissions")
    if held is None:
        held = g.permissions = services().users.permissions_of(current_user._get_current_object())
    return held


def has_permission(key: str) -> bool:
    return key in permissions()


def check_permission(*keys: str) -> None:
    """Raise 403 unless the caller holds every key; nothing is open during an unfinished first run."""
    if services().first_run_locked():
        raise PermissionDenied()
    held = permissions()
    if not all(key in held for key in keys):
        raise PermissionDenied()


def require(*keys: str):
    """Decorator: the view runs only for a caller holding every permission key given."""

    def decorate(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            check_permission(*keys)
            return view(*args, **kwargs)

        return guarded

    return decorate


def require_fresh_credentials() -> None:
    """Sensitive actions need a password entered recently (or an API key)."""
    if not credentials_fresh(services().settings.get("accessControl.reauthenticationTimeout")):
        raise Forbidden("Please reauthenticate with your credentials")


def require_self_or_admin(name: str) -> None:
    """The caller is the named user, or holds ADMIN."""
    if current_user.is_anonymous:
        raise PermissionDenied()
    if current_user.name != name:
        check_permission("ADMIN")
