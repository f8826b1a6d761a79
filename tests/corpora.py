"""Where the vendored test data lives (see ``tests/data/README.md``), and one guard.

Test modules parametrize over these files at import time, before fixtures exist, so a
missing corpus would silently collapse into "empty parameter set" skips. ``required``
fails collection instead, naming what is missing.
"""

from __future__ import annotations

from pathlib import Path

REPO_DIR = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_DIR / "tests" / "data"
SPEC_DIR = REPO_DIR / "ol_bridge" / "spec"
SCHEMAS_DIR = REPO_DIR / "schemas"
COMPAT_DIR = DATA_DIR / "datahub-ol-compat"
SPEC_TESTS_DIR = DATA_DIR / "openlineage-spec-tests"


def required(paths: list[Path], *, expected: int, what: str) -> list[Path]:
    """``paths`` (sorted) if there are exactly ``expected`` of them; else fail loudly."""
    if len(paths) != expected:
        raise RuntimeError(
            f"{what}: expected {expected} files, found {len(paths)}. The vendored test data "
            f"under {DATA_DIR} is incomplete; restore it from git (see tests/data/README.md)."
        )
    return sorted(paths)
