"""Schema validation at the receiver's speed: jsonschema-rs says which events are valid,
the reference validator (``ol_bridge.validation``) says what is wrong with the others.

``EventValidator`` (jsonschema, pure Python) takes ~1.6 ms for a typical event, more than
everything else the receiver does with it. The same schema documents compiled by
jsonschema-rs check a valid event in ~20 µs. The format checks are jsonschema's own
functions (``uuid``, ``date-time``; ``uri`` is not checked for other producers' events, as
``foreign_event_validator`` does), and each facet is checked against the schema the
reference validator picks for it (``EventValidator.facet_schema``). Whenever the fast check
finds a problem the reference validator runs and gives the answer, with the field at
fault; so an event is accepted if either validator accepts it, and the reference
validator's messages are the only ones a client sees. ``tests/server/test_schema_check.py``
checks the two agree on valid events and on fuzzed ones.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import jsonschema_rs
from jsonschema import FormatChecker

from ol_bridge.errors import EventValidationError
from ol_bridge.validation import (
    SCHEMA_DIR,
    SPEC_DIR,
    EventValidator,
    event_kind,
    foreign_event_validator,
)

_CHECKED_FORMATS = ("uuid", "date-time")


class FastEventValidator:
    """Same ``errors(event)`` as :class:`~ol_bridge.validation.EventValidator`."""

    def __init__(self, reference: EventValidator | None = None) -> None:
        self._reference = reference or foreign_event_validator()
        documents = [json.loads((SPEC_DIR / "OpenLineage.json").read_text(encoding="utf-8"))]
        documents += [
            json.loads(path.read_text(encoding="utf-8"))
            for path in [
                *sorted((SPEC_DIR / "facets").glob("*.json")),
                *sorted(SCHEMA_DIR.glob("*.json")),
            ]
        ]
        self._core_id: str = documents[0]["$id"]
        self._registry = jsonschema_rs.Registry([(doc["$id"], doc) for doc in documents])
        checker = FormatChecker(formats=_CHECKED_FORMATS)
        self._formats = {name: _conforms(checker, name) for name in _CHECKED_FORMATS}
        self._formats["uri"] = _anything
        self._compiled: dict[str, Any] = {}
        self._facet_refs: dict[tuple[str, str], str | None] = {}

    def errors(self, event: Any) -> list[EventValidationError]:
        if isinstance(event, Mapping) and self.is_valid(event):
            return []
        return self._reference.errors(event)

    def is_valid(self, event: Mapping[str, Any]) -> bool:
        """The fast answer alone (the reference validator may still accept an event it refuses)."""
        kind = event_kind(event)
        if kind == "JobEvent" and "dataset" in event:
            return False
        try:
            if not self._validator(f"{self._core_id}#/$defs/{kind}").is_valid(event):
                return False
            for key, facet in _facets(event, kind):
                ref = self._facet_ref(facet["_schemaURL"], key)
                if ref is not None and not self._validator(ref).is_valid(facet):
                    return False
        except (ValueError, OverflowError):  # a value Rust cannot take (a huge integer)
            return False
        return True

    def _facet_ref(self, url: str, key: str) -> str | None:
        cache_key = (url, key)
        if cache_key not in self._facet_refs:
            if len(self._facet_refs) > 10_000:  # producers' own URLs vary without bound
                self._facet_refs.clear()
            self._facet_refs[cache_key] = self._reference.facet_schema(url, key)
        return self._facet_refs[cache_key]

    def _validator(self, ref: str) -> Any:
        validator = self._compiled.get(ref)
        if validator is None:
            validator = jsonschema_rs.Draft202012Validator(
                {"$ref": ref},
                registry=self._registry,
                validate_formats=True,
                formats=self._formats,
            )
            self._compiled[ref] = validator
        return validator


def _conforms(checker: FormatChecker, name: str) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        return bool(checker.conforms(value, name))

    return check


def _anything(value: Any) -> bool:
    return True


def _facets(event: Mapping[str, Any], kind: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(key, facet) of every facet that names its schema (``_schemaURL``)."""
    containers: list[Any] = []
    if kind == "DatasetEvent":
        containers.append(_get(event.get("dataset"), "facets"))
    else:
        if kind == "RunEvent":
            containers.append(_get(event.get("run"), "facets"))
        containers.append(_get(event.get("job"), "facets"))
        for side, extra in (("inputs", "inputFacets"), ("outputs", "outputFacets")):
            datasets = event.get(side)
            for dataset in datasets if isinstance(datasets, list) else []:
                containers += [_get(dataset, "facets"), _get(dataset, extra)]
    for facets in containers:
        if isinstance(facets, Mapping):
            for key, facet in facets.items():
                if isinstance(facet, Mapping) and isinstance(facet.get("_schemaURL"), str):
                    yield key, facet


def _get(container: Any, key: str) -> Any:
    return container.get(key) if isinstance(container, Mapping) else None
