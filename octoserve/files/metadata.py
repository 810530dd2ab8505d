"""File metadata (display name, hash, uploader, userdata, analysis) in TinyDB, one document per path."""
import copy

from octoserve.storage import Database

TABLE = "files"


def _within(path: str, top: str) -> bool:
    return path == top or path.startswith(top + "/")


def _moved(path: str, source: str, destination: str) -> str:
    return destination + path[len(source):]


class FileMetadata:
    """Metadata keyed by the path relative to the uploads folder; trees move, copy and go together."""

    def __init__(self, database: Database):
        self._db = database

    def _table(self):
        return self._db.table(TABLE)

    def all(self) -> dict:
        """Every document by path, in one read (listings need all of them at once)."""
        with self._db.locked():
            return {doc["path"]: {k: v for k, v in doc.items() if k != "path"} for doc in self._table().all()}

    def get(self, path: str) -> dict:
        with self._db.locked():
            found = self._table().search(lambda doc: doc.get("path") == path)
        return {k: v for k, v in found[0].items() if k != "path"} if found else {}

    def put(self, path: str, data: dict) -> None:
        """Replace the document of one path (an upload over an older file starts afresh)."""
        with self._db.locked():
            table = self._table()
            table.remove(lambda doc: doc.get("path") == path)
            table.insert({**data, "path": path})

    def update(self, path: str, changes: dict, remove=()) -> None:
        """Set some keys of one path's document (made if missing) and drop the keys in ``remove``."""
        with self._db.locked():
            table = self._table()
            found = table.search(lambda doc: doc.get("path") == path)
            doc = {k: v for k, v in (found[0] if found else {}).items() if k not in remove}
            doc.update(changes, path=path)
            if found:
                table.remove(doc_ids=[found[0].doc_id])
            table.insert(doc)

    def remove_tree(self, path: str) -> None:
        with self._db.locked():
            self._table().remove(lambda doc: _within(doc.get("path", ""), path))

    def move_tree(self, source: str, destination: str) -> None:
        with self._db.locked():
            table = self._table()
            table.remove(lambda doc: _within(doc.get("path", ""), destination))
            for doc in table.search(lambda doc: _within(doc.get("path", ""), source)):
                table.update({"path": _moved(doc["path"], source, destination)}, doc_ids=[doc.doc_id])

    def copy_tree(self, source: str, destination: str) -> None:
        with self._db.locked():
            table = self._table()
            table.remove(lambda doc: _within(doc.get("path", ""), destination))
            copies = [
                {**copy.deepcopy(dict(doc)), "path": _moved(doc["path"], source, destination)}
                for doc in table.search(lambda doc: _within(doc.get("path", ""), source))
            ]
            if copies:
                table.insert_multiple(copies)
