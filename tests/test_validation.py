"""ol_bridge.validation against the real OL spec, its test corpus and real producers' events."""

from __future__ import annotations

import copy
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent
from openlineage.client.generated.base import EventType
from openlineage.client.generated.column_lineage_dataset import (
    ColumnLineageDatasetFacet,
    Fields,
    InputField,
    Transformation,
)
from openlineage.client.generated.error_message_run import ErrorMessageRunFacet
from openlineage.client.generated.job_type_job import JobTypeJobFacet
from openlineage.client.generated.parent_run import (
    Job as ParentJob,
)
from openlineage.client.generated.parent_run import (
    ParentRunFacet,
    Root,
    RootJob,
    RootRun,
)
from openlineage.client.generated.parent_run import (
    Run as ParentRun,
)
from openlineage.client.generated.processing_engine_run import ProcessingEngineRunFacet
from openlineage.client.generated.schema_dataset import SchemaDatasetFacet, SchemaDatasetFacetFields
from openlineage.client.generated.sql_job import SQLJobFacet
from openlineage.client.serde import Serde

from ol_bridge import PRODUCER
from ol_bridge.errors import ConfigError, EventValidationError
from ol_bridge.facets import DagsterAssetFacet, DagsterJobFacet, DagsterRunFacet
from ol_bridge.validation import SPEC_DIR, EventValidator, default_validator, event_kind
from tests.corpora import COMPAT_DIR, SPEC_TESTS_DIR, required

PARENT_RUN_ID = "0b7b4c1e-7c1f-4b8e-9a4e-5f7c2d6a9e10"
STEP_RUN_ID = "6f1c8f0e-2b0a-5d7e-8c3b-1a2b3c4d5e6f"
DB = "duckdb:///tmp/x.duckdb"
RUN_SCHEMA = "(OpenLineage RunEvent schema)"


def _step_fail_event() -> dict[str, Any]:
    """A FAIL event of a Dagster asset step, shaped like the sensor's, as a dict."""
    parent_job = ParentJob(namespace="dagster", name="iris_job")
    event = RunEvent(
        eventType=EventType.FAIL,
        eventTime="2024-05-01T12:00:00.123456+00:00",
        producer=PRODUCER,
        run=Run(
            runId=STEP_RUN_ID,
            facets={
                "parent": ParentRunFacet(
                    run=ParentRun(runId=PARENT_RUN_ID),
                    job=parent_job,
                    root=Root(
                        run=RootRun(runId=PARENT_RUN_ID),
                        job=RootJob(namespace="dagster", name="iris_job"),
                    ),
                ),
                "processing_engine": ProcessingEngineRunFacet(
                    version="1.13.0", name="dagster", openlineageAdapterVersion="0.1.0"
                ),
                "errorMessage": ErrorMessageRunFacet(
                    message="ValueError: boom",
                    programmingLanguage="python",
                    stackTrace='Traceback (most recent call last):\n  File "x.py"',
                ),
                "dagster_run": DagsterRunFacet(
                    dagsterRunId=PARENT_RUN_ID,
                    jobName="iris_job",
                    stepKey="iris_summary",
                    attempt=1,
                ),
            },
        ),
        job=Job(
            namespace="dagster",
            name="iris_job.iris_summary",
            facets={
                "jobType": JobTypeJobFacet(
                    processingType="BATCH", integration="DAGSTER", jobType="ASSET"
                ),
                "sql": SQLJobFacet(
                    query="CREATE TABLE main.iris_summary AS SELECT species FROM main.iris",
                    dialect="duckdb",
                ),
                "dagster_job": DagsterJobFacet(
                    jobName="iris_job", opName="iris_summary", assetKeys=["iris_summary"]
                ),
            },
        ),
        inputs=[InputDataset(namespace=DB, name="main.iris")],
        outputs=[
            OutputDataset(
                namespace=DB,
                name="main.iris_summary",
                facets={
                    "schema": SchemaDatasetFacet(
                        fields=[SchemaDatasetFacetFields(name="species", type="VARCHAR")]
                    ),
                    "columnLineage": ColumnLineageDatasetFacet(
                        fields={
                            "species": Fields(
                                inputFields=[
                                    InputField(
                                        namespace=DB,
                                        name="main.iris",
                                        field="species",
                                        transformations=[
                                            Transformation(type="DIRECT", subtype="IDENTITY")
                                        ],
                                    )
                                ]
                            )
                        }
                    ),
                    "dagster_asset": DagsterAssetFacet(assetKey=["iris_summary"]),
                },
            )
        ],
    )
    return Serde.to_dict(event)


