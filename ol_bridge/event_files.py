"""Files of OpenLineage events: one JSON object, a JSON array of objects, or JSON Lines.

One reader for every command that takes such files (``convert``, ``lineage``, ``demo``), so
they accept the same inputs and fail with the same ``file:line`` errors.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs

from ol_bridge.errors import EventInputError


@attrs.frozen
class SourcedEvent:
    """An event and where it came from, for error messages (``file:line`` or ``file[i]``)."""

    location: str
    event: dict[str, Any]


def parse_events(text: str, source: str) -> list[SourcedEvent]:
    """Events in ``text``: one JSON object, a JSON array of objects, or JSON Lines (pure).

    Raises :class:`EventInputError` naming ``source`` and the line or item at fault.
    """
    if not text.strip():
        raise EventInputError(f"{source}: empty input; expected OpenLineage events as JSON.")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as whole_error:
        return _parse_json_lines(text, source, whole_error)
    if isinstance(document, dict):
        return [SourcedEvent(source, document)]
    if isinstance(document, list):
        events = []
        for index, item in enumerate(document):
            if not isinstance(item, dict):
                raise EventInputError(
                    f"{source}[{index}]: expected an OpenLineage event (a JSON object), "
                    f"found {type(item).__name__}."
                )
            events.append(SourcedEvent(f"{source}[{index}]", item))
        return events
    raise EventInputError(
        f"{source}: expected a JSON object, an array of objects or JSON Lines, "
        f"found a JSON {type(document).__name__}."
    )


def _parse_json_lines(
    text: str, source: str, whole_error: json.JSONDecodeError
) -> list[SourcedEvent]:
    lines = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    events = []
    for number, line in lines:
        try:
            item = json.loads(line)
        except json.JSONDecodeError as line_error:
            # When the first line is not a JSON document by itself the input is most
            # likely one (pretty-printed) document, so that document's error is the
            # useful one.
            first = number == lines[0][0]
            error = whole_error if first else line_error
            at = whole_error.lineno if first else number
            raise EventInputError(
                f"{source}:{at}: invalid JSON ({error.msg}, column {error.colno}); "
                "expected a JSON object, an array of objects or one object per line."
            ) from None
        if not isinstance(item, dict):
            raise EventInputError(
                f"{source}:{number}: expected an OpenLineage event (a JSON object), "
                f"found {type(item).__name__}."
            )
        events.append(SourcedEvent(f"{source}:{number}", item))
    return events


def read_events_file(path: Path) -> list[dict[str, Any]]:
    """The events in the file at ``path``; ``EventInputError`` says where one is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise EventInputError(f"{path}: cannot read: {error}") from error
    return [sourced.event for sourced in parse_events(text, str(path))]
