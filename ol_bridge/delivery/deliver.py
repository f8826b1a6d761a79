"""Draining the outbox: each destination in order, in small batches, within a time box.

Round robin over the destinations that are due, ``batch_size`` events at a time, so a slow
destination cannot starve the others. A failed send stops that destination until its
backoff (doubling per consecutive failure, capped) has passed; the others carry on. An event
a destination refuses for good (HTTP 400, 413, 415, 422; an event our converter rejects) is
parked as *rejected* so it cannot block the events behind it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import requests

from ol_bridge.delivery.destinations import Destination
from ol_bridge.delivery.redact import redact
from ol_bridge.delivery.store import Outbox, Pending
from ol_bridge.delivery.stored_http import sender
from ol_bridge.errors import ConversionError, DestinationRejectedError, EventValidationError

log = logging.getLogger(__name__)

#: HTTP statuses that say "this event is wrong", not "try later"
PERMANENT_HTTP_STATUSES = frozenset({400, 413, 415, 422})


@attrs.frozen
class Backoff:
    seconds: float = 5.0
    max_seconds: float = 300.0

    def after(self, failures: int) -> float:
        # the exponent is capped: past ~2**30 the cap has long been reached anyway
        return float(min(self.max_seconds, self.seconds * 2 ** min(30, max(0, failures - 1))))


@attrs.frozen
class DrainReport:
    #: destination -> events delivered by this drain
    delivered: Mapping[str, int]
    #: destination -> the (redacted) error that stopped it in this drain
    failed: Mapping[str, str]
    rejected: int
    #: the time box ended while events were still due
    out_of_time: bool

    @property
    def total_delivered(self) -> int:
        return sum(self.delivered.values())


def drain(
    outbox: Outbox,
    destinations: Sequence[Destination],
    *,
    seconds: float,
    batch_size: int = 50,
    backoff: Backoff = Backoff(),
    ignore_backoff: bool = False,
    clock: Callable[[], float] = time.monotonic,
    logger: logging.Logger | logging.LoggerAdapter[Any] = log,
) -> DrainReport:
    """Send what is due to each destination until all are drained, failing, or time is up.

    ``seconds`` bounds when a send may start; one send can run past it by at most the
    transport's own timeout. ``logger`` takes the warnings (the sensor passes Dagster's, so
    they reach the tick log and the code server's log with Dagster's prefix).
    """
    deadline = clock() + seconds
    by_name = {destination.name: destination for destination in destinations}
    delivered = dict.fromkeys(by_name, 0)
    failed: dict[str, str] = {}
    rejected = 0
    stopped: set[str] = set()
    while True:
        due = [
            name
            for name in outbox.due(list(by_name), ignore_backoff=ignore_backoff)
            if name not in stopped
        ]
        if not due:
            return DrainReport(delivered, failed, rejected, out_of_time=False)
        for name in due:
            if clock() >= deadline:
                return DrainReport(delivered, failed, rejected, out_of_time=True)
            # the lease outlives the time box by a margin for one slow send
            if not outbox.lease(name, seconds + 120.0):
                stopped.add(name)  # another process is draining it right now
                continue
            try:
                sent, error, refused = _send_batch(
                    outbox, by_name[name], batch_size, deadline, backoff, clock, logger
                )
            finally:
                outbox.release(name)
            delivered[name] += sent
            rejected += refused
            if error is not None:
                failed[name] = error
                stopped.add(name)
    # unreachable: the loop returns


#: (outbox file, destination) -> seconds per event of its last whole-batch write. A batch
#: is one call that cannot be interrupted, so a slow destination (DataHub Lite, ~20 events/s)
#: gets batches that fit what is left of the time box instead of overrunning the tick (and
#: Dagster's sensor timeout) by the time of a full batch. Kept for the process's life: the
#: sensor's process lives across ticks.
_PACE: dict[tuple[str, str], float] = {}


class DecodedOnRead(Sequence[dict[str, Any]]):
    """The batch's events, each decoded when the transport reads it: a transport that
    converts event by event (``datahub``) lets each decoded dict die young instead of
    holding the whole batch's, which CPython's collector would otherwise promote and then
    scan in full collections of the code server's heap."""

    def __init__(self, pending: Sequence[Pending]) -> None:
        self._pending = pending

    def __len__(self) -> int:
        return len(self._pending)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [json.loads(item.payload) for item in self._pending[index]]
        return json.loads(self._pending[index].payload)


