"""Parity with DataHub's *newest* OpenLineage converter on what it added since the corpus.

``tests/data/datahub-ol-newest/input`` holds run events that exercise the newest converter's
additions (input ``dataQualityAssertions``, the ``jobDependencies`` facet, failures reported by
``extractionError`` / ``errorMessage``, environment variables); ``expected/`` the proposals that
converter makes for them, derived by hand from its Java source (see that folder's README).
It also holds events for the rest of what the newest converter maps (job facets: processing
type, subtypes, transform logic, engine version, owners' types, job and run tags, nominal
time, operations; dataset facets: properties, subtypes, siblings, profiles, containers,
nested schemas; JobEvent and DatasetEvent).

Each expected proposal must appear in our output, in the same order, with the same content
(the documented deliberate differences applied, as for the older corpus); an expected
proposal with ``compare`` is checked only on those fields, each expected entry being present
in ours. Every assertion entity we write must be an expected one. The deliberate differences
(docs/datahub-mapping.md) this test accepts, each checked rather than skipped:

* ``ownership`` and ``datasetProperties`` are PATCH additions where DataHub UPSERTs: every
  owner and every property DataHub writes must be one of our patch's operations;
* a dataset's ``externalUrl`` is not its ``dataSource.uri``, and its ``dataPlatformInstance``
  is not taken from the ``catalog`` / ``dataSource`` name: we must write neither;
* schema field types DataHub leaves untyped (NullType) may be typed by our wider table;
* an ``extractionError`` does not fail a COMPLETE event's run: where DataHub writes FAILURE /
  ``EXTRACTION_ERROR`` we must write the event type's own SUCCESS / ``COMPLETE``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ol_bridge.datahub import convert_event
from ol_bridge.validation import default_validator
from tests.corpora import DATA_DIR, required
from tests.datahub.test_compat_corpus import matches, normalize_golden, normalize_ours, wire

NEWEST_DIR = DATA_DIR / "datahub-ol-newest"
#: Custom properties holding JSON text, compared as JSON (DataHub writes them with org.json).
JSON_PROPERTIES = {"extractionError.errors"}


#: Aspects we write as PATCH additions where DataHub's newest converter writes an UPSERT.
PATCHED_BY_US = {"ownership", "datasetProperties"}


def cases() -> list[Path]:
    return required(list((NEWEST_DIR / "input").glob("*.json")), expected=9, what="newest corpus")


def _patch_values(patch: Any) -> dict[str, Any]:
    ops = patch["patch"] if isinstance(patch, dict) else patch
    return {op["path"]: op["value"] for op in ops}


def _patch_holds(want: dict[str, Any], ours: dict[str, Any], data_source_uris: set[str]) -> bool:
    """Our PATCH adds everything DataHub's UPSERT writes (the deliberate differences aside)."""
    values = _patch_values(ours["aspect"])
    aspect = want["aspect"]
    if want["aspectName"] == "ownership":
        return all(owner in values.values() for owner in aspect["owners"])
    expected = {f"/customProperties/{k}": v for k, v in aspect.get("customProperties", {}).items()}
    if "description" in aspect:
        expected["/description"] = aspect["description"]
    assert aspect.get("externalUrl") in (None, *data_source_uris)  # not written, on purpose
    assert "/externalUrl" not in values or values["/externalUrl"] not in data_source_uris
    return all(values.get(path) == value for path, value in expected.items())


def _untyped_by_datahub(want: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]:
    """Our schema aspect with the field types DataHub leaves untyped set back to NullType."""
    null = {"type": {"com.linkedin.schema.NullType": {}}}
    fields = []
    for mine, theirs in zip(ours["aspect"]["fields"], want["aspect"]["fields"], strict=False):
        fields.append({**mine, "type": null} if theirs["type"] == null else mine)
    return {**ours, "aspect": {**ours["aspect"], "fields": fields}}


