"""Print history per file: success and failure counts, the last print, print times per printer profile.

The printer daemon records each finished print (it opens <basedir>/history.json itself); the web
process reads the figures into file entries and moves them along with files. One document per
file keeps the database small however often a file is printed: averages are kept as a running
count and total of successful print times per profile.
"""
from octoserve.storage.database import Database

TABLE = "history"


def _within(path: str, top: str) -> bool:
    return path == top or path.startswith(top + "/")


def _empty_stats() -> dict:
    return {"prints": {"success": 0, "failure": 0},
            "statistics": {"averagePrintTime": {}, "lastPrintTime": {}}}


def _stats_of(doc: dict) -> dict:
    prints = {"success": doc.get("success", 0), "failure": doc.get("failure", 0)}
    if doc.get("last"):
        prints["last"] = dict(doc["last"])
    profiles = doc.get("profiles", {})
    return {
        "prints": prints,
        "statistics": {
            "averagePrintTime": {name: p["total"] / p["count"] for name, p in profiles.items() if p["count"]},
            "lastPrintTime": {name: p["last"] for name, p in profiles.items() if p["count"]},
        },
    }


class PrintHistory:
    """Documents keyed by (origin, path): what was printed from where, and how it went."""

    def __init__(self, database: Database):
        self._db = database

    def _table(self):
        return self._db.table(TABLE)

    @staticmethod
    def _match(origin, path):
        return lambda doc: doc.get("origin") == origin and doc.get("path") == path

    def record(self, origin: str, path: str, success: bool, print_time: float, date: float,
               profile: str = "_default") -> None:
        """Count one finished print; only successful ones feed the print time statistics."""
        with self._db.locked():
            table = self._table()
            found = table.search(self._match(origin, path))
            doc = dict(found[0]) if found else {"origin": origin, "path": path, "success": 0, "failure": 0,
                                                "profiles": {}}
            doc["success" if success else "failure"] += 1
            doc["last"] = {"date": date, "printTime": print_time, "success": bool(success)}
            if success:
                entry = doc["profiles"].setdefault(profile, {"count": 0, "total": 0.0, "last": None})
                entry["count"] += 1
                entry["total"] += print_time
                entry["last"] = print_time
            if found:
                table.update(doc, doc_ids=[found[0].doc_id])
            else:
                table.insert(doc)

    def stats(self, origin: str, path: str) -> dict:
        """{"prints": {...}, "statistics": {...}} of one file; zero counts when never printed."""
        with self._db.locked():
            found = self._table().search(self._match(origin, path))
        return _stats_of(found[0]) if found else _empty_stats()

    def all(self, origin: str) -> dict:
        """The stats of every file of one origin that has been printed, by path, in one read."""
        with self._db.locked():
            docs = self._table().search(lambda doc: doc.get("origin") == origin)
        return {doc["path"]: _stats_of(doc) for doc in docs}

    def remove(self, origin: str, path: str) -> None:
        """Forget a file, or every file in a folder."""
        with self._db.locked():
            self._table().remove(lambda doc: doc.get("origin") == origin and _within(doc.get("path", ""), path))

    def move(self, origin: str, source: str, destination: str) -> None:
        """The history follows a moved file or folder (replacing whatever the destination had)."""
        with self._db.locked():
            table = self._table()
            table.remove(lambda doc: doc.get("origin") == origin and _within(doc.get("path", ""), destination))
            for doc in table.search(lambda doc: doc.get("origin") == origin and _within(doc.get("path", ""), source)):
                table.update({"path": destination + doc["path"][len(source):]}, doc_ids=[doc.doc_id])