def _problems(validator: EventValidator, event: Any) -> list[tuple[str, str]]:
    return [(e.path, str(e)) for e in validator.errors(event)]


def test_full_run_event_with_standard_and_custom_facets_validates(
    ol_validator: EventValidator,
) -> None:
    event = _step_fail_event()
    assert event["run"]["facets"]["parent"]["root"]["run"]["runId"] == PARENT_RUN_ID
    assert _problems(ol_validator, event) == []
    assert _problems(default_validator(), event) == []
    ol_validator.validate(event)


# --- the spec's own test corpus -------------------------------------------------------

SPEC_TESTS = required(
    list(SPEC_TESTS_DIR.glob("*/*.json")), expected=46, what="the OpenLineage spec's facet examples"
)
# These spec test facets carry a _schemaURL naming a document that does not define their
# key (a copy-paste slip upstream: both say DatasetVersionDatasetFacet.json), so the
# validator cannot tell which schema they claim and checks only the base facet shape.
MISLABELLED = {
    "DatasetTypeDatasetFacet/1.json",
    "LifecycleStateChangeDatasetFacet/1.json",
}


def _wrap(facets: dict[str, Any], container: str) -> dict[str, Any]:
    """A minimal valid RunEvent carrying ``facets`` in the given container."""
    event: dict[str, Any] = {
        "eventType": "OTHER",
        "eventTime": "2024-05-01T12:00:00Z",
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": PARENT_RUN_ID},
        "job": {"namespace": "n", "name": "j"},
        "inputs": [{"namespace": "n", "name": "in"}],
        "outputs": [{"namespace": "n", "name": "out"}],
    }
    where = {
        "RunFacet": event["run"],
        "JobFacet": event["job"],
        "InputDatasetFacet": event["inputs"][0],
        "OutputDatasetFacet": event["outputs"][0],
        "DatasetFacet": event["outputs"][0],
    }[container]
    key = {"InputDatasetFacet": "inputFacets", "OutputDatasetFacet": "outputFacets"}
    where[key.get(container, "facets")] = facets
    return event


def _container(test_file: Path, facet: dict[str, Any]) -> str:
    if test_file.parent.name == "LineageFacet":  # one document, a job and a dataset variant
        return "JobFacet" if facet["_schemaURL"].endswith("LineageJobFacet") else "DatasetFacet"
    for suffix in (
        "InputDatasetFacet",
        "OutputDatasetFacet",
        "DatasetFacet",
        "JobFacet",
        "RunFacet",
    ):
        if test_file.parent.name.endswith(suffix):
            return suffix
    raise AssertionError(f"no container for {test_file}")


