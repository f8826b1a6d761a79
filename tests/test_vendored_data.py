"""The vendored copies under ``tests/data`` and ``ol_bridge/spec`` still equal the project's
reference folder (``../shared`` next to the checkout), where that folder exists.

Every other test reads only the repository; this one compares the copies with their source
on developers' machines, and skips, saying why, on a bare clone (where there is nothing to
compare with).
"""

from __future__ import annotations

import filecmp
import os
from pathlib import Path

import pytest

from tests.corpora import COMPAT_DIR, REPO_DIR, SPEC_DIR, SPEC_TESTS_DIR

SHARED = Path(os.environ.get("OL_BRIDGE_SHARED_DIR") or REPO_DIR.parent / "shared")
needs_shared = pytest.mark.skipif(
    not (SHARED / "openlineage-spec" / "OpenLineage.json").is_file(),
    reason=f"no reference folder at {SHARED} to compare the vendored copies with "
    "(expected on a bare clone; set OL_BRIDGE_SHARED_DIR to check)",
)


def _same_tree(source: Path, copy: Path, pattern: str = "*") -> list[str]:
    """Paths (relative) matching ``pattern`` that differ, or exist on one side only."""
    source_files = {p.relative_to(source) for p in source.rglob(pattern) if p.is_file()}
    copy_files = {p.relative_to(copy) for p in copy.rglob(pattern) if p.is_file()}
    differ = [
        str(rel)
        for rel in sorted(source_files & copy_files)
        if not filecmp.cmp(source / rel, copy / rel, shallow=False)
    ]
    return differ + [f"only in one: {rel}" for rel in sorted(source_files ^ copy_files)]


@needs_shared
def test_compat_corpus_is_an_unmodified_copy() -> None:
    assert _same_tree(SHARED / "datahub-ol-compat", COMPAT_DIR) == []


@needs_shared
def test_spec_tests_are_an_unmodified_copy() -> None:
    assert _same_tree(SHARED / "openlineage-spec" / "tests", SPEC_TESTS_DIR) == []


@needs_shared
def test_packaged_spec_is_an_unmodified_copy() -> None:
    spec = SHARED / "openlineage-spec"
    # only the JSON Schemas are packaged (the spec's Markdown is not)
    assert _same_tree(spec / "facets", SPEC_DIR / "facets", "*.json") == []
    assert filecmp.cmp(spec / "OpenLineage.json", SPEC_DIR / "OpenLineage.json", shallow=False)
    commit = (spec / "SOURCE_COMMIT").read_text().strip()
    assert commit in (SPEC_DIR / "README.md").read_text()
    assert commit in (REPO_DIR / "tests" / "data" / "README.md").read_text()


def test_vendored_data_is_present() -> None:
    """A bare clone has the data the tests need (the counts the corpus tests parametrize)."""
    assert len(list((COMPAT_DIR / "golden").glob("*/*.json"))) == 69
    assert len(list((COMPAT_DIR / "input").rglob("*.json"))) == 74
    assert len(list(SPEC_TESTS_DIR.glob("*/*.json"))) == 46
