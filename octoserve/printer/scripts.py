"""G-code script templates (afterPrintCancelled, ...): built-in defaults, overrides in the base directory, rendering."""
import re
from pathlib import Path

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.sandbox import SandboxedEnvironment

from octoserve.errors import Invalid, NotFound

DEFAULTS = {
    "afterPrinterConnected": "",
    "beforePrinterDisconnected": "",
    "beforePrintStarted": "",
    "afterPrintDone": "",
    "afterPrintPaused": "",
    "beforePrintResumed": "",
    "beforeToolChange": "",
    "afterToolChange": "",
    "afterPrintCancelled": (
        "; disable motors\nM84\n\n"
        "; disable all heaters\n{% snippet 'disable_hotends' %}\n{% snippet 'disable_bed' %}\n"
        "; disable fan\nM106 S0\n"
    ),
    "snippets/disable_hotends": (
        "{% if printer_profile.extruder.sharedNozzle %}M104 T0 S0\n"
        "{% else %}{% for tool in range(printer_profile.extruder.count) %}M104 T{{ tool }} S0\n"
        "{% endfor %}{% endif %}"
    ),
    "snippets/disable_bed": "{% if printer_profile.heatedBed %}M140 S0\n{% endif %}",
}
_NAME = re.compile(r"^[A-Za-z0-9_]+(/[A-Za-z0-9_]+)?$")


class ScriptLibrary:
    """Scripts live in <basedir>/scripts/gcode/<name>; a missing file falls back to the built-in default."""

    def __init__(self, basedir):
        self.folder = Path(basedir) / "scripts" / "gcode"
        self._env = SandboxedEnvironment(
            loader=jinja2.FunctionLoader(self._source), autoescape=False, keep_trailing_newline=True,
        )
        self._env.add_extension(_SnippetExtension)

    def _source(self, name):
        if not _NAME.match(name):
            return None
        path = self.folder / name
        if path.is_file():
            return path.read_text(encoding="utf-8")
        return DEFAULTS.get(name)

    def exists(self, name: str) -> bool:
        return self._source(name) is not None

    def render(self, name: str, context: dict | None = None) -> list:
        """The script's G-code lines, rendered with the context; comments and blank lines removed."""
        if not isinstance(name, str) or not self.exists(name):
            raise NotFound("Unknown script")
        try:
            text = self._env.get_template(name).render(**(context or {}))
        except jinja2.TemplateError as exc:
            raise Invalid(f"script {name} could not be rendered: {exc}") from None
        lines = []
        for raw in text.splitlines():
            line = raw.split(";", 1)[0].strip()
            if line:
                lines.append(line)
        return lines


class _SnippetExtension(Extension):
    """``{% snippet 'name' %}`` includes snippets/<name>, as OctoPrint's scripts write it."""

    tags = {"snippet"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        name = parser.parse_expression()
        template = nodes.Concat([nodes.Const("snippets/"), name])
        return nodes.Include(template, True, False, lineno=lineno)
