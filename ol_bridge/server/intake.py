"""Committing accepted events to the outbox: one thread, concurrent requests together.

A request is acknowledged (201) only once its events are committed to the outbox for every
destination. Each request committing its own transaction would make concurrent requests
queue for SQLite's write lock (its busy handler sleeps) and pay a commit each; instead
requests :meth:`~Committer.submit` their events and wait on a future, and one thread takes
everything pending and commits it with ``Outbox.enqueue_many`` in one transaction (group
commit), then resolves each request's future. If a combined commit fails (the outbox would
pass its limit), each request is committed alone, so one large request cannot fail the
others.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future

import attrs

from ol_bridge.delivery.database import OutboxDatabase
from ol_bridge.delivery.store import Outbox
from ol_bridge.errors import OutboxFullError

log = logging.getLogger(__name__)

#: most events combined into one transaction
MAX_GROUP_EVENTS = 2_000


@attrs.frozen
class Item:
    """One event as the outbox stores it: its JSON and its identity key."""

    payload: str
    key: str | None


@attrs.frozen
class _Job:
    items: Sequence[Item]
    future: Future[list[bool]]


class Committer:
    """Commits submitted events from one background thread; ``on_commit`` is called after
    each commit (the delivery threads wake up)."""

    def __init__(
        self,
        database: OutboxDatabase,
        destinations: Sequence[str],
        *,
        max_events: int,
        dedup_seconds: float,
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self._database = database
        self._destinations = list(destinations)
        self._max_events = max_events
        self._dedup_seconds = dedup_seconds
        self._on_commit = on_commit
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._ready = threading.Event()
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="ol-bridge-commit", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._failed is not None:
            raise self._failed

    def submit(self, items: Sequence[Item]) -> Future[list[bool]]:
        """Commit ``items``; the future gives, per item, whether it was a duplicate."""
        future: Future[list[bool]] = Future()
        if not self._thread.is_alive():
            future.set_exception(RuntimeError("the outbox committer has stopped"))
            return future
        self._jobs.put(_Job(items, future))
        return future

    def close(self) -> None:
        """Commit what was submitted, then stop."""
        self._jobs.put(None)
        self._thread.join()

    def _run(self) -> None:
        try:
            outbox = Outbox(self._database, dedup_seconds=self._dedup_seconds)
        except BaseException as error:  # handed to the constructor, which raises it
            self._failed = error
            self._ready.set()
            return
        self._ready.set()
        try:
            while True:
                first = self._jobs.get()
                if first is None:
                    return
                group, stop = [first], False
                size = len(first.items)
                while size < MAX_GROUP_EVENTS:
                    try:
                        job = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if job is None:
                        stop = True
                        break
                    group.append(job)
                    size += len(job.items)
                self._commit_group(outbox, group)
                if stop:
                    return
        finally:
            outbox.close()

    def _commit_group(self, outbox: Outbox, group: list[_Job]) -> None:
        try:
            flags = self._commit(outbox, [item for job in group for item in job.items])
        except OutboxFullError as error:
            if len(group) == 1:
                group[0].future.set_exception(error)
                return
            for job in group:  # alone, the smaller ones may still fit
                self._commit_group(outbox, [job])
            return
        except Exception as error:  # the database failed: every waiting request gets 503
            log.warning("Committing %d requests to the outbox failed: %s", len(group), error)
            for job in group:
                job.future.set_exception(error)
            return
        self._on_commit()
        start = 0
        for job in group:
            job.future.set_result(flags[start : start + len(job.items)])
            start += len(job.items)

    def _commit(self, outbox: Outbox, items: list[Item]) -> list[bool]:
        return outbox.enqueue_many(
            [(item.payload, item.key) for item in items],
            self._destinations,
            max_events=self._max_events,
        )
