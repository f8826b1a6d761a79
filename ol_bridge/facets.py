"""ol-bridge's custom OpenLineage facets: what Dagster knows that no standard facet holds.

Each class subclasses openlineage-python's base facet (``openlineage.client.facet_v2``),
so it serializes with ``openlineage.client.serde.Serde`` like the standard facets: camelCase
wire names, and optional fields left as ``None`` are dropped from the JSON. Each class is
described by the JSON Schema ``schemas/<ClassName>.json``, which its ``_schemaURL`` points
at; the attrs validators below enforce the same constraints as those schemas, so a facet
that constructs also validates. Their ``producer`` (``_producer`` on the wire) defaults to
ol-bridge's, where openlineage-python's base would put its own.
"""

from __future__ import annotations

import re
from typing import Any

import attr
from openlineage.client.facet_v2 import DatasetFacet, JobFacet, RunFacet

from ol_bridge import PRODUCER
from ol_bridge.errors import FacetValueError

#: Facet keys under which the facets are attached (``run.facets``, ``job.facets``,
#: ``dataset.facets``).
DAGSTER_RUN_FACET = "dagster_run"
DAGSTER_JOB_FACET = "dagster_job"
DAGSTER_ASSET_FACET = "dagster_asset"

#: Where the JSON Schemas of these facets are published; ``_schemaURL`` is this plus
#: ``<ClassName>.json#/$defs/<ClassName>``.
SCHEMA_BASE_URL = "https://raw.githubusercontent.com/ol-bridge/ol-bridge/main/schemas/"

# The schemas' pattern ^https?://\S+$ (fullmatch supplies the anchors).
_UI_URL = re.compile(r"https?://\S+")


def _schema_url(class_name: str) -> str:
    return f"{SCHEMA_BASE_URL}{class_name}.json#/$defs/{class_name}"


