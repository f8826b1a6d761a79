"""``ol-bridge backfill``: lineage for runs that happened before the sensor was switched on."""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from ol_bridge.errors import ConfigError

# Heavy imports (dagster, openlineage, acryl-datahub) are made where they are used, so
# `ol-bridge <command> --help` stays fast (tests/test_cli.py checks it).
if TYPE_CHECKING:
    from dagster import RepositoryDefinition
    from openlineage.client import OpenLineageClient

    from ol_bridge.backfill import BackfillResult, RunOutcome
    from ol_bridge.dagster.translator import OpenLineageTranslator
    from ol_bridge.delivery import SensorDelivery

#: exit status after SIGINT/SIGTERM, the shell convention for "interrupted"
EXIT_INTERRUPTED = 130


def _datetime(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError as error:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 date or datetime, e.g. 2024-05-01 or "
            "2024-05-01T12:00:00+02:00"
        ) from error


@click.command()
@click.option(
    "--dagster-home",
    envvar="DAGSTER_HOME",
    type=click.Path(file_okay=False, path_type=Path),
    help="The Dagster instance directory (holds dagster.yaml). Default: $DAGSTER_HOME.",
)
@click.option("--since", type=_datetime, help="Runs created at or after this time (naive = UTC).")
@click.option("--until", type=_datetime, help="Runs created before this time (naive = UTC).")
@click.option("--job", "jobs", multiple=True, help="Only runs of this job (repeatable).")
@click.option(
    "--location", "locations", multiple=True, help="Only runs of this code location (repeatable)."
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Progress file for resuming. Default: $DAGSTER_HOME/ol-bridge/backfill-<hash of the "
    "destinations>.json, one per set of destinations.",
)
@click.option(
    "--restart",
    is_flag=True,
    help="Ignore the progress file and start again (implies --resend).",
)
@click.option(
    "--events-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append events to this JSON Lines file instead of the OpenLineage-configured transport.",
)
@click.option("--max-runs", type=click.IntRange(min=1), help="Stop after this many runs.")
@click.option(
    "--translator",
    "translator_ref",
    metavar="MODULE:ATTR",
    help="The OpenLineageTranslator your sensor uses (an instance or a factory), so job and "
    "dataset names match the sensor's.",
)
@click.option(
    "--definitions",
    "definitions_ref",
    metavar="MODULE:ATTR",
    help="Your Definitions (the sensor's code location's), so asset names, upstreams, "
    "descriptions, owners and schemas that exist only in your code match the sensor's. "
    "Imported from the current directory or the environment.",
)
@click.option(
    "--outbox-path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The outbox file, if your sensor's DeliveryConfig sets `path` (default: where the "
    "sensor keeps it: the instance's PostgreSQL database, else next to the instance).",
)
@click.option(
    "--outbox-url", help="The outbox database, if your sensor's DeliveryConfig sets `url`."
)
@click.option(
    "--drain-seconds",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    help="How long to keep delivering after the last run was handed off. Events still "
    "waiting then are delivered by the sensor's next ticks or `ol-bridge outbox drain`.",
)
@click.option(
    "--resend",
    is_flag=True,
    help="Send events again even if they were delivered within the outbox's dedup window "
    "(DeliveryConfig.dedup_seconds, a day by default), e.g. after a backend lost data.",
)
@click.option("--dry-run", is_flag=True, help="Only count the selected runs.")
def backfill(
    dagster_home: Path | None,
    since: datetime | None,
    until: datetime | None,
    jobs: tuple[str, ...],
    locations: tuple[str, ...],
    state_path: Path | None,
    restart: bool,
    events_file: Path | None,
    max_runs: int | None,
    translator_ref: str | None,
    definitions_ref: str | None,
    outbox_path: Path | None,
    outbox_url: str | None,
    drain_seconds: float,
    resend: bool,
    dry_run: bool,
) -> None:
    """Emit OpenLineage events for past runs, with the run ids the sensor uses.

    Events go through the sensor's delivery engine: each is committed to the outbox (one
    queue per destination, e.g. per child of a composite transport) before the run counts
    as done, then delivered; a destination that is down keeps its events waiting instead
    of losing them. Exit status 3 says events still wait when the command ends.

    Interrupt it at any time (Ctrl-C or SIGTERM): it stops before the next event, records
    where it was, and the next invocation continues there.
    """
    from dagster import DagsterInstance

    from ol_bridge.backfill import (
        BackfillState,
        RunSelection,
        load_state,
        run_backfill,
        save_state,
        select_runs,
    )
    from ol_bridge.dagster.catalog import AssetCatalog
    from ol_bridge.delivery import DeliveryConfig, SensorDelivery, split_destinations

    if dagster_home is None:
        raise click.UsageError("Set DAGSTER_HOME or pass --dagster-home.")
    if not dagster_home.is_dir():
        raise click.UsageError(f"Dagster home {dagster_home} does not exist.")
    try:
        selection = RunSelection(since=since, until=until, jobs=jobs, locations=locations)
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    translator = _translator(translator_ref)
    repository = _repository(definitions_ref)
    client = _client(events_file)
    destinations = [d.name for d in split_destinations(client.transport)]
    # progress is per destination set: a backfill into a file says nothing of Marquez
    state_path = state_path or default_state_path(dagster_home, destinations)
    resend = resend or restart  # starting again means sending again
    with DagsterInstance.from_config(str(dagster_home)) as instance:
        # the instance too: upstream names from their latest materializations, dbt models
        # from their runs' dbt artifacts, also without --definitions
        catalog = AssetCatalog(repository, instance)
        runs = select_runs(instance, selection)
        state = BackfillState() if restart else load_state(state_path)
        pending = sum(1 for run in runs if run.run_id not in state.completed)
        click.echo(
            f"{len(runs)} runs selected, {len(runs) - pending} already done (state: {state_path})",
            err=True,
        )
        if dry_run or not pending:
            client.close()
            return
        config = DeliveryConfig(path=outbox_path, url=outbox_url)
        delivery = SensorDelivery.for_instance(
            config, lambda: client, instance, _stderr_logger(), resend=resend
        )
        total = min(pending, max_runs) if max_runs else pending
        try:
            with _stop_on_signals() as stopped, _progress(total) as on_run:
                result = run_backfill(
                    instance,
                    runs,
                    state,
                    delivery.emit,
                    translator=translator,
                    catalog=catalog,
                    save=lambda new_state: save_state(state_path, new_state),
                    on_run=_delivering(on_run, delivery),
                    should_stop=stopped.is_set,
                    max_runs=max_runs,
                )
                if not stopped.is_set():
                    delivery.drain_until(time.monotonic() + drain_seconds, retry_now=True)
            summary = delivery.summary("backfill", None)
            skipped = delivery.duplicates
            if events_file is not None:  # a one-off destination: no row left behind once drained
                for name in destinations:
                    delivery.outbox.forget(name)
        finally:
            delivery.close()
            client.close()
    if skipped:
        click.echo(
            f"{skipped} events had been handed to these destinations already (delivered "
            "within the outbox's dedup window, a day by default, or still waiting) and were "
            "not sent again; pass --resend to send delivered ones anyway.",
            err=True,
        )
    _report(result, state_path, interrupted=stopped.is_set(), backlog=summary.backlog())


