"""Shared pytest fixtures. Keep each fixture small; add yours below."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from ol_bridge.validation import EventValidator
from tests.corpora import SCHEMAS_DIR, SPEC_DIR


@pytest.fixture(scope="session")
def ol_validator() -> EventValidator:
    """Validates events against the official spec shipped in ``ol_bridge/spec`` and the
    repository's ``schemas/``, with format checks (uri, date-time, uuid)."""
    return EventValidator(SPEC_DIR, SCHEMAS_DIR)


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
