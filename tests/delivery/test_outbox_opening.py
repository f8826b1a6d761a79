"""Two processes opening a new outbox file at once both get it (no 'database is locked')."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from ol_bridge.delivery.database import retry_while_locked, sqlite_engine


def test_a_locked_file_is_retried_until_it_opens() -> None:
    answers = [sqlite3.OperationalError("database is locked")] * 3
    calls: list[int] = []
    slept: list[float] = []

    def statement() -> None:
        calls.append(1)
        if answers:
            raise answers.pop()

    retry_while_locked(statement, sleep=slept.append)
    assert len(calls) == 4 and len(slept) == 3


def test_other_errors_and_a_lock_past_the_deadline_are_raised() -> None:
    def broken() -> None:
        raise sqlite3.OperationalError("no such table: x")

    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        retry_while_locked(broken, sleep=lambda _: None)

    def locked() -> None:
        raise sqlite3.OperationalError("database is locked")

    with pytest.raises(sqlite3.OperationalError, match="locked"):
        retry_while_locked(locked, seconds=0.0, sleep=lambda _: None)


def test_many_connections_open_a_new_file_at_once(tmp_path: Path) -> None:
    errors: list[BaseException] = []
    for attempt in range(10):
        path = tmp_path / f"outbox-{attempt}.sqlite"
        start = threading.Barrier(6)

        def open_it(path: Path = path, start: threading.Barrier = start) -> None:
            engine = sqlite_engine(f"sqlite:///{path}", "NORMAL")
            try:
                start.wait()
                with engine.begin() as connection:
                    connection.execute(sa.text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
                    connection.execute(sa.text("INSERT INTO t VALUES (1)"))
            except BaseException as error:  # collected: the assertion below names it
                errors.append(error)
            finally:
                engine.dispose()

        threads = [threading.Thread(target=open_it) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
