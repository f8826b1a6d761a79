"""OL job -> DataFlow and DataJob URNs, by the rules of DataHub's converter.

- orchestrator: the configured one, else the ``jobType`` facet's ``integration``, else the
  ``processing_engine`` run facet's ``name``, else what the producer URI says (Airflow, Trino,
  OpenLineage's Spark/Flink/Airflow integrations), else ``unknown``; lower-cased, ``sqlserver``
  -> ``mssql``;
- DataFlow ``(orchestrator, flow id, cluster)``: the flow id is the job name up to its first dot
  (``iris_job.iris_summary`` -> ``iris_job``) and the cluster the job namespace (or the
  configured platform instance);
- DataJob ``(flow, job name)`` with the full job name; its display name drops the flow part.
"""

from __future__ import annotations

import functools
import re

import attrs
from datahub.metadata.urns import DataFlowUrn, DataJobUrn

from ol_bridge.datahub.config import ConverterConfig
from ol_bridge.platforms import converter_platform

_OL_INTEGRATION = re.compile(
    r"^/openlineage/openlineage/(?:(?:blob|tree)/[^/]+/)?integration/(airflow|flink|spark|trino)/?$"
)
_GITHUB = re.compile(r"^[a-z][a-z0-9+.\-]*://github\.com(?::\d+)?(/[^?#]*)?", re.IGNORECASE)


def _normalize(name: str | None) -> str | None:
    if name is None or not name.strip():
        return None
    return converter_platform(name)


@functools.lru_cache(maxsize=256)
def producer_orchestrator(producer: str | None) -> str | None:
    """The orchestrator a producer URI names, if it is one DataHub recognises."""
    match = _GITHUB.match(producer or "")
    if match is None:
        return None
    path = (match.group(1) or "").lower()
    if path == "/apache/airflow" or path.startswith("/apache/airflow/"):
        return "airflow"
    if path == "/trinodb/trino" or path.startswith("/trinodb/trino/"):
        return "trino"
    integration = _OL_INTEGRATION.match(path)
    return integration.group(1) if integration else None


def orchestrator(
    config: ConverterConfig,
    integration: str | None,
    processing_engine: str | None,
    producer: str | None,
) -> str:
    """The DataFlow orchestrator (first of: config, jobType integration, engine, producer)."""
    for candidate in (
        config.orchestrator,
        integration,
        processing_engine,
        producer_orchestrator(producer),
    ):
        normalized = _normalize(candidate)
        if normalized is not None:
            return normalized
    return "unknown"


@attrs.frozen
class JobUrns:
    """The DataFlow and DataJob of one OL job."""

    flow: DataFlowUrn
    job: DataJobUrn
    flow_name: str
    job_display_name: str
    #: ``str(flow)`` and ``str(job)``, rendered once per (cached) job: an Urn renders
    #: itself again on every ``str()``
    flow_str: str = attrs.field(
        kw_only=True, default=attrs.Factory(lambda s: str(s.flow), takes_self=True)
    )
    job_str: str = attrs.field(
        kw_only=True, default=attrs.Factory(lambda s: str(s.job), takes_self=True)
    )


@functools.lru_cache(maxsize=4096)
def job_urns(namespace: str, name: str, orchestrator_name: str, config: ConverterConfig) -> JobUrns:
    """URNs of the OL job ``namespace``/``name``; cached, as jobs repeat on every event."""
    flow_name = config.pipeline_name or name.split(".", 1)[0]
    cluster = config.platform_instance or namespace
    flow = DataFlowUrn(orchestrator_name, flow_name, cluster)
    display = name.split(".", 1)[1] if "." in name else name
    return JobUrns(
        flow=flow, job=DataJobUrn(flow, name), flow_name=flow_name, job_display_name=display
    )