@pytest.mark.parametrize("test_file", SPEC_TESTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_spec_facet_examples_validate(test_file: Path, ol_validator: EventValidator) -> None:
    facets = json.loads(test_file.read_text())
    document = (SPEC_DIR / "facets" / f"{test_file.parent.name}.json").read_text()
    # As the spec's own tests do: the facets object against its facet document ...
    direct = Draft202012Validator(
        json.loads(document), registry=ol_validator.registry, format_checker=FormatChecker()
    )
    assert [e.message for e in direct.iter_errors(facets)] == []
    # ... and inside an event, where _schemaURL picks the schema.
    (key, facet), *_ = facets.items()
    resolved = ol_validator.facet_schema(facet["_schemaURL"], key)
    label = f"{test_file.parent.name}/{test_file.name}"
    assert (resolved is None) == (label in MISLABELLED)
    assert _problems(ol_validator, _wrap(facets, _container(test_file, facet))) == []


def test_spec_example_full_event_validates(ol_validator: EventValidator) -> None:
    # A RunEvent that also carries a stray "dataset": the spec's oneOf still picks RunEvent.
    event = json.loads((SPEC_TESTS_DIR / "example_full_event.json").read_text())
    assert event_kind(event) == "RunEvent"
    assert _problems(ol_validator, event) == []


# --- invalid events -------------------------------------------------------------------


def _mutated(change: Any) -> dict[str, Any]:
    event = _step_fail_event()
    change(event)
    return event


SQL = "facet schema https://openlineage.io/spec/facets/1-1-0/SQLJobFacet.json#/$defs/SQLJobFacet"
PARENT = "facet schema https://openlineage.io/spec/facets/1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet"
SCHEMA = (
    "facet schema https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json"
    "#/$defs/SchemaDatasetFacet"
)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            lambda e: e["run"].update(runId="run_id"),
            [
                (
                    "run.runId",
                    "run.runId must be a UUID such as 3fa85f64-5717-4562-b3fc-2c963f66afa6, "
                    f"got 'run_id' {RUN_SCHEMA}",
                )
            ],
            id="bad-runId",
        ),
        pytest.param(
            lambda e: e.pop("eventTime"),
            [("eventTime", f"eventTime is required but missing {RUN_SCHEMA}")],
            id="missing-eventTime",
        ),
        pytest.param(
            lambda e: e.update(eventTime="2024-05-01 12:00"),
            [
                (
                    "eventTime",
                    "eventTime must be an RFC 3339 date-time with a time zone, such as "
                    f"2024-05-01T12:00:00Z, got '2024-05-01 12:00' {RUN_SCHEMA}",
                )
            ],
            id="bad-eventTime",
        ),
        pytest.param(
            lambda e: e.update(eventTime="2024-05-01T12:00:00"),  # no time zone
            [
                (
                    "eventTime",
                    "eventTime must be an RFC 3339 date-time with a time zone, such as "
                    f"2024-05-01T12:00:00Z, got '2024-05-01T12:00:00' {RUN_SCHEMA}",
                )
            ],
            id="eventTime-without-zone",
        ),
        pytest.param(
            lambda e: e.update(eventType="STARTED"),
            [
                (
                    "eventType",
                    "eventType must be one of START, RUNNING, COMPLETE, ABORT, FAIL, OTHER, "
                    f"got 'STARTED' {RUN_SCHEMA}",
                )
            ],
            id="unknown-eventType",
        ),
        pytest.param(
            lambda e: e.pop("run"),
            [("run", f"run is required but missing {RUN_SCHEMA}")],
            id="eventType-without-run",
        ),
        pytest.param(
            lambda e: e["job"].pop("namespace"),
            [("job.namespace", f"job.namespace is required but missing {RUN_SCHEMA}")],
            id="missing-job-namespace",
        ),
        pytest.param(
            lambda e: e["job"]["facets"]["sql"].pop("query"),
            [("job.facets.sql.query", f"job.facets.sql.query is required but missing ({SQL})")],
            id="facet-missing-required-field",
        ),
        pytest.param(
            lambda e: e["run"]["facets"]["parent"]["run"].update(runId="nope"),
            [
                (
                    "run.facets.parent.run.runId",
                    "run.facets.parent.run.runId must be a UUID such as "
                    f"3fa85f64-5717-4562-b3fc-2c963f66afa6, got 'nope' ({PARENT})",
                )
            ],
            id="facet-bad-uuid",
        ),
        pytest.param(
            lambda e: e["outputs"][0]["facets"]["schema"]["fields"][0].pop("name"),
            [
                (
                    "outputs[0].facets.schema.fields[0].name",
                    f"outputs[0].facets.schema.fields[0].name is required but missing ({SCHEMA})",
                )
            ],
            id="nested-facet-field",
        ),
        pytest.param(
            lambda e: e["run"]["facets"].update(
                {"spark.logicalPlan": {"_schemaURL": "https://example.com/LogicalPlan.json"}}
            ),
            [
                (
                    'run.facets["spark.logicalPlan"]._producer',
                    'run.facets["spark.logicalPlan"]._producer is required but missing '
                    f"{RUN_SCHEMA}",
                )
            ],
            id="unknown-facet-missing-producer",
        ),
        pytest.param(
            lambda e: e["inputs"].append("main.iris"),
            [("inputs[1]", f"inputs[1] must be of type object, got string {RUN_SCHEMA}")],
            id="dataset-not-an-object",
        ),
    ],
)
def test_invalid_events_name_the_bad_field(
    change: Any, expected: list[tuple[str, str]], ol_validator: EventValidator
) -> None:
    event = _mutated(change)
    assert _problems(ol_validator, event) == expected
    with pytest.raises(EventValidationError) as caught:
        ol_validator.validate(event)
    assert (caught.value.path, str(caught.value)) == expected[0]