def default_state_path(dagster_home: Path, destinations: list[str]) -> Path:
    """``$DAGSTER_HOME/ol-bridge/backfill-<hash of the destinations>.json``: progress
    toward one set of destinations is not progress toward another."""
    digest = hashlib.sha256("\n".join(sorted(destinations)).encode()).hexdigest()[:10]
    return dagster_home / "ol-bridge" / f"backfill-{digest}.json"


def _delivering(
    on_run: Callable[[RunOutcome], None], delivery: SensorDelivery
) -> Callable[[RunOutcome], None]:
    """Progress, plus a few seconds of delivery every few seconds: a long backfill delivers
    as it goes instead of piling everything into the outbox first."""
    last = [time.monotonic()]

    def advance(outcome: RunOutcome) -> None:
        on_run(outcome)
        if time.monotonic() - last[0] >= _DRAIN_EVERY_SECONDS:
            delivery.drain(_DRAIN_EVERY_SECONDS)
            last[0] = time.monotonic()

    return advance


#: seconds between the deliveries a running backfill makes, and their length
_DRAIN_EVERY_SECONDS = 5.0

#: exit status when the backfill handed everything off but events still wait for delivery
EXIT_WAITING = 3


def _stderr_logger() -> logging.Logger:
    logger = logging.getLogger("ol_bridge.backfill")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


