"""Parity with DataHub's *newest* OpenLineage converter on what it added since the corpus.

``tests/data/datahub-ol-newest/input`` holds run events that exercise the newest converter's
additions (input ``dataQualityAssertions``, the ``jobDependencies`` facet, failures reported by
``extractionError`` / ``errorMessage``, environment variables); ``expected/`` the proposals that
converter makes for them, derived by hand from its Java source (see that folder's README).
Each expected proposal must appear in our output, in the same order, with the same content
(the documented deliberate differences applied, as for the older corpus); an expected
proposal with ``compare`` is checked only on those fields, each expected entry being present
in ours. Every assertion entity we write must be an expected one.
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


def cases() -> list[Path]:
    return required(list((NEWEST_DIR / "input").glob("*.json")), expected=5, what="newest corpus")


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
    parent_run = event["run"].get("facets", {}).get("parent", {}).get("run", {}).get("runId")
    position = 0
    for want in expected:
        key = (want["entityUrn"], want["aspectName"], want["changeType"])
        found = next(
            (
                i
                for i in range(position, len(ours))
                if (ours[i]["entityUrn"], ours[i]["aspectName"], ours[i]["changeType"]) == key
            ),
            None,
        )
        assert found is not None, f"{key} missing (or out of order) in our output"
        assert _same(want, ours[found], parent_run), (want, ours[found])
        position = found + 1
    assertions = {m["entityUrn"] for m in ours if m["entityType"] == "assertion"}
    assert assertions == {m["entityUrn"] for m in expected if m["entityType"] == "assertion"}


@pytest.mark.parametrize("event_path", cases(), ids=lambda p: p.stem)
def test_newest_corpus_events_are_valid_openlineage(event_path: Path) -> None:
    assert not list(default_validator().errors(json.loads(event_path.read_text())))
