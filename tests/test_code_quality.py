"""The style gates the project promises: ruff (lint + format) and mypy --strict, clean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PATHS = ["ol_bridge", "tests", "examples", "scripts", "benchmarks"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_ruff_lint_is_clean() -> None:
    result = run("ruff", "check", *PATHS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = run("ruff", "format", "--check", *PATHS)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.timeout(600)
def test_mypy_strict_is_clean() -> None:
    result = run("mypy")  # configuration (strict, packages) in pyproject.toml
    assert result.returncode == 0, result.stdout + result.stderr


def _imported_top_level_modules() -> set[str]:
    """Every top-level module ``ol_bridge`` imports (absolute imports only)."""
    import ast

    found: set[str] = set()
    for path in (REPO / "ol_bridge").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.partition(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.partition(".")[0])
    return found


def test_every_imported_distribution_is_declared() -> None:
    """A module imported by ol_bridge comes from a distribution pyproject.toml names (core
    dependencies or an extra), not from whatever another package happened to pull in."""
    import importlib.metadata
    import re

    # the installed project's metadata is pyproject.toml's (core and every extra)
    requirements = importlib.metadata.requires("ol-bridge") or []
    declared = {
        re.split(r"[\[<>=!~; ]", req, maxsplit=1)[0].lower().replace("_", "-")
        for req in requirements
    }
    providers = importlib.metadata.packages_distributions()
    undeclared = {}
    for module in sorted(_imported_top_level_modules() - {"ol_bridge", "__future__"}):
        if module in sys.stdlib_module_names:
            continue
        # an optional extra not installed here: its module name is its distribution's
        dists = {d.lower().replace("_", "-") for d in providers.get(module, [module])}
        if not dists & declared:
            undeclared[module] = sorted(dists)
    assert undeclared == {}, (
        f"imported but not declared in pyproject.toml: {undeclared} (after editing "
        "pyproject.toml, re-install: pip install -e '.[test]')"
    )
