"""Events as the outbox stores them (the JSON every transport sends) and back.

Transports take event objects (the file transport names files after ``job.name``, Kafka keys
messages by the run), so a stored event is rebuilt as a ``RunEvent`` whose top-level fields
are typed and whose facets stay plain dicts: serialising it gives back the stored JSON.
"""

from __future__ import annotations

import json
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
