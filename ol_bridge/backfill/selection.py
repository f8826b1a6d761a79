"""Which runs a backfill covers: a time range, job names and code locations.

Runs are found with public Dagster APIs (``get_run_records`` with a ``RunsFilter``); the
code location comes from the run's ``remote_job_origin``. Runs launched without one (e.g.
``execute_in_process`` in scripts and tests) have no code location: ``--location`` skips them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timezone

import attrs
from dagster import DagsterInstance, DagsterRunStatus, RunRecord, RunsFilter

#: statuses of runs the sensor would discover: they started, or ended without starting.
#: Queued and starting runs are left for the sensor, which picks them up when they start.
BACKFILL_STATUSES = (
    DagsterRunStatus.STARTED,
    DagsterRunStatus.SUCCESS,
    DagsterRunStatus.FAILURE,
    DagsterRunStatus.CANCELING,
    DagsterRunStatus.CANCELED,
)

PAGE_SIZE = 500


def _utc(moment: datetime | None) -> datetime | None:
    # Naive datetimes are UTC. Dagster's SQL storages compare naive UTC timestamps, so
    # aware ones are converted first.
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


@attrs.frozen
class RunSelection:
    """Runs created in ``[since, until)`` of the given jobs and code locations (empty = all)."""

    since: datetime | None = attrs.field(default=None, converter=_utc)
    until: datetime | None = attrs.field(default=None, converter=_utc)
    jobs: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise ValueError(
                f"--since ({self.since.isoformat()}) must be before --until "
                f"({self.until.isoformat()})"
            )


@attrs.frozen
class RunRef:
    run_id: str
    job_name: str
    location: str | None
    created: datetime


def select_runs(instance: DagsterInstance, selection: RunSelection) -> list[RunRef]:
    """The selected runs, oldest first (the order the sensor discovers them in)."""
    found: dict[str, RunRef] = {}
    for job in selection.jobs or (None,):
        for record in _records(instance, selection, job):
            ref = _ref(record)
            if selection.locations and ref.location not in selection.locations:
                continue
            found[ref.run_id] = ref
    return sorted(found.values(), key=lambda ref: (ref.created, ref.run_id))


def _records(
    instance: DagsterInstance, selection: RunSelection, job: str | None
) -> Iterator[RunRecord]:
    filters = RunsFilter(
        job_name=job,
        statuses=list(BACKFILL_STATUSES),
        # Dagster's filter is exclusive on both ends; nudge ``since`` to make it inclusive.
        created_after=_just_before(selection.since),
        created_before=selection.until,
    )
    cursor: str | None = None
    while True:
        page: Sequence[RunRecord] = instance.get_run_records(
            filters=filters, limit=PAGE_SIZE, cursor=cursor, ascending=True
        )
        yield from page
        if len(page) < PAGE_SIZE:
            return
        cursor = page[-1].dagster_run.run_id


def _just_before(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return datetime.fromtimestamp(moment.timestamp() - 1e-6, tz=timezone.utc)


def _ref(record: RunRecord) -> RunRef:
    run = record.dagster_run
    origin = run.remote_job_origin
    return RunRef(
        run_id=run.run_id,
        job_name=run.job_name,
        location=origin.location_name if origin is not None else None,
        created=_utc(record.create_timestamp) or record.create_timestamp,
    )
