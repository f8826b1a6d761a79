"""Dagster's internal storage never becomes datasets; op -> op lineage through real tables.

Runs use Dagster's real filesystem IO manager, whose op outputs live under
``<base>/<run id>/<step>/<output>`` and whose assets live under ``<base>/<key parts>``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
from dagster_duckdb_pandas import DuckDBPandasIOManager

from ol_bridge.dagster import build_openlineage_sensor
from tests.dagster.helpers import tick_until_idle


def _datasets(events: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(d["namespace"], d["name"]) for e in events for d in [*e["inputs"], *e["outputs"]]}


@dg.op
def extract() -> list[int]:
    return [1, 2, 3]


@dg.op
def total(numbers: list[int]) -> int:
    return sum(numbers)


@dg.job
def numbers_job() -> None:
    total(extract())


def test_op_outputs_in_run_storage_make_no_dataset_per_run(
    tmp_path: Path, instance: dg.DagsterInstance, ol_client: Any, recorder: Any, ol_validator: Any
) -> None:
    storage = dg.FilesystemIOManager(base_dir=str(tmp_path / "storage"))
    sensor = build_openlineage_sensor(client=ol_client)
    defs = dg.Definitions(jobs=[numbers_job], sensors=[sensor])
    run_ids = []
    for _ in range(2):
        result = numbers_job.execute_in_process(
            instance=instance, resources={"io_manager": storage}
        )
        assert result.success
        run_ids.append(result.run_id)
    # The IO manager did record per-run paths, so there was something to leave out.
    handled = instance.get_records_for_run(
        run_ids[0], of_type=dg.DagsterEventType.HANDLED_OUTPUT
    ).records
    paths = [
        str(r.event_log_entry.dagster_event.event_specific_data.metadata["path"].value)
        for r in handled
    ]
    assert paths and all(run_ids[0] in path for path in paths)

    tick_until_idle(sensor, instance, defs)
    for event in recorder.events:
        ol_validator.validate(event)
    assert len(recorder.events) == 12  # 2 runs x (job + 2 steps) x (START + COMPLETE)
    assert _datasets(recorder.events) == set()


def test_assets_in_the_default_storage_keep_their_key_names(
    tmp_path: Path, instance: dg.DagsterInstance, ol_client: Any, recorder: Any, ol_validator: Any
) -> None:
    @dg.asset(key_prefix=["iris"])
    def summary() -> int:
        return 3

    @dg.asset(key_prefix=["iris"])
    def report(summary: int) -> int:
        return summary + 1

    sensor = build_openlineage_sensor(client=ol_client)
    storage = dg.FilesystemIOManager(base_dir=str(tmp_path / "storage"))
    defs = dg.Definitions(
        assets=[summary, report],
        jobs=[dg.define_asset_job("iris_job")],
        resources={"io_manager": storage},
        sensors=[sensor],
    )
    assert defs.resolve_job_def("iris_job").execute_in_process(instance=instance).success
    assert (tmp_path / "storage" / "iris" / "summary").is_file()
    tick_until_idle(sensor, instance, defs)
    for event in recorder.events:
        ol_validator.validate(event)
    assert _datasets(recorder.events) == {("dagster", "iris/summary"), ("dagster", "iris/report")}


class _S3LikePickles(dg.ConfigurableIOManager):
    """Records what dagster-aws's ``S3PickleIOManager`` records (``get_metadata``: ``uri``;
    op outputs under ``<prefix>/storage/<run id>/<step>/<output>``, assets under
    ``<prefix>/<key parts>``), keeping values in memory where no S3 can run."""

    values: dict[str, Any] = {}

    def _uri(self, context: dg.OutputContext | dg.InputContext) -> str:
        if context.has_asset_key:
            return "s3://bucket/dagster/" + "/".join(context.asset_key.path)
        return "s3://bucket/dagster/storage/" + "/".join(context.get_identifier())

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        self.values[self._uri(context)] = obj
        context.add_output_metadata({"uri": dg.MetadataValue.path(self._uri(context))})

    def load_input(self, context: dg.InputContext) -> Any:
        return self.values[self._uri(context.upstream_output)]  # type: ignore[arg-type]


def test_object_store_pickles_are_storage_too(
    instance: dg.DagsterInstance, ol_client: Any, recorder: Any
) -> None:
    @dg.asset
    def scores() -> int:
        return 1

    sensor = build_openlineage_sensor(client=ol_client)
    defs = dg.Definitions(
        assets=[scores],
        jobs=[numbers_job, dg.define_asset_job("scores_job")],
        resources={"io_manager": _S3LikePickles()},
        sensors=[sensor],
    )
    assert defs.resolve_job_def("numbers_job").execute_in_process(instance=instance).success
    assert defs.resolve_job_def("scores_job").execute_in_process(instance=instance).success
    tick_until_idle(sensor, instance, defs)
    assert _datasets(recorder.events) == {("dagster", "scores")}


@dg.op(out=dg.Out(metadata={"schema": "staging"}))
def orders() -> pd.DataFrame:
    return pd.DataFrame({"id": [1, 2], "amount": [5.0, 7.5]})


@dg.op(out=dg.Out(metadata={"schema": "marts"}))
def revenue(orders: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"revenue": [orders["amount"].sum()]})


@dg.job
def revenue_job() -> None:
    revenue(orders())


def test_ops_connect_through_the_tables_their_io_manager_writes(
    tmp_path: Path, instance: dg.DagsterInstance, ol_client: Any, recorder: Any, ol_validator: Any
) -> None:
    sensor = build_openlineage_sensor(client=ol_client)
    warehouse = DuckDBPandasIOManager(database=str(tmp_path / "shop.duckdb"))
    defs = dg.Definitions(jobs=[revenue_job], sensors=[sensor])
    for _ in range(2):
        result = revenue_job.execute_in_process(
            instance=instance, resources={"io_manager": warehouse}
        )
        assert result.success
    tick_until_idle(sensor, instance, defs)
    for event in recorder.events:
        ol_validator.validate(event)
    steps = {e["job"]["name"]: e for e in recorder.events if e["eventType"] == "COMPLETE"}
    orders_table = ("duckdb", "shop.staging.result")
    assert _datasets([steps["revenue_job.orders"]]) == {orders_table}
    consumer = steps["revenue_job.revenue"]
    assert {(d["namespace"], d["name"]) for d in consumer["inputs"]} == {orders_table}
    assert {(d["namespace"], d["name"]) for d in consumer["outputs"]} == {
        ("duckdb", "shop.marts.result")
    }
    # Two runs, the same two tables.
    assert _datasets(recorder.events) == {orders_table, ("duckdb", "shop.marts.result")}