def _extraction_error_keeps_success(want: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """DataHub's run result with our deliberate difference applied: a COMPLETE event whose
    only failure signal is ``extractionError`` stays SUCCESS (docs/datahub-mapping.md)."""
    aspect = want["aspect"]
    if (
        want["aspectName"] != "dataProcessInstanceRunEvent"
        or event.get("eventType") != "COMPLETE"
        or aspect.get("result", {}).get("nativeResultType") != "EXTRACTION_ERROR"
    ):
        return want
    assert "errorMessage" not in event["run"]["facets"]  # else DataHub's fallback would apply
    success = {"type": "SUCCESS", "nativeResultType": "COMPLETE"}
    return {**want, "aspect": {**aspect, "result": success}}


def _json_properties(aspect: Any) -> Any:
    props = aspect.get("customProperties") if isinstance(aspect, dict) else None
    if not props:
        return aspect
    parsed = {k: json.loads(v) if k in JSON_PROPERTIES else v for k, v in props.items()}
    return {**aspect, "customProperties": parsed}


def _same(expected: dict[str, Any], ours: dict[str, Any], parent_run: str | None) -> bool:
    name = expected["aspectName"]
    want = _json_properties(normalize_golden(name, expected["aspect"]))
    got = _json_properties(normalize_ours(name, ours["aspect"], expected["aspect"], parent_run))
    fields = expected.get("compare")
    if fields is None:
        return matches(want, got)
    return all(
        all(matches(value, got.get(field, {}).get(key)) for key, value in want[field].items())
        for field in fields
    )


@pytest.mark.parametrize("event_path", cases(), ids=lambda p: p.stem)
def test_matches_newest_converter(event_path: Path) -> None:
    event = json.loads(event_path.read_text())
    expected = json.loads((NEWEST_DIR / "expected" / event_path.name).read_text())
    ours = [wire(p) for p in convert_event(event)]
    run = event.get("run", {})
    parent_run = run.get("facets", {}).get("parent", {}).get("run", {}).get("runId")
    datasets = [*event.get("inputs", []), *event.get("outputs", [])]
    datasets += [event["dataset"]] if "dataset" in event else []
    data_source_uris = {
        d["facets"]["dataSource"]["uri"] for d in datasets if "dataSource" in d.get("facets", {})
    }
    position = 0
    for golden in expected:
        want = _extraction_error_keeps_success(golden, event)
        if want["entityType"] == "dataset" and want["aspectName"] == "dataPlatformInstance":
            # from the catalog / dataSource name: not written, on purpose
            assert not [
                m
                for m in ours
                if (m["entityUrn"], m["aspectName"]) == (want["entityUrn"], "dataPlatformInstance")
            ]
            continue
        change = want["changeType"]
        if want["aspectName"] in PATCHED_BY_US:
            change = "PATCH"
        key = (want["entityUrn"], want["aspectName"], change)
        found = next(
            (
                i
                for i in range(position, len(ours))
                if (ours[i]["entityUrn"], ours[i]["aspectName"], ours[i]["changeType"]) == key
            ),
            None,
        )
        assert found is not None, f"{key} missing (or out of order) in our output"
        mine = ours[found]
        if want["aspectName"] in PATCHED_BY_US and want["changeType"] == "UPSERT":
            assert _patch_holds(want, mine, data_source_uris), (want, mine)
        else:
            if want["aspectName"] == "schemaMetadata":
                mine = _untyped_by_datahub(want, mine)
            assert _same(want, mine, parent_run), (want, mine)
        position = found + 1
    assertions = {m["entityUrn"] for m in ours if m["entityType"] == "assertion"}
    assert assertions == {m["entityUrn"] for m in expected if m["entityType"] == "assertion"}


@pytest.mark.parametrize("event_path", cases(), ids=lambda p: p.stem)
def test_newest_corpus_events_are_valid_openlineage(event_path: Path) -> None:
    assert not list(default_validator().errors(json.loads(event_path.read_text())))
