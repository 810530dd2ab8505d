"""File and folder entries as the files API shows them (without refs, which need the request's URL)."""
import copy
import os
import stat

from octoserve.files import names

ORIGIN = "local"
OPTIONAL_METADATA = ("hash", "user", "userdata", "gcodeAnalysis", "links", "notes")


class _Known:
    """Metadata and print history read once for a whole listing, not once per file."""

    def __init__(self, storage):
        self.metadata = storage.metadata.all()
        self.history = storage.history.all(ORIGIN)


def file_entry(storage, path, parts, known=None) -> dict | None:
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode) or not names.is_machinecode(parts[-1]):
        return None
    known = known or _Known(storage)
    key = names.join(parts)
    meta = known.metadata.get(key, {})
    entry = {
        "name": parts[-1], "display": meta.get("display", parts[-1]), "path": key,
        "type": "machinecode", "typePath": list(names.MACHINECODE_TYPE_PATH), "origin": ORIGIN,
        "size": info.st_size, "date": int(info.st_mtime),
    }
    entry.update({k: copy.deepcopy(meta[k]) for k in OPTIONAL_METADATA if k in meta})
    if key in known.history:
        entry.update(known.history[key])
    return entry


def scan_folder(storage, path, parts, depth, known=None) -> dict:
    """A folder entry with its whole subtree; children below ``depth`` levels are left empty.

    The whole subtree is read whatever the depth: a folder's size and print counts sum over
    everything inside it.
    """
    known = known or _Known(storage)
    children = []
    try:
        with os.scandir(path) as scanner:
            found = sorted(scanner, key=lambda item: item.name)
    except (FileNotFoundError, NotADirectoryError):
        found = []  # removed or moved while we were listing its parent
    for item in found:
        # Hidden names are ours (unfinished uploads, copies in progress); links are never followed.
        if item.name.startswith(".") or item.is_symlink():
            continue
        child_parts = (*parts, item.name)
        if item.is_dir(follow_symlinks=False):
            children.append(scan_folder(storage, item.path, child_parts, None, known))
        else:
            child = file_entry(storage, item.path, child_parts, known)
            if child is not None:
                children.append(child)
    entry = _folder_entry(path, parts, children, known)
    return trim(entry, depth)


def _folder_entry(path, parts, children, known) -> dict:
    key = names.join(parts)
    name = parts[-1] if parts else ""
    try:
        date = int(os.lstat(path).st_mtime)
    except OSError:
        date = None
    return {
        "name": name, "display": known.metadata.get(key, {}).get("display", name), "path": key,
        "type": "folder", "typePath": list(names.FOLDER_TYPE_PATH), "origin": ORIGIN, "date": date,
        "size": sum(child.get("size") or 0 for child in children),
        "children": children, "prints": _sum_prints(children),
    }


def _sum_prints(children) -> dict:
    prints = {"success": 0, "failure": 0}
    lasts = []
    for child in children:
        counted = child.get("prints")
        if counted:
            prints["success"] += counted["success"]
            prints["failure"] += counted["failure"]
            if counted.get("last"):
                lasts.append(counted["last"])
    if lasts:
        prints["last"] = max(lasts, key=lambda last: last.get("date") or 0)
    return prints


def trim(entry: dict, depth: int | None) -> dict:
    """Cut a folder's subtree to ``depth`` levels of children (None: keep everything)."""
    if entry["type"] != "folder" or depth is None:
        return entry
    if depth <= 0:
        return {**entry, "children": []}
    return {**entry, "children": [trim(child, depth - 1) for child in entry["children"]]}


def filtered(entries: list, type_name: str) -> list:
    """Files whose typePath holds ``type_name``; folders stay, with their children filtered."""
    kept = []
    for entry in entries:
        if entry["type"] == "folder":
            kept.append({**entry, "children": filtered(entry["children"], type_name)})
        elif type_name in entry["typePath"]:
            kept.append(entry)
    return kept
