"""Validate OpenLineage events against the official JSON Schema and ol-bridge's facet schemas.

What is checked, in this order:

1. The event against the one top-level definition its shape asks for (see
   :func:`event_kind`), instead of the spec's ``oneOf``, whose failure only says "not
   valid under any of the given schemas".
2. Every facet whose ``_schemaURL`` names a known schema document against that schema:
   official facets (``https://openlineage.io/spec/facets/<version>/<Name>.json``, matched
   by file name whatever the version, since facet schemas evolve compatibly) and
   ol-bridge's own (``schemas/``, matched by ``$id``). Other facets (other producers'
   custom facets) are checked only against the base facet shape, which step 1 does.

Formats ``uuid``, ``date-time`` and ``uri`` are checked (``uri``: an absolute RFC 3986 URI,
with a scheme; a bare namespace such as ``snowflake`` in ``dataSource.uri`` is not one).
All ``$ref`` s resolve from local files: the validator never touches the network.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, SchemaError, ValidationError
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from ol_bridge.errors import ConfigError, EventValidationError

#: The OpenLineage spec vendored inside the package (see ``spec/README.md``).
SPEC_DIR = Path(__file__).resolve().parent / "spec"
#: ol-bridge's own facet schemas, shipped inside the package.
SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"

_OFFICIAL_FACET_URL = re.compile(r"https?://openlineage\.io/spec/facets/[^/#]+/(?P<file>[^/#]+)")
_DEF_FRAGMENT = re.compile(r"/(?:\$defs|definitions)/(?P<name>[^/]+)")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FORMATS = ("uuid", "date-time", "uri")
_FORMAT_HINTS = {
    "uuid": "a UUID such as 3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "date-time": "an RFC 3339 date-time with a time zone, such as 2024-05-01T12:00:00Z",
    "uri": "an absolute URI with a scheme, such as postgres://db.internal:5432",
}
#: the package jsonschema needs to check each format
_FORMAT_PACKAGES = {"date-time": "rfc3339-validator", "uri": "rfc3986-validator"}
_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}

Path_ = tuple[str | int, ...]


def event_kind(event: Mapping[str, Any]) -> str:
    """Return ``RunEvent``, ``JobEvent`` or ``DatasetEvent``: the definition to check against.

    Mirrors the spec's ``oneOf``: a RunEvent has ``run`` and ``job``; a DatasetEvent has
    ``dataset`` and not both ``job`` and ``run``; a JobEvent has ``job`` and no ``run``
    (with ``dataset`` too it is ambiguous, which :meth:`EventValidator.errors` reports).
    Stricter in one case on purpose: ``eventType`` exists only on run events, so an event
    with it is a run event even when ``run`` is missing, not a static JobEvent.
    """
    if "eventType" in event or ("run" in event and "job" in event):
        return "RunEvent"
    if "dataset" in event and "job" not in event:
        return "DatasetEvent"
    if "job" in event:
        return "JobEvent"
    # Neither shape is complete: the common kind's errors (run and job missing) help most.
    return "RunEvent"


def format_path(path: Sequence[str | int]) -> str:
    """Render a JSON path as ``run.facets.parent.run.runId`` / ``inputs[0].name``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out


