"""Recovering an outbox whose SQLite file turns out damaged, and what a recovery reports.

``salvage.py`` reads a damaged file; this module decides when that happens and what the
operator is told. The file is checked when opened (:func:`check_pages`); an outbox method
that finds damage later recovers (:meth:`OutboxConnection._recover
<ol_bridge.delivery.connection.OutboxConnection._recover>`) and runs again on the fresh
outbox (:func:`recovering`), or, about events read before the recovery, returns a default
(:func:`recovering_stale`). :class:`Recovery` says how many waiting deliveries were queued
again and how many were lost.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import attrs
from sqlalchemy.engine import Connection

from ol_bridge.delivery.salvage import Salvaged, quarantine, salvage
from ol_bridge.delivery.schema import DESTINATIONS, EVENTS, QUEUE

if TYPE_CHECKING:
    from ol_bridge.delivery.connection import OutboxConnection


@attrs.frozen
class Recovery:
    """A damaged outbox file moved aside, and what was queued again from it."""

    moved_to: Path
    error: str
    #: (event, destination) pairs queued again in the fresh outbox
    recovered: int
    #: what the damaged file's counters said was waiting (None: unreadable too)
    waiting_before: int | None
    #: pairs that could not be read: lost unless re-sent (``ol-bridge backfill``)
    lost: int

    def describe(self, known_waiting: int | None = None) -> str:
        """``known_waiting``: how many deliveries waited by another account (the sensor's
        cursor), for a file too damaged to say itself."""
        waiting = self.waiting_before if self.waiting_before is not None else known_waiting
        before = "an unknown number of" if waiting is None else str(waiting)
        lost = self.lost if waiting is None else max(0, waiting - self.recovered)
        return (
            f"the outbox file was damaged ({self.error}); it was moved to {self.moved_to} and a "
            f"fresh one started. Of {before} waiting deliveries, {self.recovered} were read "
            f"back and queued again; {lost} could not be read and are lost: re-send them "
            "with `ol-bridge backfill --since <when the outage began> --resend` (the moved "
            "file is kept for inspection; delete it when done)."
        )


def check_pages(db: Connection) -> None:
    """SQLite's quick integrity check (~0.1 s for 100 MB), so that damage is found before
    this tick hands new events to a damaged file (where they could be lost with it)."""
    with db.begin():
        verdict = db.exec_driver_sql("PRAGMA quick_check(1)").scalar()
    if verdict != "ok":
        detail = " ".join(str(verdict).split())[:200]  # SQLite's report spans lines
        raise sqlite3.DatabaseError(f"database disk image is malformed ({detail})")


_TABLES_V1 = {"events": EVENTS, "queue": QUEUE, "destinations": DESTINATIONS}
_TABLES_V0 = {"events": "events", "queue": "queue", "destinations": "destinations"}


def salvage_moved(path: Path) -> Salvaged:
    """Move the damaged file at ``path`` aside and read what it still holds, in the
    tables' current names or, failing that, in those of the first version."""
    moved = quarantine(path)
    found = salvage(moved, _TABLES_V1)
    if not found.events:
        found = salvage(moved, _TABLES_V0) if found.waiting_before is None else found
    return found


_O = TypeVar("_O", bound="OutboxConnection")
_P = ParamSpec("_P")
_R = TypeVar("_R")


def recovering(
    method: Callable[Concatenate[_O, _P], _R],
) -> Callable[Concatenate[_O, _P], _R]:
    """Run ``method``; if the outbox file turns out damaged, recover (see ``_recover``) and
    run it again on the fresh outbox."""
    return _on_damage(method, lambda: None, retry=True)


def recovering_stale(
    default: _R,
) -> Callable[[Callable[Concatenate[_O, _P], _R]], Callable[Concatenate[_O, _P], _R]]:
    """For methods about events read before a recovery (their ids were the damaged
    file's): recover, then return ``default`` without running them again. Those events
    were queued again from the file, so a send that did happen may repeat once; none is
    lost."""
    return lambda method: _on_damage(method, lambda: default, retry=False)


def _on_damage(
    method: Callable[Concatenate[_O, _P], _R],
    default: Callable[[], Any],
    *,
    retry: bool,
) -> Callable[Concatenate[_O, _P], _R]:
    @functools.wraps(method)
    def run(self: _O, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(self, *args, **kwargs)
        except Exception as error:
            if not self._damaged(error):
                raise
            self._recover(error)
            return method(self, *args, **kwargs) if retry else default()  # type: ignore[no-any-return]

    return run