def _non_empty_str(instance: object, attribute: attr.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise FacetValueError(
            f"{type(instance).__name__}.{attribute.name} must be a non-empty string, "
            f"got {value!r}; leave an optional field as None instead of passing ''."
        )


def _ui_url(instance: object, attribute: attr.Attribute[Any], value: Any) -> None:
    _non_empty_str(instance, attribute, value)
    if not _UI_URL.fullmatch(value):
        raise FacetValueError(
            f"{type(instance).__name__}.{attribute.name} must be an absolute http(s) URL "
            f"of the Dagster UI without spaces, got {value!r}; check the configured "
            "Dagster UI base URL."
        )


def _positive_int(instance: object, attribute: attr.Attribute[Any], value: Any) -> None:
    # bool is an int subclass, but True is no attempt number.
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise FacetValueError(
            f"{type(instance).__name__}.{attribute.name} must be an integer >= 1 "
            f"(Dagster counts attempts from 1), got {value!r}."
        )


def _str_list(*, non_empty: bool) -> Any:
    def check(instance: object, attribute: attr.Attribute[Any], value: Any) -> None:
        where = f"{type(instance).__name__}.{attribute.name}"
        if not isinstance(value, list):
            raise FacetValueError(f"{where} must be a list of strings, got {value!r}.")
        if non_empty and not value:
            raise FacetValueError(f"{where} must not be empty: an asset key has >= 1 part.")
        for item in value:
            if not isinstance(item, str) or not item:
                raise FacetValueError(
                    f"{where} must hold only non-empty strings, got {item!r} in {value!r}."
                )

    return check


_optional_str = attr.validators.optional(_non_empty_str)
_optional_url = attr.validators.optional(_ui_url)


def _producer_field() -> Any:
    # Redefines the base facet's ``_producer`` field (init argument ``producer``) with
    # ol-bridge's default; the base only fills an empty one with openlineage-python's.
    return attr.field(default=PRODUCER, kw_only=True)


@attr.define(kw_only=True)
class DagsterRunFacet(RunFacet):
    """The Dagster run (or step attempt) behind an OpenLineage run."""

    dagsterRunId: str = attr.field(validator=_non_empty_str)  # noqa: N815
    """Id of the Dagster run."""
    jobName: str = attr.field(validator=_non_empty_str)  # noqa: N815
    """Name of the Dagster job that ran."""
    codeLocation: str | None = attr.field(default=None, validator=_optional_str)  # noqa: N815
    """Dagster code location of the job."""
    repositoryName: str | None = attr.field(default=None, validator=_optional_str)  # noqa: N815
    """Dagster repository (Definitions) name within the code location."""
    partitionKey: str | None = attr.field(default=None, validator=_optional_str)  # noqa: N815
    """Partition the run materialized, for single-partition runs."""
    partitionRangeStart: str | None = attr.field(  # noqa: N815
        default=None, validator=_optional_str
    )
    """First partition key of a partition-range run."""
    partitionRangeEnd: str | None = attr.field(default=None, validator=_optional_str)  # noqa: N815
    """Last partition key (inclusive) of a partition-range run."""
    backfillId: str | None = attr.field(default=None, validator=_optional_str)  # noqa: N815
    """Id of the backfill that launched the run."""
    scheduleName: str | None = attr.field(default=None, validator=_optional_str)  # noqa: N815
    """Schedule that launched the run."""
    sensorName: str | None = attr.field(default=None, validator=_optional_str)  # noqa: N815
    """Sensor that launched the run."""
    stepKey: str | None = attr.field(default=None, validator=_optional_str)  # noqa: N815
    """Step key, on the events of a step (child) run."""
    attempt: int | None = attr.field(
        default=None, validator=attr.validators.optional(_positive_int)
    )
    """Attempt number of the step, counted from 1."""
    runUrl: str | None = attr.field(default=None, validator=_optional_url)  # noqa: N815
    """Link to the run in the Dagster UI."""
    parentRunId: str | None = attr.field(default=None, validator=_optional_str)  # noqa: N815
    """Dagster run this run re-executes (from failure, selected steps, a run retry)."""
    rootRunId: str | None = attr.field(default=None, validator=_optional_str)  # noqa: N815
    """First Dagster run of the re-execution chain this run belongs to."""

    _producer: str = _producer_field()

    @staticmethod
    def _get_schema() -> str:
        return _schema_url("DagsterRunFacet")


@attr.define(kw_only=True)
class DagsterJobFacet(JobFacet):
    """The Dagster job, op or asset step behind an OpenLineage job."""

    jobName: str = attr.field(validator=_non_empty_str)  # noqa: N815
    """Name of the Dagster job."""
    codeLocation: str | None = attr.field(default=None, validator=_optional_str)  # noqa: N815
    """Dagster code location of the job."""
    repositoryName: str | None = attr.field(default=None, validator=_optional_str)  # noqa: N815
    """Dagster repository (Definitions) name within the code location."""
    opName: str | None = attr.field(default=None, validator=_optional_str)  # noqa: N815
    """Op behind a step (child) job."""
    assetKeys: list[str] | None = attr.field(  # noqa: N815
        default=None, validator=attr.validators.optional(_str_list(non_empty=False))
    )
    """Asset keys the job or step materializes, as user-facing ``a/b/c`` strings."""
    jobUrl: str | None = attr.field(default=None, validator=_optional_url)  # noqa: N815
    """Link to the job in the Dagster UI."""

    _producer: str = _producer_field()

    @staticmethod
    def _get_schema() -> str:
        return _schema_url("DagsterJobFacet")


@attr.define(kw_only=True)
class DagsterAssetFacet(DatasetFacet):
    """The Dagster asset behind an OpenLineage dataset."""

    assetKey: list[str] = attr.field(validator=_str_list(non_empty=True))  # noqa: N815
    """Asset key path parts, e.g. ``["prod", "duckdb", "main", "iris"]``."""
    codeLocation: str | None = attr.field(default=None, validator=_optional_str)  # noqa: N815
    """Dagster code location that defines the asset."""
    groupName: str | None = attr.field(default=None, validator=_optional_str)  # noqa: N815
    """Asset group of the asset."""
    assetUrl: str | None = attr.field(default=None, validator=_optional_url)  # noqa: N815
    """Link to the asset in the Dagster UI."""

    _producer: str = _producer_field()

    @staticmethod
    def _get_schema() -> str:
        return _schema_url("DagsterAssetFacet")


__all__ = [
    "DAGSTER_ASSET_FACET",
    "DAGSTER_JOB_FACET",
    "DAGSTER_RUN_FACET",
    "SCHEMA_BASE_URL",
    "DagsterAssetFacet",
    "DagsterJobFacet",
    "DagsterRunFacet",
]