def _report(
    result: BackfillResult, state_path: Path, *, interrupted: bool, backlog: str = ""
) -> None:
    click.echo(
        f"Emitted {result.emitted} events for {result.runs_walked} runs.",
        err=True,
    )
    if result.still_running:
        click.echo(
            f"{len(result.still_running)} runs are still running; run the backfill again "
            "later (or let the sensor) to emit their end.",
            err=True,
        )
    if result.failure is not None:
        failure = result.failure
        raise click.ClickException(
            f"Could not hand off the {failure.event_type} event of job {failure.job_name!r} "
            f"(run {failure.run_id}): {failure.error}. Progress is saved in {state_path}; "
            "fix the destination (see `ol-bridge doctor`) and run the same command again."
        )
    if backlog:
        click.echo(
            f"{backlog} They are kept in the outbox and delivered by the sensor's next ticks, "
            "the next backfill, or `ol-bridge outbox drain`; see `ol-bridge outbox status`.",
            err=True,
        )
    if result.stopped:
        click.echo(
            f"Stopped early; progress saved in {state_path}. Run the same command to resume.",
            err=True,
        )
        if interrupted:
            sys.exit(EXIT_INTERRUPTED)
    if backlog:
        sys.exit(EXIT_WAITING)


def _client(events_file: Path | None) -> OpenLineageClient:
    from openlineage.client import OpenLineageClient

    if events_file is None:
        # The standard OpenLineage configuration, exactly as the sensor reads it.
        return OpenLineageClient()
    events_file.parent.mkdir(parents=True, exist_ok=True)
    return OpenLineageClient(
        config={"transport": {"type": "file", "log_file_path": str(events_file), "append": True}}
    )


def load_object(reference: str) -> Any:
    """``package.module:attribute`` -> the attribute."""
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise ConfigError(f"{reference!r} is not MODULE:ATTRIBUTE, e.g. my_project.defs:defs")
    # as `python -m` and `dagster -m` do: the project directory one runs from is importable
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ConfigError(
            f"Cannot import {module_name!r} ({error}); run from your project directory or "
            "install it in this environment."
        ) from error
    if not hasattr(module, attribute):
        raise ConfigError(f"Module {module_name!r} has no attribute {attribute!r}.")
    return getattr(module, attribute)


def _translator(reference: str | None) -> OpenLineageTranslator:
    from ol_bridge.dagster.translator import OpenLineageTranslator

    if reference is None:
        return OpenLineageTranslator()
    found = load_object(reference)
    if callable(found) and not isinstance(found, OpenLineageTranslator):
        found = found()
    if not isinstance(found, OpenLineageTranslator):
        raise ConfigError(
            f"{reference} is a {type(found).__name__}, not an OpenLineageTranslator (or a "
            "function returning one)."
        )
    return found


def _repository(reference: str | None) -> RepositoryDefinition | None:
    from dagster import Definitions

    if reference is None:
        return None
    found = load_object(reference)
    if not isinstance(found, Definitions):
        raise ConfigError(f"{reference} is a {type(found).__name__}, not a dagster Definitions.")
    return found.get_repository_def()


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """SIGINT/SIGTERM ask the backfill to stop before its next event; a second one kills."""
    stop = threading.Event()
    previous: dict[int, Any] = {}

    def handle(signum: int, frame: FrameType | None) -> None:
        # No output here: the handler runs between two bytecodes of the main thread, which
        # may be inside a write to stderr (the progress lines): a second write would raise
        # "reentrant call". The command says it stopped, and how to resume, once it has.
        stop.set()
        for restored, handler in previous.items():
            signal.signal(restored, handler)

    for number in (signal.SIGINT, signal.SIGTERM):
        previous[number] = signal.signal(number, handle)
    try:
        yield stop
    finally:
        for restored, handler in previous.items():
            signal.signal(restored, handler)


@contextmanager
def _progress(total: int) -> Iterator[Callable[[RunOutcome], None]]:
    """A rich progress bar on a terminal; elsewhere (CI, daemons) a line every ~5%."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    console = Console(stderr=True)
    if console.is_terminal:
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            "{task.fields[events]} events",
            TimeRemainingColumn(),
            console=console,
        ) as bar:
            task = bar.add_task("backfill", total=total, events=0)
            events = [0]

            def advance(outcome: RunOutcome) -> None:
                events[0] += outcome.emitted
                bar.update(task, advance=1, events=events[0])

            yield advance
        return
    yield _plain_progress(total, os.environ.get("OL_BRIDGE_PROGRESS_EVERY"))


def _plain_progress(total: int, every: str | None) -> Callable[[RunOutcome], None]:
    step = int(every) if every else max(1, total // 20)
    counts = {"runs": 0, "events": 0}
    started = time.monotonic()

    def advance(outcome: RunOutcome) -> None:
        counts["runs"] += 1
        counts["events"] += outcome.emitted
        if counts["runs"] % step == 0 or counts["runs"] == total:
            click.echo(
                f"backfill: {counts['runs']}/{total} runs, {counts['events']} events, "
                f"{time.monotonic() - started:.1f}s",
                err=True,
            )

    return advance
