"""Who is asking: browser sessions and remember-me via flask-login, API keys from three places."""
import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, current_user, user_loaded_from_cookie

from octoserve.access.users import AnonymousUser

APIKEY = "apikey"
PASSWORD = "password"
REMEMBER_ME = "remember_me"


def api_key_from_request() -> str | None:
    """OctoPrint's precedence: apikey query or form value, then X-Api-Key, then Bearer.

    A multipart body (an upload) is only parsed for its apikey field when no header carries a
    key: parsing it spools the whole file before we know who is asking.
    """
    key = request.args.get("apikey")
    if not key and request.mimetype == "application/x-www-form-urlencoded":
        key = request.form.get("apikey")
    if not key:
        key = request.headers.get("X-Api-Key")
    if not key:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            key = header[len("Bearer "):].strip()
    if not key and request.mimetype == "multipart/form-data":
        key = request.form.get("apikey")
    return key or None


def login_mechanism() -> str | None:
    if current_user.is_anonymous:
        return None
    return g.get("login_mechanism") or session.get("login_mechanism")


def credentials_seen() -> datetime | None:
    """When this caller last proved who it is; API keys prove it on every request."""
    mechanism = login_mechanism()
    if mechanism == APIKEY:
        return datetime.now(UTC)
    seen = session.get("credentials_seen") if mechanism else None
    return datetime.fromtimestamp(seen, UTC) if seen else None


def credentials_fresh(timeout_minutes: int) -> bool:
    seen = credentials_seen()
    return seen is not None and datetime.now(UTC) - seen <= timedelta(minutes=timeout_minutes)


def mark_password_login() -> None:
    session["login_mechanism"] = PASSWORD
    session["credentials_seen"] = datetime.now(UTC).timestamp()


def load_secret_key(basedir: Path) -> bytes:
    """The key that signs session cookies, made once and kept (owner-only) so logins survive restarts."""
    path = basedir / "secret.key"
    try:
        return bytes.fromhex(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        pass
    key = secrets.token_bytes(32)
    tmp = path.with_name(f".secret.key.{secrets.token_hex(4)}")
    tmp.touch(mode=0o600)
    tmp.write_text(key.hex())
    try:
        # link() fails if another process won the race; then use its key.
        os.link(tmp, path)
    except FileExistsError:
        key = bytes.fromhex(path.read_text().strip())
    finally:
        tmp.unlink()
    return key


class _SessionCookies(SecureCookieSessionInterface):
    """Flask's signed session cookie, its signer made once instead of on every request."""

    def get_signing_serializer(self, app):
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        cached = getattr(self, "_serializer", None)
        if cached is None or cached[0] != key:
            cached = self._serializer = (key, super().get_signing_serializer(app))
        return cached[1]


def init_login(app, services, port: int) -> None:
    app.config.update(
        SESSION_COOKIE_NAME=f"session_P{port}",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_NAME=f"remember_token_P{port}",
        REMEMBER_COOKIE_DURATION=timedelta(days=services.settings.get("accessControl.rememberMeDays")),
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
    )
    app.session_interface = _SessionCookies()
    manager = LoginManager(app)
    manager.anonymous_user = AnonymousUser
    manager.session_protection = None

    @manager.user_loader
    def load_user(name):
        user = services.users.find(name)
        return user if user is not None and user.active else None

    @manager.request_loader
    def load_user_from_request(_request):
        user = services.users.by_apikey(api_key_from_request())
        if user is None or not user.active:
            return None
        g.login_mechanism = APIKEY
        return user

    @user_loaded_from_cookie.connect_via(app)
    def remembered(_sender, user):
        session["login_mechanism"] = REMEMBER_ME
        session.pop("credentials_seen", None)
