"""Benchmark scenarios: Dagster definitions, built deterministically, and their runs.

Imported by the generator (which executes the runs once, into an on-disk instance) and
by every integration's worker (which only needs the same ``Definitions`` back, for the
asset catalog / repository). Needs nothing but dagster, so it loads in both the ol-bridge
benchmark venv and the anchors' venv.

Asset keys follow the convention both DataHub integrations understand:
``[env, platform, database, schema, table]`` (``prod/snowflake/analytics/public/t_0001``).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import dagster as dg

PREFIX = ["prod", "snowflake", "analytics", "public"]
RAW_SOURCES = 3  # raw.src_0..2: what the first assets read


def table(i: int) -> str:
    return f"t_{i:04d}"


def upstreams_of(i: int) -> list[int]:
    """2-3 earlier assets per asset (deterministic); the first three read raw sources."""
    if i < RAW_SOURCES:
        return []
    picks = [i - 1, i // 2, (i * 7) // 11]
    unique = sorted({p for p in picks if 0 <= p < i})
    if len(unique) < 2:
        unique = sorted({i - 1, i - 2})
    return unique[:3]


def query_for(i: int) -> str:
    """A realistic CREATE TABLE AS SELECT joining 2-3 upstreams."""
    target = f"analytics.public.{table(i)}"
    ups = upstreams_of(i)
    if not ups:
        return (
            f"CREATE TABLE {target} AS SELECT s.id, s.customer_id, s.amount, s.region, "
            f"s.updated_at FROM raw.public.src_{i} AS s WHERE s.amount IS NOT NULL"
        )
    aliases = ["a", "b", "c"]
    first = aliases[0]
    joins = [f"FROM analytics.public.{table(ups[0])} AS {first}"]
    for alias, up in zip(aliases[1:], ups[1:], strict=False):
        joins.append(
            f"LEFT JOIN analytics.public.{table(up)} AS {alias} ON {first}.id = {alias}.id"
        )
    second = aliases[1]
    third = aliases[len(ups) - 1]
    return (
        f"CREATE TABLE {target} AS SELECT {first}.id, {first}.customer_id, "
        f"{first}.amount + COALESCE({second}.amount, 0) AS amount, "
        f"COALESCE({third}.region, {first}.region) AS region, "
        f"GREATEST({first}.updated_at, {second}.updated_at) AS updated_at "
        + " ".join(joins)
        + f" WHERE {first}.amount > 0"
    )


def _key(i: int) -> dg.AssetKey:
    return dg.AssetKey([*PREFIX, table(i)])


def _sql_asset(
    i: int, partitions: dg.PartitionsDefinition | None = None, fail: bool = False
) -> dg.AssetsDefinition:
    sql = query_for(i)

    @dg.asset(
        key=_key(i),
        deps=[_key(u) for u in upstreams_of(i)],
        partitions_def=partitions,
        group_name="warehouse",
    )
    def _materialize() -> dg.MaterializeResult:
        if fail:
            raise RuntimeError(f"{table(i)}: upstream file was truncated (benchmark failure)")
        return dg.MaterializeResult(
            metadata={"Query": dg.MetadataValue.text(sql), "dagster/row_count": 1000 + i}
        )

    return _materialize


def _urn(name: str) -> str:
    return f"urn:li:dataset:(urn:li:dataPlatform:snowflake,analytics.public.{name},PROD)"


def _op(i: int) -> dg.OpDefinition:
    ins = {}
    if i > 0:
        ins["upstream"] = dg.In(
            dg.Nothing, metadata={"datahub.inputs": [_urn(f"op_table_{i - 1:04d}")]}
        )

    @dg.op(
        name=f"op_{i:04d}",
        ins=ins,
        out=dg.Out(dg.Nothing, metadata={"datahub.outputs": [_urn(f"op_table_{i:04d}")]}),
    )
    def _run() -> None:
        return None

    return _run


@attrs.frozen
class Scenario:
    name: str
    description: str
    build: Callable[[], dg.Definitions]
    #: executes this scenario's runs on ``instance``; returns the number of runs
    execute: Callable[[dg.Definitions, dg.DagsterInstance], int]
    size: int


def _sql_assets(n: int, fail_at: int | None = None) -> Callable[[], dg.Definitions]:
    def build() -> dg.Definitions:
        assets = [_sql_asset(i, fail=(i == fail_at)) for i in range(n)]
        job = dg.define_asset_job("sql_assets", selection=dg.AssetSelection.all())
        return dg.Definitions(assets=assets, jobs=[job])

    return build


def _execute_job(name: str, runs: int = 1) -> Callable[[dg.Definitions, dg.DagsterInstance], int]:
    def execute(defs: dg.Definitions, instance: dg.DagsterInstance) -> int:
        job = defs.get_job_def(name)
        for _ in range(runs):
            job.execute_in_process(instance=instance, raise_on_error=False)
        return runs

    return execute


def _ops(n: int) -> Callable[[], dg.Definitions]:
    def build() -> dg.Definitions:
        ops = [_op(i) for i in range(n)]

        @dg.graph(name="ops_graph")
        def chain() -> None:
            previous: Any = None
            for i, op in enumerate(ops):
                previous = op() if i == 0 else op(previous)

        return dg.Definitions(jobs=[chain.to_job(name="ops_job")])

    return build


_DAILY = dg.DailyPartitionsDefinition(start_date="2025-01-01")


def _partitioned() -> dg.Definitions:
    assets = [_sql_asset(i, partitions=_DAILY) for i in range(5)]
    job = dg.define_asset_job("partitioned", selection=dg.AssetSelection.all())
    return dg.Definitions(assets=assets, jobs=[job])


def _execute_partitions(count: int) -> Callable[[dg.Definitions, dg.DagsterInstance], int]:
    def execute(defs: dg.Definitions, instance: dg.DagsterInstance) -> int:
        job = defs.get_job_def("partitioned")
        for key in _DAILY.get_partition_keys()[:count]:
            job.execute_in_process(instance=instance, partition_key=key, raise_on_error=False)
        return count

    return execute


def _small() -> dg.Definitions:
    assets = [_sql_asset(i) for i in range(2)]
    job = dg.define_asset_job("small", selection=dg.AssetSelection.all())
    return dg.Definitions(assets=assets, jobs=[job])


def scenarios(sizes: list[int], backlog: int, partitions: int) -> dict[str, Scenario]:
    found: dict[str, Scenario] = {}
    for n in sizes:
        found[f"sql_assets_{n}"] = Scenario(
            f"sql_assets_{n}",
            f"one run of an asset job of {n} assets, each with a CTAS `Query` joining 2-3 "
            "upstreams",
            _sql_assets(n),
            _execute_job("sql_assets"),
            n,
        )
        found[f"ops_{n}"] = Scenario(
            f"ops_{n}",
            f"one run of an ops job of {n} chained ops with datahub.inputs/outputs In/Out metadata",
            _ops(n),
            _execute_job("ops_job"),
            n,
        )
    found["failing_10"] = Scenario(
        "failing_10",
        "one failing run: 10 SQL assets, the 5th raises (downstreams skipped)",
        _sql_assets(10, fail_at=4),
        _execute_job("sql_assets"),
        10,
    )
    found[f"partitioned_{partitions}"] = Scenario(
        f"partitioned_{partitions}",
        f"{partitions} runs of a daily-partitioned job of 5 SQL assets",
        _partitioned,
        _execute_partitions(partitions),
        partitions,
    )
    found[f"backlog_{backlog}"] = Scenario(
        f"backlog_{backlog}",
        f"a backlog of {backlog} small runs (2 SQL assets each)",
        _small,
        _execute_job("small", runs=backlog),
        backlog,
    )
    return found


def instance_yaml(directory: Path) -> str:
    """Consolidated (not run-sharded) SQLite event log: dagster-openlineage 0.2.1 reads it
    with ``get_event_records``, which refuses run-sharded storage."""
    return (
        "event_log_storage:\n"
        "  module: dagster.core.storage.event_log\n"
        "  class: ConsolidatedSqliteEventLogStorage\n"
        "  config:\n"
        f"    base_dir: {directory / 'event_logs'}\n"
        "telemetry:\n"
        "  enabled: false\n"
    )


def open_instance(directory: Path) -> dg.DagsterInstance:
    # DAGSTER_HOME-style directory with our dagster.yaml; public alternative to InstanceRef
    return dg.DagsterInstance.from_config(str(directory))


def create_instance(directory: Path) -> dg.DagsterInstance:
    directory = directory.resolve()  # dagster.yaml must not depend on the working directory
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    (directory / "dagster.yaml").write_text(instance_yaml(directory))
    return open_instance(directory)


def scenario_by_name(name: str) -> Scenario:
    """Rebuild a scenario from its name (``sql_assets_100``, ``backlog_1000``, ...)."""
    kind, _, number = name.rpartition("_")
    size = int(number)
    table_of = {
        "sql_assets": scenarios([size], 1, 1),
        "ops": scenarios([size], 1, 1),
        "failing": scenarios([], 1, 1),
        "partitioned": scenarios([], 1, size),
        "backlog": scenarios([], size, 1),
    }
    if kind not in table_of or name not in table_of[kind]:
        raise SystemExit(f"unknown scenario {name!r}")
    return table_of[kind][name]
