"""The push API's messages, built from the one typed snapshot the REST API serialises too."""
import hashlib
import json
import platform
import time

from octoserve import OCTOPRINT_COMPAT_VERSION
from octoserve.printer.snapshot import Snapshot


def encode(message: dict) -> str:
    """One message as the text of one frame: compact JSON, no NaN."""
    return json.dumps(message, separators=(",", ":"), allow_nan=False)


def connected(services, plugin_names) -> dict:
    """``connected``: who the server is, and the hashes clients use to notice a reload is due."""
    settings = json.dumps(services.settings.as_dict(), sort_keys=True, default=str)
    return {"connected": {
        "version": OCTOPRINT_COMPAT_VERSION,
        "display_version": OCTOPRINT_COMPAT_VERSION,
        "branch": None,
        "python_version": platform.python_version(),
        "plugin_hash": hashlib.md5(",".join(sorted(plugin_names)).encode(), usedforsecurity=False).hexdigest(),
        "config_hash": hashlib.md5(settings.encode(), usedforsecurity=False).hexdigest(),
        "debug": False,
        "safe_mode": None,
        "online": None,
        "permissions": [permission.record() for permission in services.registry.permissions],
    }}


def state(snapshot: Snapshot) -> dict:
    """What ``history`` and ``current`` share: the state, the job, its progress, and the head."""
    return {
        "state": snapshot.state.to_api(),
        "job": snapshot.job.to_api(),
        "progress": snapshot.progress.to_api(),
        "currentZ": snapshot.current_z,
        "offsets": snapshot.offsets(),
        "resends": snapshot.resends.to_api(),
        "markings": list(snapshot.markings),
    }


def history(snapshot: Snapshot, temps: list, logs: list, messages: list) -> dict:
    return {"history": {**state(snapshot), "temps": temps, "logs": logs, "messages": messages,
                        "serverTime": time.time()}}


def current(snapshot: Snapshot, temps: list, logs: list | None, messages: list | None) -> dict:
    """``current``: ``temps``, ``logs`` and ``messages`` hold what is new since this client's last one;
    ``logs`` and ``messages`` are left out for a client that may not watch the terminal."""
    body = {**state(snapshot), "temps": temps, "busyFiles": [f.to_api() for f in snapshot.busy_files],
            "serverTime": time.time()}
    if logs is not None:
        body["logs"] = logs
        body["messages"] = messages
    return {"current": body}

