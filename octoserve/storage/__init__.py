"""TinyDB behind small repositories: atomic, locked writes that hold across threads and processes."""
from octoserve.storage.database import Database

__all__ = ["Database"]
