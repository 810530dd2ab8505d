"""Domain errors shared by every layer; the API maps them to HTTP, the CLI to one line."""


class OctoserveError(Exception):
    """Base of every error octoserve raises on purpose; its text is safe to show a user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class Invalid(OctoserveError):
    """The request or value is malformed or out of range."""


class NotFound(OctoserveError):
    """The thing asked for does not exist."""


class Conflict(OctoserveError):
    """The request clashes with the current state (exists already, in use, busy)."""


class Forbidden(OctoserveError):
    """The caller may not do this, whatever its credentials (e.g. an unremovable group)."""


class NotOperational(Conflict):
    """The printer is not connected or not in a state that allows the request."""


class CorruptDatabase(OctoserveError):
    """A database file exists but cannot be read; it is kept untouched."""

    def __init__(self, path, detail: str):
        super().__init__(
            f"database file {path} is corrupt ({detail}); it was left as it is. "
            f"Restore it from a backup or move it away to start with an empty one."
        )
        self.path = path


class PermissionDenied(Forbidden):
    """The caller's credentials do not grant what the request needs (anonymous included)."""

    DEFAULT = (
        "You don't have the permission to access the requested resource. "
        "It is either read-protected or not readable by the server."
    )

    def __init__(self, message: str = DEFAULT):
        super().__init__(message)
