"""``build_openlineage_sensor``: the one thing users attach to their ``Definitions``."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Literal

import attrs
from dagster import (
    DefaultSensorStatus,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    sensor,
)
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import RunEvent

from ol_bridge.dagster.catalog import AssetCatalog
from ol_bridge.dagster.cursor import OutboxMark, SensorCursor
from ol_bridge.dagster.reader import latest_status_ids
from ol_bridge.dagster.tick import Emit, TickLimits, TickResult, run_tick
from ol_bridge.dagster.translator import OpenLineageTranslator
from ol_bridge.delivery import DeliveryConfig, SensorDelivery
from ol_bridge.delivery.handoff import DeliverySummary

Start = Literal["beginning", "now"] | datetime | float


def build_openlineage_sensor(
    *,
    name: str = "openlineage_sensor",
    minimum_interval_seconds: int = 30,
    default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
    description: str | None = None,
    translator: OpenLineageTranslator | None = None,
    client: OpenLineageClient | Callable[[], OpenLineageClient] | None = None,
    start: Start = "beginning",
    limits: TickLimits | None = None,
    delivery: DeliveryConfig | None = None,
) -> SensorDefinition:
    """A sensor that emits OpenLineage events for every run of every code location.

    Args:
        name: sensor name; also the prefix of its log lines (``<name> - Emitting N events``).
        minimum_interval_seconds: seconds between ticks.
        default_status: whether the sensor runs without being switched on in the UI.
        translator: naming decisions (namespaces, job names, datasets, lineage hook).
        client: the OpenLineage client, or a factory for it. By default
            ``OpenLineageClient()``, which reads the standard OpenLineage configuration:
            ``OPENLINEAGE_CONFIG`` / ``openlineage.yml``, ``OPENLINEAGE__TRANSPORT__*``,
            ``OPENLINEAGE_URL`` + ``OPENLINEAGE_ENDPOINT`` + ``OPENLINEAGE_API_KEY``.
            It is created on the first tick that has something to emit.
        start: where a sensor with no cursor begins: ``"beginning"`` (default: all history
            is emitted, tick by tick), ``"now"``, or a datetime / POSIX timestamp.
        limits: per-tick time box and batch sizes.
        delivery: the durable outbox (on by default): events are committed to it, one queue
            per destination (each child of a ``composite`` transport), and each tick then
            delivers what is due within ``delivery.drain_seconds`` of its time box. See
            ``docs/delivery.md``; ``DeliveryConfig(outbox=False)`` emits directly instead.
    """
    translator = translator or OpenLineageTranslator()
    limits = limits or TickLimits()
    get_client = _client_factory(client)
    delivery = delivery or DeliveryConfig()

    @sensor(
        name=name,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=default_status,
        description=description or "Emits OpenLineage events for Dagster runs (ol-bridge).",
    )
    def _openlineage_sensor(context: SensorEvaluationContext) -> SensorResult:
        return evaluate_tick(
            context,
            name=name,
            start=start,
            translator=translator,
            limits=limits,
            delivery=delivery,
            get_client=get_client,
        )

    return _openlineage_sensor


def evaluate_tick(
    context: SensorEvaluationContext,
    *,
    name: str,
    start: Start,
    translator: OpenLineageTranslator,
    limits: TickLimits,
    delivery: DeliveryConfig,
    get_client: Callable[[], OpenLineageClient],
) -> SensorResult:
    """One tick: walk new event-log records, hand their events off, deliver what is due."""
    started = time.monotonic()
    cursor = SensorCursor.from_json(context.cursor)
    if cursor is None:
        cursor = initial_cursor(context, start)
        _say(context, "info", no_cursor_message(name, start))
    catalog = AssetCatalog(_repository_of(context), context.instance, context.log)
    outbox = (
        SensorDelivery.for_instance(
            delivery, get_client, context.instance, context.log, grouped=True
        )
        if delivery.outbox
        else None
    )

    def emit_directly(event: RunEvent) -> None:  # the client is built on first use
        get_client().emit(event)

    emit: Emit = outbox.emit if outbox is not None else emit_directly
    walk_limits = limits
    if outbox is not None:
        walk_seconds = outbox.walk_seconds(limits.time_budget_seconds)
        walk_limits = attrs.evolve(limits, time_budget_seconds=walk_seconds)
    summary = DeliverySummary([])
    mark: OutboxMark | None = None
    try:
        result = run_tick(
            context.instance,
            cursor,
            emit,
            translator=translator,
            catalog=catalog,
            limits=walk_limits,
            commit=outbox.commit if outbox is not None else None,
        )
        if outbox is not None:
            summary = outbox.finish(name, started + limits.time_budget_seconds)
            summary = attrs.evolve(
                summary, lines=[*_outbox_replaced(name, cursor.outbox, outbox), *summary.lines]
            )
            mark = _mark(outbox, summary)
    finally:
        if outbox is not None:
            outbox.close()
    if result.emitted:
        # The line operators grep for, in the tick log (UI) and the process log.
        _say(context, "info", f"{name} - Emitting {result.emitted} events")
    for level, line in summary.lines:
        _say(context, level, line)
    if result.failure is not None:
        failure = result.failure
        _say(
            context,
            "warning",
            f"{name} - could not hand off the {failure.event_type} event of job "
            f"{failure.job_name!r} (run {failure.run_id}): {failure.error}. "
            "It will be retried on the next tick; the cursor stays before it.",
        )
    backlog = summary.backlog()
    if backlog:
        _say(context, "warning" if _failing(summary) else "info", f"{name} - {backlog}")
    next_cursor = attrs.evolve(result.cursor, outbox=mark)
    return SensorResult(skip_reason=tick_summary(result, summary), cursor=next_cursor.to_json())


def _mark(delivery: SensorDelivery, summary: DeliverySummary) -> OutboxMark | None:
    """What the next tick checks its outbox against: this one, if events wait in it."""
    if not summary.waiting:
        return None
    ages = [s.oldest_age_seconds for s in summary.waiting if s.oldest_age_seconds is not None]
    oldest = time.time() - max(ages) if ages else None
    waiting = sum(stats.queued for stats in summary.waiting)
    return OutboxMark(delivery.outbox.identity, waiting, oldest)


def _outbox_replaced(
    name: str, previous: OutboxMark | None, delivery: SensorDelivery
) -> list[tuple[str, str]]:
    """Warnings for an outbox that is not the one the last tick left events waiting in."""
    known = previous.waiting if previous is not None else None
    lines = [
        ("warning", f"{name} - {recovery.describe(known)}")
        for recovery in delivery.outbox.recoveries
    ]
    if lines or previous is None or previous.identity == delivery.outbox.identity:
        return lines
    since = ""
    if previous.oldest is not None:
        oldest = datetime.fromtimestamp(previous.oldest, timezone.utc)
        since = f", the oldest handed off at {oldest:%Y-%m-%dT%H:%M:%SZ}"
    return [
        (
            "warning",
            f"{name} - the outbox in {delivery.outbox.where} is not the one the last tick left "
            f"{previous.waiting} deliveries waiting in{since}: it was deleted, emptied or "
            "replaced (a wiped disk?). Those deliveries are lost. Re-send them with "
            "`ol-bridge backfill --since <a date before the runs they belong to> --resend`, "
            "and give the outbox a durable home (docs/delivery.md).",
        )
    ]


def tick_summary(result: TickResult, delivery: DeliverySummary | None = None) -> str:
    """What the tick did, shown as the tick's message in the Dagster UI (the sensor never
    requests runs, so every tick is reported as skipped with this text): what it emitted,
    delivered, and what still waits for which destination, since when, and why."""
    delivery = delivery or DeliverySummary([])
    if result.failure is not None:
        text = f"Emitted {result.emitted} events; hand-off failed: {result.failure.error}"
    elif result.emitted:
        more = " More to do next tick." if result.has_more else ""
        text = f"Emitted {result.emitted} OpenLineage events.{more}"
    else:
        text = IDLE_MESSAGE
    if delivery.delivered:
        text += f" Delivered {delivery.delivered}."
    backlog = delivery.backlog()
    return f"{text} {backlog}" if backlog else text


def _failing(summary: DeliverySummary) -> bool:
    return any(stats.failures or stats.rejected for stats in summary.waiting)


#: the tick message when there was nothing new to emit
IDLE_MESSAGE = "No new runs to emit."


def _say(context: SensorEvaluationContext, level: str, message: str) -> None:
    """Through Dagster's logger only: the line reaches the tick's log in the UI and the
    code location server's log (where the sensor runs), with Dagster's prefix."""
    getattr(context.log, level)(message)


def no_cursor_message(name: str, start: Start) -> str:
    """Said on a tick without a cursor. Dagster keeps a sensor's cursor under its code
    location and name, so renaming either starts the sensor afresh (issue 12)."""
    where = "from the beginning of history" if start == "beginning" else f"from {start!r}"
    return (
        f"{name} - no cursor: emitting {where}. This is the sensor's first tick, or its code"
        " location or name changed (Dagster keeps the cursor under both). Events delivered"
        " within DeliveryConfig.dedup_seconds are not sent again; older ones are, with the"
        " same run ids, so backends update them instead of duplicating. Pass start='now' to"
        " build_openlineage_sensor to skip history."
    )


def initial_cursor(context: SensorEvaluationContext, start: Start) -> SensorCursor:
    if start == "beginning":
        return SensorCursor()
    if start == "now":
        return SensorCursor(status_after=latest_status_ids(context.instance))
    if isinstance(start, datetime):
        return SensorCursor(start_after_timestamp=start.timestamp())
    if isinstance(start, (int, float)):
        return SensorCursor(start_after_timestamp=float(start))
    raise ValueError(
        f"start must be 'beginning', 'now', a datetime or a POSIX timestamp, got {start!r}"
    )


def _repository_of(context: SensorEvaluationContext):  # type: ignore[no-untyped-def]
    try:
        return context.repository_def
    except Exception:  # dagster raises when the context was built without definitions
        return None


def _client_factory(
    client: OpenLineageClient | Callable[[], OpenLineageClient] | None,
) -> Callable[[], OpenLineageClient]:
    if isinstance(client, OpenLineageClient):
        return lambda: client
    factory = client or OpenLineageClient
    cache: list[OpenLineageClient] = []

    def get() -> OpenLineageClient:
        if not cache:
            cache.append(factory())
        return cache[0]

    return get
