"""Request bodies to validated OpenLineage events, or the reason they are refused (pure).

Everything a client can get wrong ends here as a :class:`Rejection` (status 400, the
field at fault, a message), never as an exception the server would turn into a 500:
bytes that are not UTF-8, JSON that is not JSON, ``NaN``, integers too long for Python to
convert, nesting deep enough to exhaust the recursion limit, text no destination can
encode (a lone UTF-16 surrogate such as ``"\\ud800"``), names longer than
:data:`MAX_NAME_CHARS`, and schema violations.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from typing import Any, Protocol

import attrs

from ol_bridge.errors import EventValidationError
from ol_bridge.validation import format_path


class EventChecker(Protocol):
    """What validates events here: ``EventValidator`` or ``FastEventValidator``."""

    def errors(self, event: Any) -> list[EventValidationError]: ...


@functools.cache
def default_checker() -> EventChecker:
    """The receiver's validator for other producers' events (built on first use)."""
    from ol_bridge.server.schema_check import FastEventValidator

    return FastEventValidator()


#: Deeper documents are refused before validation (real events nest well under 20).
MAX_DEPTH = 64
#: Most events one request may carry.
MAX_BATCH = 10_000
#: Longest job or dataset namespace or name. Each is repeated in several URNs and aspects
#: (a 3.9 MiB job name made a 16.8 MB proposal, over GMS's 15 MB limit); real names are
#: paths and table names, far shorter.
MAX_NAME_CHARS = 4096
#: a JSON escape of a UTF-16 surrogate: only such escapes can make text UTF-8 cannot encode
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


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


def parse_body(body: bytes, validator: EventChecker | None = None) -> ParsedBody | Rejection:
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
    surrogates = _SURROGATE_ESCAPE.search(text) is not None
    if isinstance(document, dict):
        return _validated([document], batch=False, validator=validator, surrogates=surrogates)
    if isinstance(document, list):
        if not document:
            return Rejection("", "the batch is an empty array; send at least one event")
        if len(document) > MAX_BATCH:
            return Rejection("", f"a batch holds at most {MAX_BATCH} events")
        for index, item in enumerate(document):
            if not isinstance(item, dict):
                return Rejection(f"[{index}]", "each batch item must be an event object")
        return _validated(document, batch=True, validator=validator, surrogates=surrogates)
    return Rejection("", "the body must be an event object or a JSON array of events")


def parse_event(data: bytes, validator: EventChecker | None = None) -> dict[str, Any] | Rejection:
    """One event from one Kafka message value (what openlineage-python's ``kafka`` sends)."""
    parsed = parse_body(data, validator)
    if isinstance(parsed, Rejection):
        return parsed
    if parsed.batch:
        return Rejection("", "a message must hold one event, not an array")
    return parsed.events[0]


def _validated(
    events: list[dict[str, Any]],
    *,
    batch: bool,
    validator: EventChecker | None,
    surrogates: bool,
) -> ParsedBody | Rejection:
    checker = validator or default_checker()  # other producers: uri not checked
    for index, event in enumerate(events):
        prefix = f"[{index}]" if batch else ""
        problems = checker.errors(event)
        if problems:
            first = problems[0]
            return Rejection(_joined(prefix, first.path), str(first))
        refused = _unwritable(event, surrogates)
        if refused is not None:
            return Rejection(_joined(prefix, refused.field), refused.message)
    return ParsedBody(events=events, batch=batch)


def _joined(prefix: str, path: str) -> str:
    return f"{prefix}.{path}" if prefix and path and not path.startswith("[") else prefix + path


def _unwritable(event: dict[str, Any], surrogates: bool) -> Rejection | None:
    """Names too long to store, or text with a lone surrogate, which no UTF-8 destination
    (DataHub, a relay, the outbox) can encode: refused now, not failing forever later."""
    named: list[tuple[tuple[str | int, ...], Any]] = [(("job",), event.get("job"))]
    named.append((("dataset",), event.get("dataset")))
    for side in ("inputs", "outputs"):
        datasets = event.get(side)
        for index, dataset in enumerate(datasets if isinstance(datasets, list) else []):
            named.append(((side, index), dataset))
    for path, holder in named:
        if not isinstance(holder, dict):
            continue
        for key in ("namespace", "name"):
            value = holder.get(key)
            if isinstance(value, str) and len(value) > MAX_NAME_CHARS:
                return Rejection(
                    format_path((*path, key)),
                    f"is {len(value)} characters long; ol-bridge takes names of at most "
                    f"{MAX_NAME_CHARS}",
                )
    surrogate = _lone_surrogate(event, ()) if surrogates else None
    if surrogate is not None:
        return Rejection(
            format_path(surrogate),
            "holds a lone UTF-16 surrogate (an escape such as \\ud800 without its pair), "
            "which is not text any destination can store; send valid Unicode",
        )
    return None


def _lone_surrogate(node: Any, path: tuple[str | int, ...]) -> tuple[str | int, ...] | None:
    """The path of the first string (or key) that cannot be encoded as UTF-8."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(node, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if not item.isascii() and not _encodable(item):
                return where
        elif isinstance(item, dict):
            for key, value in item.items():
                if not key.isascii() and not _encodable(key):
                    return (*where, key)
                stack.append((value, (*where, key)))
        elif isinstance(item, list):
            stack.extend((value, (*where, index)) for index, value in enumerate(item))
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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
