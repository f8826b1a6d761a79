"""Request bodies to validated OpenLineage events, or the reason they are refused (pure).

Everything a client can get wrong ends here as a :class:`Rejection` (status 400, the
field at fault, a message), never as an exception the server would turn into a 500:
bytes that are not UTF-8, JSON that is not JSON, ``NaN``, integers too long for Python to
convert, nesting deep enough to exhaust the recursion limit, and schema violations.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import attrs

from ol_bridge.validation import EventValidator, foreign_event_validator

#: Deeper documents are refused before validation (real events nest well under 20).
MAX_DEPTH = 64
#: Most events one request may carry.
MAX_BATCH = 10_000


@attrs.frozen
class Rejection:
    """Why a body was refused: ``field`` is the JSON path at fault (``""`` = the body)."""

    field: str
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"error": "invalid_event", "field": self.field, "message": self.message}


@attrs.frozen
class ParsedBody:
    """The events of one body; ``batch`` is True when it was a JSON array."""

    events: Sequence[dict[str, Any]]
    batch: bool


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite(literal: str) -> float:
    # 1e999 parses to inf, which no JSON encoder downstream (DataHub, relays) can write.
    number = float(literal)
    if number in (float("inf"), float("-inf")):
        raise ValueError(f"the number {literal[:40]} is out of range")
    return number


def parse_body(body: bytes, validator: EventValidator | None = None) -> ParsedBody | Rejection:
    """Decode and validate one body: a single event object or a JSON array of them."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        return Rejection("", f"the body is not UTF-8 text (byte {error.start}); send JSON")
    try:
        document = json.loads(text, parse_constant=_no_constants, parse_float=_finite)
    except RecursionError:
        return Rejection("", f"the JSON nests deeper than {MAX_DEPTH} levels")
    except ValueError as error:
        # JSONDecodeError, NaN/Infinity, and integers over Python's conversion limit
        return Rejection("", f"the body is not valid JSON: {error}")
    if _depth_exceeds(document, MAX_DEPTH):
        return Rejection("", f"the JSON nests deeper than {MAX_DEPTH} levels")
    if isinstance(document, dict):
        return _validated([document], batch=False, validator=validator)
    if isinstance(document, list):
        if not document:
            return Rejection("", "the batch is an empty array; send at least one event")
        if len(document) > MAX_BATCH:
            return Rejection("", f"a batch holds at most {MAX_BATCH} events")
        for index, item in enumerate(document):
            if not isinstance(item, dict):
                return Rejection(f"[{index}]", "each batch item must be an event object")
        return _validated(document, batch=True, validator=validator)
    return Rejection("", "the body must be an event object or a JSON array of events")


def parse_event(data: bytes, validator: EventValidator | None = None) -> dict[str, Any] | Rejection:
    """One event from one Kafka message value (what openlineage-python's ``kafka`` sends)."""
    parsed = parse_body(data, validator)
    if isinstance(parsed, Rejection):
        return parsed
    if parsed.batch:
        return Rejection("", "a message must hold one event, not an array")
    return parsed.events[0]


def _validated(
    events: list[dict[str, Any]], *, batch: bool, validator: EventValidator | None
) -> ParsedBody | Rejection:
    checker = validator or foreign_event_validator()  # other producers: uri not checked
    for index, event in enumerate(events):
        problems = checker.errors(event)
        if problems:
            first = problems[0]
            prefix = f"[{index}]" if batch else ""
            field = f"{prefix}.{first.path}" if prefix and first.path else prefix + first.path
            return Rejection(field, str(first))
    return ParsedBody(events=events, batch=batch)


def _depth_exceeds(document: Any, limit: int) -> bool:
    # Iterative, so checking depth cannot itself hit the recursion limit.
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False
