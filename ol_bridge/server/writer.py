"""One thread that writes to the DataHub sink, committing concurrent requests together.

Sinks are not thread-safe, and DataHub Lite opens its DuckDB file for every write, so a
write per request would cap throughput at one file open per event. Requests instead
:meth:`~GroupWriter.submit` their proposals and wait; the writer thread takes everything
pending, writes it as one (coalesced) batch, and only then resolves each request's future
(group commit). A request is answered 201 only after its own proposals were written. If a
combined write fails, each request's proposals are retried alone, so one bad event
cannot fail its neighbours.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future

import attrs

from ol_bridge.datahub.coalesce import coalesce
from ol_bridge.datahub.sinks.base import MetadataSink, Proposal
from ol_bridge.datahub.transport import batched
from ol_bridge.errors import DeliveryError

log = logging.getLogger(__name__)

#: Most proposals combined into one group write.
MAX_GROUP_PROPOSALS = 5_000


@attrs.frozen
class _Job:
    mcps: Sequence[Proposal]
    future: Future[None]


class GroupWriter:
    """Writes submitted proposals to ``sink`` from one background thread."""

    def __init__(self, sink: MetadataSink, *, batch_size: int) -> None:
        self._sink = sink
        self._batch_size = batch_size
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._pending = 0
        self._pending_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="ol-bridge-datahub", daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        """Proposals submitted and not yet written."""
        return self._pending

    def submit(self, mcps: Sequence[Proposal]) -> Future[None]:
        future: Future[None] = Future()
        if not self._thread.is_alive():
            future.set_exception(DeliveryError("The DataHub writer has stopped."))
            return future
        with self._pending_lock:
            self._pending += len(mcps)
        self._jobs.put(_Job(mcps, future))
        return future

    def write(self, mcps: Sequence[Proposal]) -> None:
        """Submit and wait: for callers that are threads already (the Kafka worker)."""
        self.submit(mcps).result()

    def close(self) -> None:
        """Finish what was submitted, then close the sink."""
        self._jobs.put(None)
        self._thread.join()
        self._sink.close()

    def _run(self) -> None:
        while True:
            first = self._jobs.get()
            if first is None:
                return
            group = [first]
            size = len(first.mcps)
            stop = False
            while size < MAX_GROUP_PROPOSALS:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stop = True
                    break
                group.append(job)
                size += len(job.mcps)
            self._write_group(group)
            if stop:
                return

    def _write_group(self, group: list[_Job]) -> None:
        try:
            self._store([mcp for job in group for mcp in job.mcps])
        except Exception as error:  # handed to every waiting request, not swallowed
            if len(group) == 1:
                self._finish(group[0], error)
                return
            log.warning(
                "A group write of %d requests failed (%s); retrying each", len(group), error
            )
            for job in group:
                try:
                    self._store(job.mcps)
                except Exception as job_error:  # the request's own failure, handed back
                    self._finish(job, job_error)
                else:
                    self._finish(job, None)
            return
        for job in group:
            self._finish(job, None)

    def _finish(self, job: _Job, error: BaseException | None) -> None:
        with self._pending_lock:
            self._pending -= len(job.mcps)
        if error is None:
            job.future.set_result(None)
        else:
            job.future.set_exception(error)

    def _store(self, mcps: Sequence[Proposal]) -> None:
        if not mcps:
            return
        # a request's events, and concurrent requests about one pipeline, repeat aspects:
        # each is written once, with its last value (the same DataHub afterwards)
        mcps = coalesce(mcps)
        for chunk in batched(mcps, self._batch_size):
            self._sink.write(chunk)
        self._sink.flush()
