"""Shared pytest fixtures. Keep each fixture small; add yours below."""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

from ol_bridge.validation import EventValidator
from tests.corpora import SCHEMAS_DIR, SPEC_DIR


@pytest.fixture(scope="session")
def ol_validator() -> EventValidator:
    """Validates events against the official spec shipped in ``ol_bridge/spec`` and the
    repository's ``schemas/``, with format checks (uri, date-time, uuid)."""
    return EventValidator(SPEC_DIR, SCHEMAS_DIR)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server (the ``pgserver`` wheel) for the session."""
    import pgserver

    with tempfile.TemporaryDirectory(prefix="ol-bridge-pg-") as data_dir:
        server = pgserver.get_server(data_dir, cleanup_mode="stop")
        # SQLAlchemy 2 maps plain postgresql:// to psycopg 3; dagster-postgres ships psycopg2.
        base = server.get_uri().replace("postgresql://", "postgresql+psycopg2://", 1)
        yield base
        server.cleanup()


_pg_databases = itertools.count()


def fresh_database(postgres_url: str) -> str:
    """The URL of a new, empty database on the session's server (one per test, so tests
    never see each other's runs or outboxes)."""
    import sqlalchemy

    name = f"test_{os.getpid()}_{next(_pg_databases)}"
    engine = sqlalchemy.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(sqlalchemy.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return postgres_url.replace("/postgres?", f"/{name}?", 1)


def postgres_storage(database_url: str) -> dict[str, Any]:
    """A ``dagster.yaml`` ``storage`` section for that database."""
    return {"storage": {"postgres": {"postgres_url": database_url}}}


@pytest.fixture
def receivers() -> Iterator[list[Any]]:
    """Marquez-like receivers (``tests.delivery.receiver.Receiver``) a test starts: stopped
    after it."""
    made: list[Any] = []
    yield made
    for receiver in made:
        receiver.stop()


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
