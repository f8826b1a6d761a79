"""Checking and committing requests' events: one thread, concurrent requests together.

A request is acknowledged (201) only once its events are committed to the outbox for every
destination. Each request committing its own transaction would make concurrent requests
queue for SQLite's write lock (its busy handler sleeps) and pay a commit each; instead
requests submit their work and wait on a future, and one thread takes everything pending,
runs each job's ``prepare`` (parse, validate, convert: the CPU work, off the event loop),
and commits the events of every job that passed with ``Outbox.enqueue_many`` in one
transaction (group commit), then resolves each request's future. One thread for both
steps, so a request costs one hand-over between threads each way, not one to a worker
pool and another to a committer. If a combined commit fails (the outbox would pass its
limit), each request is committed alone, so one large request cannot fail the others.
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
    #: the job's events, computed on the committer thread; an exception it raises (a
    #: refused body) goes to the future instead, and the job commits nothing
    prepare: Callable[[], Sequence[Item]]
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
        return self.submit_work(lambda: items)

    def submit_work(self, prepare: Callable[[], Sequence[Item]]) -> Future[list[bool]]:
        """Run ``prepare`` on the committer thread, then commit the items it returns (with
        the others pending); the future gives, per item, whether it was a duplicate, or the
        exception ``prepare`` raised."""
        future: Future[list[bool]] = Future()
        if not self._thread.is_alive():
            future.set_exception(RuntimeError("the outbox committer has stopped"))
            return future
        self._jobs.put(_Job(prepare, future))
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
                group: list[_Prepared] = []
                stop, size, job = False, 0, first
                while True:
                    prepared = _prepared(job)
                    if prepared is not None:
                        group.append(prepared)
                        size += len(prepared.items)
                    if size >= MAX_GROUP_EVENTS:
                        break
                    try:
                        next_job = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if next_job is None:
                        stop = True
                        break
                    job = next_job
                if group:
                    self._commit_group(outbox, group)
                if stop:
                    return
        finally:
            outbox.close()

    def _commit_group(self, outbox: Outbox, group: list[_Prepared]) -> None:
        try:
            flags = self._commit(outbox, [item for job in group for item in job.items])
        except OutboxFullError as error:
            if len(group) == 1:
                group[0].future.set_exception(error)
                return
            for job in group:  # alone, the smaller ones may still fit
                self._commit_group(outbox, [job])
            return
        except Exception as error:  # the database failed: every waiting request hears it
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


@attrs.frozen
class _Prepared:
    items: Sequence[Item]
    future: Future[list[bool]]


def _prepared(job: _Job) -> _Prepared | None:
    """The job's items, or None once its future holds what stopped them."""
    try:
        items = job.prepare()
    except Exception as error:  # a refused body, or a bug: that request's answer
        job.future.set_exception(error)
        return None
    return _Prepared(items, job.future)