def batch_limit(pace: float | None, batch_size: int, seconds_left: float) -> int:
    """Events to hand a whole-batch destination now: ``batch_size``, or fewer when its last
    pace says a full batch would not finish in ``seconds_left`` (pure)."""
    if pace is None or pace <= 0:
        return batch_size
    return max(1, min(batch_size, int(seconds_left / pace)))


def _send_batch(
    outbox: Outbox,
    destination: Destination,
    batch_size: int,
    deadline: float,
    backoff: Backoff,
    clock: Callable[[], float],
    logger: logging.Logger | logging.LoggerAdapter[Any],
) -> tuple[int, str | None, int]:
    emit_batch = getattr(destination.transport, "emit_batch", None)
    pace_key = (outbox.where, destination.name)
    if callable(emit_batch):
        batch_size = batch_limit(_PACE.get(pace_key), batch_size, deadline - clock())
    pending = outbox.batch(destination.name, batch_size)
    if callable(emit_batch) and len(pending) > 1 and clock() < deadline:
        # One write for the whole batch (the ``datahub`` transport: one coalesced REST
        # batch, one DataHub Lite index rebuild), handed over as the events' JSON dicts. If
        # the destination refuses the batch for good, the events go one by one below, so
        # only the bad one is parked.
        started = clock()
        try:
            emit_batch(DecodedOnRead(pending))
        except Exception as error:  # recorded and retried (or isolated), never skipped
            if not is_permanent(error):
                failure = _record_failure(outbox, destination, pending[0], error, backoff, logger)
                return 0, failure, 0
        else:
            _PACE[pace_key] = (clock() - started) / len(pending)
            outbox.delivered_many(destination.name, [item.event_id for item in pending])
            return len(pending), None, 0
    return _send_one_by_one(outbox, destination, pending, deadline, backoff, clock, logger)


def _send_one_by_one(
    outbox: Outbox,
    destination: Destination,
    pending: list[Pending],
    deadline: float,
    backoff: Backoff,
    clock: Callable[[], float],
    logger: logging.Logger | logging.LoggerAdapter[Any],
) -> tuple[int, str | None, int]:
    sent = refused = 0
    send = sender(destination.transport)
    for item in pending:
        if clock() >= deadline:
            break
        try:
            send(item.payload)
        except Exception as error:  # any transport's failure is recorded and retried, not skipped
            if is_permanent(error):
                message = redact(f"{type(error).__name__}: {error}")
                outbox.reject(destination.name, item.event_id, message)
                refused += 1
                logger.warning(
                    f"ol-bridge delivery: {destination.name} refused an event for good "
                    f"({message}); it is kept as rejected (see `ol-bridge outbox status`) and "
                    "the events behind it go on."
                )
                continue
            failure = _record_failure(outbox, destination, item, error, backoff, logger)
            return sent, failure, refused
        outbox.delivered(destination.name, item.event_id)
        sent += 1
    return sent, None, refused


def _record_failure(
    outbox: Outbox,
    destination: Destination,
    item: Pending,
    error: BaseException,
    backoff: Backoff,
    logger: logging.Logger | logging.LoggerAdapter[Any],
) -> str:
    message = redact(f"{type(error).__name__}: {error}")
    failures, retry_in = outbox.failed(destination.name, item.event_id, message, backoff.after)
    logger.warning(
        f"ol-bridge delivery: {destination.name} is failing ({message}); {failures} "
        f"consecutive failures, its events wait in the outbox in {outbox.where} and are "
        f"retried in {retry_in:.0f} s."
    )
    return message


def is_permanent(error: BaseException) -> bool:
    """Whether retrying ``error`` can never help (the event itself is refused)."""
    if isinstance(error, (DestinationRejectedError, ConversionError, EventValidationError)):
        return True
    if isinstance(error, requests.HTTPError) and error.response is not None:
        return error.response.status_code in PERMANENT_HTTP_STATUSES
    return False