def test_all_problems_are_reported(ol_validator: EventValidator) -> None:
    def change(e: dict[str, Any]) -> None:
        e["run"]["runId"] = "x"
        e.pop("producer")
        e["job"]["facets"]["dagster_job"]["opName"] = 3

    job = "https://raw.githubusercontent.com/ol-bridge/ol-bridge/main/schemas/DagsterJobFacet.json"
    assert _problems(ol_validator, _mutated(change)) == [
        ("producer", f"producer is required but missing {RUN_SCHEMA}"),
        (
            "run.runId",
            "run.runId must be a UUID such as 3fa85f64-5717-4562-b3fc-2c963f66afa6, got 'x' "
            f"{RUN_SCHEMA}",
        ),
        (
            "job.facets.dagster_job.opName",
            "job.facets.dagster_job.opName must be of type string, got number "
            f"(facet schema {job}#/$defs/DagsterJobFacet)",
        ),
    ]


def test_not_an_object(ol_validator: EventValidator) -> None:
    assert _problems(ol_validator, [1]) == [("", "the event must be a JSON object, got array")]


def test_unknown_custom_facet_is_checked_for_base_shape_only(ol_validator: EventValidator) -> None:
    url = "https://example.com/schemas/MyFacet.json#/$defs/MyFacet"
    event = _mutated(
        lambda e: e["run"]["facets"].update(
            mine={"_producer": "https://example.com", "_schemaURL": url, "anything": [1, {}]}
        )
    )
    assert ol_validator.facet_schema(url, "mine") is None
    assert _problems(ol_validator, event) == []


def test_pre_1_0_facet_urls_resolve_to_the_facet_file(ol_validator: EventValidator) -> None:
    url = "https://openlineage.io/spec/1-0-1/OpenLineage.json#/definitions/NominalTimeRunFacet"
    assert ol_validator.facet_schema(url, "nominalTime") == (
        "https://openlineage.io/spec/facets/1-0-1/NominalTimeRunFacet.json"
        "#/$defs/NominalTimeRunFacet"
    )


# --- event kind: agree with the spec's oneOf ------------------------------------------

BASE = {
    "eventTime": "2024-05-01T12:00:00Z",
    "producer": PRODUCER,
    "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
}
RUN = {"runId": PARENT_RUN_ID}
JOB = {"namespace": "n", "name": "j"}
DATASET = {"namespace": "n", "name": "d"}


@pytest.mark.parametrize(
    ("extra", "kind", "valid"),
    [
        ({"run": RUN, "job": JOB, "eventType": "START"}, "RunEvent", True),
        ({"run": RUN, "job": JOB}, "RunEvent", True),
        ({"run": RUN, "job": JOB, "dataset": DATASET}, "RunEvent", True),
        ({"job": JOB}, "JobEvent", True),
        ({"job": JOB, "outputs": [DATASET]}, "JobEvent", True),
        ({"dataset": DATASET}, "DatasetEvent", True),
        ({"run": RUN, "dataset": DATASET}, "DatasetEvent", True),  # a stray run is allowed
        ({"job": JOB, "dataset": DATASET}, "JobEvent", False),
        ({"run": RUN}, "RunEvent", False),
        ({}, "RunEvent", False),
    ],
)
def test_event_kind_agrees_with_the_spec_one_of(
    extra: dict[str, Any], kind: str, valid: bool, ol_validator: EventValidator
) -> None:
    event = {**copy.deepcopy(BASE), **copy.deepcopy(extra)}
    spec = json.loads((SPEC_DIR / "OpenLineage.json").read_text())
    assert Draft202012Validator(spec).is_valid(event) is valid
    assert event_kind(event) == kind
    assert (ol_validator.errors(event) == []) is valid


