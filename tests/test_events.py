"""One catalogue of event names: every event is fired by its constant, and every one is documented."""
import ast
from pathlib import Path

import pytest

from octoserve import events

ROOT = Path(__file__).resolve().parent.parent
DOCS = (ROOT / "docs" / "events.rst").read_text()
FIRING = {"fire", "event", "_fire"}


def _literal_event_names(path: Path) -> list:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in FIRING:
            first = node.args[0] if node.args else None
            candidates = [first]
            if isinstance(first, ast.IfExp):
                candidates = [first.body, first.orelse]
            found += [f"{path.name}:{node.lineno}: {c.value}" for c in candidates
                      if isinstance(c, ast.Constant) and isinstance(c.value, str)]
    return found


@pytest.mark.parametrize("path", sorted((ROOT / "octoserve").rglob("*.py")) + sorted((ROOT / "plugins").rglob("*.py")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_events_are_fired_by_their_constant(path):
    assert _literal_event_names(path) == []


def test_the_rule_catches_a_literal():
    probe = ROOT / "tests" / "data" / "probe_fire.py"
    probe.write_text('bus.fire("PrintDone", {})\nservice.event("A" if x else "B")\n')
    try:
        assert len(_literal_event_names(probe)) == 3
    finally:
        probe.unlink()


@pytest.mark.parametrize("name", sorted(events.CATALOGUE))
def test_every_event_is_documented(name):
    assert f"``{name}``" in DOCS, f"{name} is missing from docs/events.rst"
