"""The dependency arrows of ARCHITECTURE.md, and the size limits of the house style, enforced."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "octoserve"
BUNDLED = PACKAGE.parent / "plugins"  # installed as octoserve_plugins
BUNDLED_NAMES = ("plugins", "octoserve_plugins")
LEAVES = {"octoserve", "octoserve.config", "octoserve.errors", "octoserve.events", "octoserve.hookspecs"}

# Area -> the areas it may import besides itself and the leaves. Checked by prefix, most specific first.
ALLOWED = {
    "octoserve.printer.comm": set(),
    "octoserve.storage": set(),
    "octoserve.access": {"octoserve.storage"},
    "octoserve.files": {"octoserve.storage", "octoserve.access"},
    "octoserve.printer": {"octoserve.storage", "octoserve.printer.comm", "octoserve.plugins"},
    "octoserve.plugins": set(),
    "octoserve.services": {"octoserve.storage", "octoserve.access", "octoserve.plugins", "octoserve.files",
                           "octoserve.printer"},
    "octoserve.api": {"octoserve.access", "octoserve.files", "octoserve.printer.client", "octoserve.printer.snapshot",
                      "octoserve.storage"},
    "octoserve.push": {"octoserve.access", "octoserve.printer.client", "octoserve.printer.snapshot",
                       "octoserve.printer.temperatures"},
    "octoserve.proxy": set(),
    "octoserve.web": {"octoserve.access"},
    "octoserve.app": {"octoserve.api", "octoserve.push", "octoserve.web", "octoserve.access", "octoserve.services",
                      "octoserve.proxy",
                      "octoserve.files", "octoserve.printer.client", "octoserve.storage"},
    "octoserve.server": {"octoserve.app", "octoserve.services", "octoserve.printer"},
    "octoserve.cli": {"*"},
    "octoserve.__main__": {"octoserve.cli"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {as_module(name) for name in found if name == "octoserve" or name.startswith("octoserve.")}


def as_module(name: str) -> str:
    """The longest prefix of a dotted name that is a module of the package (drops attributes)."""
    parts = name.split(".")
    while len(parts) > 1:
        candidate = PACKAGE.parent.joinpath(*parts)
        if candidate.with_suffix(".py").is_file() or (candidate / "__init__.py").is_file():
            break
        parts.pop()
    return ".".join(parts)


def area_of(name: str) -> str:
    for area in sorted(ALLOWED, key=len, reverse=True):
        if name == area or name.startswith(area + "."):
            return area
    return name


def is_allowed(importer: str, imported: str) -> bool:
    area = area_of(importer)
    if imported in LEAVES or area_of(imported) == area or imported.startswith(area + "."):
        return True
    allowed = ALLOWED.get(area, set())
    if "*" in allowed:
        return True
    # "from octoserve.api import errors" names a submodule or an attribute; either is fine within an area.
    return any(imported == a or imported.startswith(a + ".") for a in allowed)


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_imports_point_one_way(path):
    importer = module_name(path)
    assert area_of(importer) in ALLOWED or importer in LEAVES, f"{importer} belongs to no known area"
    wrong = sorted(i for i in imported_modules(path) if not is_allowed(importer, i))
    assert not wrong, f"{importer} imports against the architecture: {wrong}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_core_code_never_imports_a_bundled_plugin(path):
    # The core reaches its bundled plugins through the plugin manager, like any third-party one.
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else [])
        assert not [n for n in names if n.split(".")[0] in BUNDLED_NAMES], f"{module_name(path)} imports {names}"


@pytest.mark.parametrize("path", MODULES + sorted(BUNDLED.rglob("*.py")),
                         ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_module_small_and_documented(path):
    text = path.read_text()
    assert len(text.splitlines()) <= 400, f"{path.name} is over 400 lines"
    tree = ast.parse(text)
    assert ast.get_docstring(tree), f"{path.name} has no module docstring"
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            assert length <= 60, f"{path.name}: {node.name} is {length} lines long"


def test_the_rule_catches_a_wrong_arrow():
    assert not is_allowed("octoserve.storage.database", "octoserve.api.errors")
    assert not is_allowed("octoserve.access.users", "octoserve.app")
    assert is_allowed("octoserve.api.login", "octoserve.access.login")