def test_job_and_dataset_without_run_is_ambiguous(ol_validator: EventValidator) -> None:
    event = {**BASE, "job": JOB, "dataset": DATASET}
    assert _problems(ol_validator, event) == [
        (
            "dataset",
            "an event with job and dataset but no run matches both JobEvent and DatasetEvent; "
            "send job (JobEvent) or dataset (DatasetEvent), or add run to make it a RunEvent",
        )
    ]


def test_event_type_without_run_is_stricter_than_the_spec(
    ol_validator: EventValidator,
) -> None:
    # The spec's oneOf accepts this as a JobEvent; we read eventType as a run event's.
    event = {**BASE, "job": JOB, "eventType": "START"}
    spec = json.loads((SPEC_DIR / "OpenLineage.json").read_text())
    assert Draft202012Validator(spec).is_valid(event)
    assert _problems(ol_validator, event) == [("run", f"run is required but missing {RUN_SCHEMA}")]


# --- formats, real producers, configuration -------------------------------------------


def test_format_checks_really_run(ol_validator: EventValidator) -> None:
    for field, bad in [("runId", "3fa85f64571745622c963f66afa6"), ("runId", "")]:
        event = _mutated(lambda e, f=field, b=bad: e["run"].update({f: b}))
        assert [p for p, _ in _problems(ol_validator, event)] == ["run.runId"]
    for bad in ["2024-05-01", "2024-02-30T12:00:00Z", "yesterday", "2024-05-01T25:00:00Z"]:
        event = _mutated(lambda e, b=bad: e.update(eventTime=b))
        assert [p for p, _ in _problems(ol_validator, event)] == ["eventTime"], bad
    for good in ["2024-05-01T12:00:00Z", "2024-05-01T12:00:00.123+02:00"]:
        assert _problems(ol_validator, _mutated(lambda e, g=good: e.update(eventTime=g))) == []


@pytest.mark.parametrize("bare", ["snowflake", "duckdb", "file", "dagster", "bigquery"])
def test_uri_formats_are_checked(ol_validator: EventValidator, bare: str) -> None:
    """A bare namespace is not a URI: ``dataSource.uri`` must never carry one (issue 12)."""
    datasource = {
        "_producer": "https://github.com/x/y",
        "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/DatasourceDatasetFacet.json"
        "#/$defs/DatasourceDatasetFacet",
        "name": bare,
        "uri": bare,
    }
    dataset = {"namespace": bare, "name": "t", "facets": {"dataSource": datasource}}
    event = _mutated(lambda e: e.update(outputs=[dataset]))
    [(path, message)] = _problems(ol_validator, event)
    assert path == "outputs[0].facets.dataSource.uri"
    assert (
        f"must be an absolute URI with a scheme, such as postgres://db.internal:5432, got {bare!r}"
        in message
    )
    for good in ["snowflake://org-account", "file:///", "duckdb:///x/w.duckdb"]:
        datasource["uri"] = good
        assert _problems(ol_validator, event) == [], good
    assert [p for p, _ in _problems(ol_validator, _mutated(lambda e: e.update(producer="me")))] == [
        "producer"
    ]


def _compat_inputs() -> dict[str, dict[str, Any]]:
    root = COMPAT_DIR / "input"
    return {
        str(p.relative_to(root)): json.loads(p.read_text()) for p in sorted(root.rglob("*.json"))
    }


