"""The outbox's dedup key: one event, whatever its facets; different lineage, a new key."""

from __future__ import annotations

import copy
from typing import Any

from ol_bridge.delivery.payload import from_payload, identity_key, payload_identity, to_payload

RUN_ID = "0191b2a4-3c5d-7e6f-8a9b-0c1d2e3f4a5b"


def _event(
    output_namespace: str = "duckdb://shop", output_name: str = "shop.main.report"
) -> dict[str, Any]:
    return {
        "eventType": "COMPLETE",
        "eventTime": "2026-12-03T10:00:00+00:00",
        "producer": "https://github.com/ol-bridge",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": RUN_ID, "facets": {}},
        "job": {"namespace": "dagster", "name": "report_job.report", "facets": {}},
        "inputs": [{"namespace": "duckdb://shop", "name": "shop.main.orders", "facets": {}}],
        "outputs": [{"namespace": output_namespace, "name": output_name, "facets": {}}],
    }


def test_facets_do_not_change_the_identity() -> None:
    plain = _event()
    enriched = copy.deepcopy(plain)
    enriched["outputs"][0]["facets"]["documentation"] = {"description": "from the definition"}
    enriched["job"]["facets"]["ownership"] = {"owners": [{"name": "team:data"}]}
    assert identity_key(plain) == identity_key(enriched)


def test_other_dataset_names_are_other_lineage() -> None:
    # a backfill without the definitions names the asset `dagster / report`: delivered too
    assert identity_key(_event()) != identity_key(_event("dagster", "report"))
    swapped = _event()
    swapped["inputs"], swapped["outputs"] = swapped["outputs"], swapped["inputs"]
    assert identity_key(swapped) != identity_key(_event())


def test_dataset_order_does_not_matter() -> None:
    two = _event()
    two["inputs"].append({"namespace": "duckdb://shop", "name": "shop.main.customers"})
    reordered = copy.deepcopy(two)
    reordered["inputs"].reverse()
    assert identity_key(two) == identity_key(reordered)


def test_the_object_and_the_stored_json_have_one_identity() -> None:
    payload = to_payload(_event())
    event = from_payload(payload)
    assert identity_key(event) == identity_key(_event()) == payload_identity(payload)


def test_malformed_dataset_lists_do_not_break_the_key() -> None:
    odd = _event()
    odd["inputs"] = 5
    odd["outputs"] = [7, {"name": None}]
    assert identity_key(odd) is not None
