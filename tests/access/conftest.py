"""Fixtures for the access tests: personas copied from a template (see tests/api/seeded.py)."""
from tests.api.seeded import basedir, persona_template, personas  # noqa: F401