def test_datahub_compat_corpus(ol_validator: EventValidator) -> None:
    """Real Airflow/Spark events: all valid but the one DataHub's test expects to fail.

    Every official facet in them (parent, schema, columnLineage, symlinks, jobType, sql,
    ...) is checked against its own schema; spark_*/airflow* facets are producer-custom.
    """
    events = _compat_inputs()
    assert len(events) == 74
    foreign = EventValidator(check_uri=False)
    failures = {name: _problems(foreign, event) for name, event in events.items()}
    # With uri checked, real producers fail on bare namespaces in dataSource.uri (OpenLineage's
    # Spark integration sends "file" and "bigquery"): why the receiver does not check it.
    strict = [
        str(problem)
        for event in events.values()
        for problem in ol_validator.errors(event)
        if problem.path.endswith("dataSource.uri")
    ]
    assert len(strict) > 10
    assert all(("got 'file'" in m or "got 'bigquery'" in m) for m in strict)
    assert {name: found for name, found in failures.items() if found} == {
        "simple_run_event/simple_run_event.json": [
            (
                "run.runId",
                "run.runId must be a UUID such as 3fa85f64-5717-4562-b3fc-2c963f66afa6, "
                f"got 'run_id' {RUN_SCHEMA}",
            )
        ]
    }


def test_fabric_notebook_events_validate(ol_validator: EventValidator) -> None:
    lines = [
        line
        for path in sorted((COMPAT_DIR / "ol_events").glob("*.jsonl"))
        for line in path.read_text().splitlines()
        if line.strip()
    ]
    assert len(lines) == 21
    assert [_problems(ol_validator, json.loads(line)) for line in lines] == [[]] * 21


def test_validation_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the validator opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    validator = EventValidator()
    for event in _compat_inputs().values():
        validator.errors(event)
    assert validator.errors(_step_fail_event()) == []


def test_default_validator_is_built_once() -> None:
    assert default_validator() is default_validator()


def test_spec_dir_without_spec_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        EventValidator(spec_dir=tmp_path)
    assert str(caught.value) == (
        f"{tmp_path} is not an OpenLineage spec directory (needs OpenLineage.json and "
        "facets/*.json); pass the directory of a copy of the OpenLineage spec."
    )


def test_broken_custom_schema_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "Broken.json").write_text("{not json")
    with pytest.raises(ConfigError) as caught:
        EventValidator(schema_dir=tmp_path)
    assert str(caught.value).startswith(f"cannot read JSON Schema {tmp_path / 'Broken.json'}: ")


SQL_URL = "https://openlineage.io/spec/facets/1-1-0/SQLJobFacet.json#/$defs/SQLJobFacet"
ASSET_URL = (
    "https://raw.githubusercontent.com/ol-bridge/ol-bridge/main/schemas/DagsterAssetFacet.json"
    "#/$defs/DagsterAssetFacet"
)
ASSET_FACET = {"_producer": PRODUCER, "_schemaURL": ASSET_URL}


def test_static_events_have_their_facets_checked(ol_validator: EventValidator) -> None:
    job_event = {
        **BASE,
        "job": {**JOB, "facets": {"sql": {"_producer": PRODUCER, "_schemaURL": SQL_URL}}},
        "outputs": [{**DATASET, "facets": {"dagster_asset": {**ASSET_FACET, "assetKey": "x"}}}],
    }
    dataset_event = {
        **BASE,
        "dataset": {**DATASET, "facets": {"dagster_asset": {**ASSET_FACET, "assetKey": []}}},
    }
    asset = f"(facet schema {ASSET_URL})"
    assert _problems(ol_validator, job_event) == [
        ("job.facets.sql.query", f"job.facets.sql.query is required but missing ({SQL})"),
        (
            "outputs[0].facets.dagster_asset.assetKey",
            f"outputs[0].facets.dagster_asset.assetKey must be of type array, got string {asset}",
        ),
    ]
    assert _problems(ol_validator, dataset_event) == [
        (
            "dataset.facets.dagster_asset.assetKey",
            f"dataset.facets.dagster_asset.assetKey must not be empty {asset}",
        )
    ]


def test_invalid_custom_schema_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "Bad.json").write_text('{"$id": "https://example.com/Bad.json", "type": 3}')
    with pytest.raises(ConfigError) as caught:
        EventValidator(schema_dir=tmp_path)
    assert str(caught.value) == (
        f"{tmp_path / 'Bad.json'} is not a valid JSON Schema (draft 2020-12): "
        "3 is not valid under any of the given schemas; fix it."
    )
