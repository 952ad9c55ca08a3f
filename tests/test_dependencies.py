"""Import only what is declared: every third-party module that ``src/`` imports belongs to a dependency of
pyproject.toml (tests and benchmarks may also use the ``dev`` extra), and constraints.txt pins each of them.

A fresh install once resolved a typer that no longer brought click along; ``cli.py`` imported click and every
usage error crashed. This test fails on such an import before a user does."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _declared() -> tuple[set[str], set[str]]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    names = lambda reqs: {_name(r) for r in reqs}  # noqa: E731
    return names(project["dependencies"]), names(project["optional-dependencies"]["dev"])


def _optional() -> set[str]:
    """The distributions of the optional extras a user installs (``hf``, ``tensorboard``, ...; not ``dev``)."""
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    return {_name(r) for extra, reqs in extras.items() if extra != "dev" for r in reqs}


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


def _third_party_imports(folder: Path) -> dict[str, Path]:
    """Top-level module -> one file importing it, for every absolute import that is neither the standard
    library nor zeroforge (nor a benchmark's own helper)."""
    local = {p.stem for p in folder.glob("*.py")} | {"zeroforge", "benchmarks"}
    found: dict[str, Path] = {}
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules: list[str] = []
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            for module in modules:
                top = module.split(".")[0]
                if top not in sys.stdlib_module_names and top not in local:
                    found.setdefault(top, path)
    return found


def _distributions(module: str) -> set[str]:
    dists = importlib.metadata.packages_distributions().get(module, [])
    return {_name(d) for d in dists}


def test_src_imports_only_declared_dependencies() -> None:
    base, _ = _declared()
    imports = _third_party_imports(REPO / "src" / "zeroforge")
    assert {"torch", "numpy", "yaml"} <= set(imports)  # the scan sees imports at all
    optional = _optional()
    undeclared = {m: str(p.relative_to(REPO)) for m, p in imports.items()
                  if not _distributions(m) & base and not _distributions(m) & optional}
    assert not undeclared, f"imported but not in [project] dependencies or an extra: {undeclared}"
    for m, p in imports.items():  # an extra's module is imported where its absence becomes a one-line error
        if not _distributions(m) & base:
            assert "except ImportError" in p.read_text(encoding="utf-8"), f"{p}: imports {m} without a fallback"


def test_tests_and_benchmarks_import_only_declared_dependencies() -> None:
    base, dev = _declared()
    imports = {**_third_party_imports(REPO / "benchmarks"), **_third_party_imports(REPO / "tests")}
    assert {"pytest", "hypothesis"} <= set(imports)
    undeclared = {m: str(p.relative_to(REPO)) for m, p in imports.items()
                  if not _distributions(m) & (base | dev)}
    assert not undeclared, f"imported but not declared (dependencies or the dev extra): {undeclared}"


def test_constraints_pin_every_declared_dependency() -> None:
    base, dev = _declared()
    pins: dict[str, str] = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep and version, f"constraints.txt: {line!r} is not an exact pin (name==version)"
            pins[_name(name)] = version
    assert pins["torch"] == "2.13.0"  # the CPU wheel on this kind of machine's disk
    assert not (base | dev) - set(pins), f"declared but not pinned: {sorted((base | dev) - set(pins))}"
