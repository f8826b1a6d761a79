"""Shared pytest fixtures. Keep each fixture small; add yours below."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ol_bridge.validation import EventValidator

REPO_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The project's shared inputs (OL spec, DataHub compat corpus): the repo's sibling
    ``shared/``, or ``$OL_BRIDGE_SHARED_DIR``."""
    configured = os.environ.get("OL_BRIDGE_SHARED_DIR")
    path = Path(configured) if configured else REPO_DIR.parent / "shared"
    if not (path / "openlineage-spec" / "OpenLineage.json").is_file():
        pytest.fail(f"{path} is not the shared/ directory; set OL_BRIDGE_SHARED_DIR to it.")
    return path


@pytest.fixture(scope="session")
def ol_validator(shared_dir: Path) -> EventValidator:
    """Validates events against shared/openlineage-spec and the repo's schemas/."""
    return EventValidator(shared_dir / "openlineage-spec", REPO_DIR / "schemas")


@pytest.fixture(autouse=True)
def _restore_openlineage_environment() -> Iterator[None]:
    """openlineage-python writes ``OPENLINEAGE__TRANSPORT__*`` variables into os.environ
    when it sees ``OPENLINEAGE_URL``; put the environment back after every test so one
    test's configuration never leaks into the next."""
    before = {k: v for k, v in os.environ.items() if k.startswith("OPENLINEAGE")}
    yield
    for key in [k for k in os.environ if k.startswith("OPENLINEAGE")]:
        if key not in before:
            del os.environ[key]
    os.environ.update(before)
