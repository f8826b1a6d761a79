"""Events as the outbox stores them (the JSON every transport sends) and back.

Transports take event objects (the file transport names files after ``job.name``, Kafka keys
messages by the run), so a stored event is rebuilt as a ``RunEvent`` whose top-level fields
are typed and whose facets stay plain dicts: serialising it gives back the stored JSON.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from openlineage.client.event_v2 import (
    InputDataset,
    Job,
    OutputDataset,
    Run,
    RunEvent,
    RunState,
)

from ol_bridge.serialize import event_json


def identity_key(event: Any) -> str | None:
    """The key an outbox deduplicates a run event by: what makes it the same event for an
    OpenLineage backend (run, job, event type and time) and the same lineage (the datasets
    it names), whatever its facets say.

    Two hand-offs of one Dagster event (a replayed tick, two sensors over one instance, a
    backfill next to the sensor) can differ in their facets (a definition enriched one of
    them); they are still one event and must be delivered once. If they name different
    datasets (a backfill without the definitions the sensor has names an asset
    ``dagster / <key>``), they are different lineage: dropping the second would keep the
    worse names for good, so both are delivered. None for events without a run (job and
    dataset events): their whole JSON is their identity.
    """
    if isinstance(event, Mapping):
        run, job = event.get("run"), event.get("job")
        if not isinstance(run, Mapping) or not isinstance(job, Mapping):
            return None
        parts = (run.get("runId"), job.get("namespace"), job.get("name"))
        moment = (event.get("eventType"), event.get("eventTime"))
        named = _dataset_names(event.get("inputs"), event.get("outputs"))
    else:
        run, job = getattr(event, "run", None), getattr(event, "job", None)
        if run is None or job is None:
            return None
        parts = (run.runId, job.namespace, job.name)
        event_type = getattr(event, "eventType", None)
        moment = (getattr(event_type, "value", event_type), getattr(event, "eventTime", None))
        named = _dataset_names(getattr(event, "inputs", None), getattr(event, "outputs", None))
    identity = "\x1f".join(str(part) for part in (*parts, *moment, *named))
    return "run:" + hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()[:40]


def _dataset_names(inputs: Any, outputs: Any) -> tuple[str, ...]:
    """``in:`` / ``out:`` namespace + name of each dataset, sorted (dicts or objects)."""
    names: list[str] = []
    for direction, datasets in (("in", inputs), ("out", outputs)):
        if not isinstance(datasets, (list, tuple)):  # absent, or not what the spec allows
            continue
        for dataset in datasets:
            if isinstance(dataset, Mapping):
                namespace, name = dataset.get("namespace"), dataset.get("name")
            else:
                namespace, name = (
                    getattr(dataset, "namespace", None),
                    getattr(dataset, "name", None),
                )
            names.append(f"{direction}:{namespace}\x1e{name}")
    return tuple(sorted(names))


def payload_identity(payload: str) -> str:
    """The dedup key of a stored event: its identity, else the hash of its JSON."""
    try:
        raw = json.loads(payload)
    except ValueError:
        raw = None
    key = identity_key(raw) if isinstance(raw, Mapping) else None
    return key or json_key(payload)


def json_key(payload: str) -> str:
    """The hash of an event's JSON: the dedup key of events without an identity."""
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def to_payload(event: Any) -> str:
    """The JSON every transport would send (``Serde.to_json``), built in one pass."""
    return event_json(event)


def from_payload(payload: str) -> RunEvent | dict[str, Any]:
    """A ``RunEvent`` for run events; other events (job, dataset) stay dicts."""
    raw: dict[str, Any] = json.loads(payload)
    if "run" not in raw or "job" not in raw:
        return raw
    event = RunEvent(
        eventTime=raw["eventTime"],
        producer=raw.get("producer", ""),
        eventType=RunState(raw["eventType"]) if raw.get("eventType") else None,
        run=Run(runId=raw["run"]["runId"], facets=raw["run"].get("facets")),
        job=Job(
            namespace=raw["job"]["namespace"],
            name=raw["job"]["name"],
            facets=raw["job"].get("facets"),
        ),
        inputs=[_dataset(InputDataset, d, "inputFacets") for d in raw.get("inputs", [])]
        if "inputs" in raw
        else None,
        outputs=[_dataset(OutputDataset, d, "outputFacets") for d in raw.get("outputs", [])]
        if "outputs" in raw
        else None,
    )
    if "schemaURL" in raw:
        event.schemaURL = raw["schemaURL"]
    return event


def _dataset(kind: Any, raw: dict[str, Any], io_facets: str) -> Any:
    return kind(
        namespace=raw["namespace"],
        name=raw["name"],
        facets=raw.get("facets"),
        **{io_facets: raw.get(io_facets)},
    )