def _load_json(path: Path) -> Mapping[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read JSON Schema {path}: {exc}; restore the file.") from exc
    if not isinstance(document, dict) or not isinstance(document.get("$id"), str):
        raise ConfigError(f"{path} is not a JSON Schema with an $id; restore the file.")
    return document


class EventValidator:
    """Validates OpenLineage events; build once and reuse (validators are cached).

    ``spec_dir`` holds ``OpenLineage.json`` and ``facets/*.json``; ``schema_dir`` holds
    custom facet schemas (``*.json``, each with an ``$id``). ``check_uri=False`` skips the
    ``uri`` format, for events of other producers: OpenLineage's own Spark integration
    sends ``dataSource.uri`` values such as ``file`` and ``bigquery``.
    """

    def __init__(
        self,
        spec_dir: Path | None = None,
        schema_dir: Path | None = None,
        *,
        check_uri: bool = True,
    ) -> None:
        spec_dir = SPEC_DIR if spec_dir is None else spec_dir
        schema_dir = SCHEMA_DIR if schema_dir is None else schema_dir
        core_file = spec_dir / "OpenLineage.json"
        facet_files = sorted((spec_dir / "facets").glob("*.json"))
        custom_files = sorted(schema_dir.glob("*.json"))
        if not core_file.is_file() or not facet_files:
            raise ConfigError(
                f"{spec_dir} is not an OpenLineage spec directory (needs OpenLineage.json "
                "and facets/*.json); pass the directory of a copy of the OpenLineage spec."
            )
        if not custom_files:
            raise ConfigError(f"{schema_dir} holds no custom facet schemas (*.json).")
        for format_name, package in _FORMAT_PACKAGES.items():
            if format_name not in FormatChecker.checkers:
                raise ConfigError(
                    f"jsonschema cannot check {format_name} formats; install {package}."
                )
        core = _load_json(core_file)
        self._core_id: str = core["$id"]
        #: official facet documents by file name, e.g. ``ParentRunFacet.json``
        self._official = {path.name: _load_json(path) for path in facet_files}
        #: custom facet documents by ``$id``
        custom = [(path, _load_json(path)) for path in custom_files]
        for path, document in custom:
            try:
                Draft202012Validator.check_schema(document)
            except SchemaError as exc:
                raise ConfigError(
                    f"{path} is not a valid JSON Schema (draft 2020-12): {exc.message}; fix it."
                ) from exc
        self._custom = {document["$id"]: document for _, document in custom}
        if len(self._custom) != len(custom):
            raise ConfigError(f"two schemas in {schema_dir} share an $id; give each its own.")
        #: facet definitions of each document, by ``$id``
        self._facet_defs = {
            doc["$id"]: _facet_def_names(doc)
            for doc in (*self._official.values(), *self._custom.values())
        }
        #: facet definition name -> document, for pre-1.0 URLs into OpenLineage.json
        self._by_def_name = {
            name: doc for doc in self._official.values() for name in _facet_def_names(doc)
        }
        documents = [core, *self._official.values(), *self._custom.values()]
        self._registry: Registry[Any] = Registry().with_resources(
            (doc["$id"], Resource.from_contents(doc, default_specification=DRAFT202012))
            for doc in documents
        )
        self._registry = self._registry.crawl()
        formats = _FORMATS if check_uri else tuple(f for f in _FORMATS if f != "uri")
        self._format_checker = FormatChecker(formats=formats)
        self._validators: dict[str, Draft202012Validator] = {}

    @property
    def registry(self) -> Registry[Any]:
        """Every loaded schema document by ``$id``, for checking a document directly."""
        return self._registry

    def validate(self, event: Mapping[str, Any]) -> None:
        """Raise :class:`EventValidationError` for the first problem found, if any."""
        problems = self.errors(event)
        if problems:
            raise problems[0]

    def errors(self, event: Mapping[str, Any]) -> list[EventValidationError]:
        """Return every problem found in ``event``; empty when it is valid."""
        if not isinstance(event, Mapping):
            return [EventValidationError(f"the event must be a JSON object, got {_type(event)}")]
        kind = event_kind(event)
        found: dict[tuple[str, str], EventValidationError] = {}
        if kind == "JobEvent" and "dataset" in event:
            found["dataset", ""] = EventValidationError(
                "an event with job and dataset but no run matches both JobEvent and "
                "DatasetEvent; send job (JobEvent) or dataset (DatasetEvent), or add run "
                "to make it a RunEvent",
                path="dataset",
            )
        ref = f"{self._core_id}#/$defs/{kind}"
        for error in self._validator(ref).iter_errors(event):
            for problem in _convert(error, (), f"OpenLineage {kind} schema"):
                found.setdefault((problem.path, str(problem)), problem)
        for path, key, facet in _facets(event, kind):
            facet_ref = self.facet_schema(facet["_schemaURL"], key)
            if facet_ref is None:
                continue
            for error in self._validator(facet_ref).iter_errors(facet):
                for problem in _convert(error, (*path, key), f"facet schema {facet_ref}"):
                    found.setdefault((problem.path, str(problem)), problem)
        return list(found.values())

    def facet_schema(self, schema_url: str, facet_key: str) -> str | None:
        """Return the schema reference a facet is checked against, or None (base shape only).

        The URL's fragment picks the definition when it names one of the document;
        otherwise the document's top-level ``properties[facet_key]`` does. A URL naming a
        document that does not define this facet key (a mislabelled facet) gets None.
        """
        url, _, fragment = schema_url.partition("#")
        def_match = _DEF_FRAGMENT.fullmatch(fragment)
        document = self._custom.get(url)
        official = _OFFICIAL_FACET_URL.fullmatch(url)
        if document is None and official:
            document = self._official.get(official["file"])
        if document is None and def_match and url.endswith("/OpenLineage.json"):
            # Before spec 1.0 the facets lived in OpenLineage.json under these names.
            document = self._by_def_name.get(def_match["name"])
        if document is None:
            return None
        doc_id = document["$id"]
        if def_match and def_match["name"] in self._facet_defs[doc_id]:
            return f"{doc_id}#/$defs/{def_match['name']}"
        prop = document.get("properties", {}).get(facet_key)
        if prop is None:
            return None
        target = prop.get("$ref", "")
        if target.startswith("#/$defs/"):
            return f"{doc_id}{target}"
        # e.g. LineageFacet's "lineage": anyOf the dataset and the job variant
        return f"{doc_id}#/properties/{_pointer_escape(facet_key)}"

    def _validator(self, ref: str) -> Draft202012Validator:
        validator = self._validators.get(ref)
        if validator is None:
            validator = Draft202012Validator(
                {"$ref": ref}, registry=self._registry, format_checker=self._format_checker
            )
            self._validators[ref] = validator
        return validator


@functools.cache
def default_validator() -> EventValidator:
    """The validator over the vendored spec and ol-bridge's schemas, built on first use.

    Every format is checked: what ol-bridge emits must pass it."""
    return EventValidator()


@functools.cache
def foreign_event_validator() -> EventValidator:
    """The validator for events other producers send (``ol-bridge serve``): all but the
    ``uri`` format, which real producers' ``dataSource.uri`` values fail (a bare
    namespace); refusing their lineage for it would lose it."""
    return EventValidator(check_uri=False)


def _facet_def_names(document: Mapping[str, Any]) -> set[str]:
    """Definitions of a document that are facets: those its top-level properties point at."""
    names = set()
    for prop in document.get("properties", {}).values():
        for sub in [prop, *prop.get("anyOf", []), *prop.get("oneOf", [])]:
            ref = sub.get("$ref", "")
            if ref.startswith("#/$defs/"):
                names.add(ref.removeprefix("#/$defs/"))
    return names


def _pointer_escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _facets(event: Mapping[str, Any], kind: str) -> Iterator[tuple[Path_, str, Mapping[str, Any]]]:
    """Yield (container path, key, facet) for every facet that declares a ``_schemaURL``."""
    containers: list[tuple[Path_, Any]] = []
    if kind == "DatasetEvent":
        containers.append((("dataset", "facets"), _get(event.get("dataset"), "facets")))
    else:
        if kind == "RunEvent":
            containers.append((("run", "facets"), _get(event.get("run"), "facets")))
        containers.append((("job", "facets"), _get(event.get("job"), "facets")))
        for side, extra in (("inputs", "inputFacets"), ("outputs", "outputFacets")):
            datasets = event.get(side)
            for index, dataset in enumerate(datasets if isinstance(datasets, list) else []):
                for name in ("facets", extra):
                    containers.append(((side, index, name), _get(dataset, name)))
    for path, facets in containers:
        if not isinstance(facets, Mapping):
            continue
        for key, facet in facets.items():
            if isinstance(facet, Mapping) and isinstance(facet.get("_schemaURL"), str):
                yield path, key, facet


def _get(container: Any, key: str) -> Any:
    return container.get(key) if isinstance(container, Mapping) else None


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    """The errors that say what is wrong, found below anyOf/oneOf wrappers."""
    if not error.context:
        yield error
        return
    branches = {sub.relative_schema_path[0] for sub in error.context}
    chosen = error.context if len(branches) == 1 else [best_match(error.context)]
    for sub in chosen:
        yield from _leaves(sub)


def _convert(error: ValidationError, prefix: Path_, schema: str) -> Iterator[EventValidationError]:
    for leaf in _leaves(error):
        path = (*prefix, *leaf.absolute_path)
        for sub_path, what in _describe(leaf):
            full = format_path((*path, *sub_path))
            subject = full or "the event"
            yield EventValidationError(f"{subject} {what} ({schema})", path=full)


def _describe(error: ValidationError) -> Iterator[tuple[Path_, str]]:
    """(path below the error's instance, what is wrong) for one schema violation."""
    kind, expected, value = error.validator, error.validator_value, error.instance
    if kind == "required":
        missing = [name for name in expected if name not in value]
        for name in missing or expected:
            if error.message == f"{name!r} is a required property":
                yield (name,), "is required but missing"
                return
        yield (), error.message
    elif kind in ("additionalProperties", "unevaluatedProperties"):
        allowed = sorted(error.schema.get("properties", {}))
        for name in value:
            if name not in allowed:
                yield (name,), f"is not allowed here; allowed are: {', '.join(allowed)}"
    elif kind == "format":
        yield (), f"must be {_FORMAT_HINTS.get(expected, expected)}, got {_short(value)}"
    elif kind == "type":
        types = " or ".join(expected) if isinstance(expected, list) else expected
        yield (), f"must be of type {types}, got {_type(value)}"
    elif kind == "enum":
        yield (), f"must be one of {', '.join(map(str, expected))}, got {_short(value)}"
    elif kind in ("minLength", "minItems") and expected == 1:
        yield (), "must not be empty"
    elif kind == "minimum":
        yield (), f"must be >= {expected}, got {_short(value)}"
    elif kind == "pattern":
        yield (), f"must match the pattern {expected}, got {_short(value)}"
    else:
        message = error.message if len(error.message) <= 200 else error.message[:200] + "..."
        yield (), f"is invalid: {message}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _type(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "number"
    return _JSON_TYPES.get(type(value), type(value).__name__)


__all__ = [
    "SCHEMA_DIR",
    "SPEC_DIR",
    "EventValidator",
    "default_validator",
    "event_kind",
    "foreign_event_validator",
]
