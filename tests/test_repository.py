"""The checkout stands on its own: test data inside it, every import declared, nothing installed
under a generic name. A clone with nothing beside it must pass the suite."""
import ast
import hashlib
import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "gcode"
SLICER_FILES = {
    "benchy-prusaslicer-2.2.gcode": "624a4476dbd70d2c375ffa92cfe9d939fee7d9ac74a630491415056c46ef7f1c",
    "xyz-cube-slic3r-1.3.gcode": "1ce5cadfb0bd7d728bf4b344c6b79b88e6fa8216d24bbbb414e5036735582587",
}
# The folder of reference material that stands beside the repository on the developers' machines.
OUTSIDE_FOLDER = "sha" + "red"  # spelled in two halves so that this file does not match itself
OUTSIDE = re.compile(rf"""(\.\./|/work/|["']){OUTSIDE_FOLDER}(/|["'])""")


def _files(*folders):
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                yield path


@pytest.mark.parametrize("name", sorted(SLICER_FILES))
def test_the_slicer_files_are_in_the_repository_byte_for_byte(name):
    assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == SLICER_FILES[name]
    assert name in (DATA / "README.rst").read_text()


def test_nothing_in_tests_bench_or_docs_refers_to_the_folder_beside_the_repository():
    offenders = []
    for path in _files("tests", "bench", "docs"):
        if path.suffix == ".gcode":
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_pattern_catches_the_ways_such_a_path_is_written():
    for line in (f'Path(__file__).parents[3] / "{OUTSIDE_FOLDER}" / "gcode"', f"../{OUTSIDE_FOLDER}/gcode/x",
                 f'"/work/{OUTSIDE_FOLDER}/gcode/benchy.gcode"', f"os.path.join(REPO, '{OUTSIDE_FOLDER}')"):
        assert OUTSIDE.search(line), line
    assert not OUTSIDE.search("pages shared between processes")


def _imported_distributions(folder: str) -> set:
    """Distributions that the code under ``folder`` imports (standard library and our own left out)."""
    by_module = importlib.metadata.packages_distributions()
    ours = {"octoserve", "octoserve_plugins", "tests"}
    found = set()
    for path in _files(folder):
        if path.suffix != ".py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in ours:
                    continue
                assert top in by_module, f"{path.relative_to(ROOT)} imports {top}, which no installed package provides"
                found.update(_normal(d) for d in by_module[top])
    return found


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared(extra=None) -> set:
    declared = set()
    for requirement in importlib.metadata.requires("octoserve"):
        name, _, marker = requirement.partition(";")
        in_extra = re.search(r"""extra\s*==\s*["']([^"']+)""", marker)
        if (in_extra.group(1) if in_extra else None) in (None, extra):
            declared.add(_normal(re.match(r"[A-Za-z0-9_.-]+", name.strip()).group(0)))
    return declared


def test_every_package_the_code_imports_is_declared():
    assert _imported_distributions("octoserve") | _imported_distributions("plugins") <= _declared()


def test_every_package_the_tests_import_is_declared():
    assert _imported_distributions("tests") <= _declared("test")


def test_the_package_installs_only_under_its_own_names():
    top_level = importlib.metadata.distribution("octoserve").read_text("top_level.txt").split()
    assert sorted(top_level) == ["octoserve", "octoserve_plugins"]
    entry_points = importlib.metadata.entry_points(group="octoserve.plugins")
    assert {ep.value for ep in entry_points if ep.dist.name == "octoserve"} == {
        "octoserve_plugins.virtual_printer.plugin"}


def test_the_installed_requirements_are_consistent():
    result = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_license_is_the_agpl_verbatim():
    # The FSF's text as published at gnu.org/licenses/agpl-3.0.txt (the license requires it unchanged).
    text = (ROOT / "LICENSE").read_bytes()
    assert hashlib.md5(text).hexdigest() == "73f1eb20517c55bf9493b7dd6e480788"
    metadata = importlib.metadata.metadata("octoserve")
    assert "AGPL-3.0-or-later" in (metadata["License-Expression"], metadata["License"])


def _readme_commands() -> list:
    """The indented command lines of README.rst's quick start."""
    text = (ROOT / "README.rst").read_text()
    quick_start = text.split("Quick start", 1)[1].split("First run", 1)[0]
    return [line.strip() for line in quick_start.splitlines() if line.startswith("    python3 -m venv")]


def test_ci_lints_then_runs_the_readme_test_command_verbatim():
    serve, test = _readme_commands()
    assert serve.endswith("octoserve serve") and test.endswith("python -m pytest")
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    lint = next(i for i, line in enumerate(ci) if "ruff check ." in line)
    assert test in ci and lint < ci.index(test)


def test_the_gevent_worker_s_own_requirements_come_with_the_package():
    # gunicorn's gevent worker imports packaging, which only its [gevent] extra declares: without it
    # `pip install .` gave a server that could not start (the test extras happened to bring it).
    ours = [r for r in importlib.metadata.requires("octoserve") if "extra ==" not in r]
    assert any(re.match(r"gunicorn\[[^\]]*\bgevent\b", r.replace(" ", "")) for r in ours), ours


@pytest.mark.parametrize("folder", ["octoserve", "plugins"])
def test_every_package_folder_is_a_package_setuptools_will_find(folder):
    # find_packages() skips a folder without __init__.py: an editable install still imports it,
    # a real one silently leaves it out.
    missing = [str(d.relative_to(ROOT)) for d in (ROOT / folder).rglob("*")
               if d.is_dir() and d.name != "__pycache__" and any(d.glob("*.py")) and not (d / "__init__.py").exists()]
    assert missing == []

