"""Reading an OpenLineage event: dict or openlineage-python object in, checked plain data out.

The converter works on the JSON shape of the event (what arrives over HTTP), so objects from
``openlineage.client.event_v2`` are serialized once with openlineage-python's own ``Serde``.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs
from openlineage.client.serde import Serde

from ol_bridge.errors import ConversionError

JsonDict = dict[str, Any]
EMPTY: Mapping[str, Any] = {}

_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
    r"(Z|[+-]\d{2}:?\d{2}|[+-]\d{2})?$"
)
_EPOCH_ORDINAL = datetime(1970, 1, 1).toordinal()
#: the UTC instants a datetime can hold, in seconds since the epoch
_MIN_SECONDS = (datetime.min.toordinal() - _EPOCH_ORDINAL) * 86400
_MAX_SECONDS = (datetime.max.toordinal() - _EPOCH_ORDINAL) * 86400 + 86399


@attrs.frozen
class OlTime:
    """An OL timestamp with the precision and offset it was written with."""

    local: datetime  # wall time at ``offset_seconds``, no tzinfo, no sub-second part
    nanos: int
    offset_seconds: int

    @property
    def epoch_millis(self) -> int:
        """Milliseconds since the epoch, truncated like Java's ``Instant.toEpochMilli``."""
        local = self.local  # whole seconds: integer arithmetic is exact (and cheaper)
        days = local.toordinal() - _EPOCH_ORDINAL
        seconds = days * 86400 + local.hour * 3600 + local.minute * 60 + local.second
        utc_seconds = seconds - self.offset_seconds
        if not _MIN_SECONDS <= utc_seconds <= _MAX_SECONDS:
            # what datetime arithmetic raised here, so such an event fails as it did
            raise OverflowError("date value out of range")
        return utc_seconds * 1000 + self.nanos // 1_000_000

    def java_string(self) -> str:
        """Render as Java's ``ZonedDateTime.toString()`` does (DataHub stores that text)."""
        text = self.local.strftime("%Y-%m-%dT%H:%M")
        if self.local.second or self.nanos:
            text += f":{self.local.second:02d}"
        if self.nanos:
            if self.nanos % 1_000_000 == 0:
                text += f".{self.nanos // 1_000_000:03d}"
            elif self.nanos % 1000 == 0:
                text += f".{self.nanos // 1000:06d}"
            else:
                text += f".{self.nanos:09d}"
        if self.offset_seconds == 0:
            return text + "Z"
        sign = "+" if self.offset_seconds > 0 else "-"
        hours, minutes = divmod(abs(self.offset_seconds) // 60, 60)
        return f"{text}{sign}{hours:02d}:{minutes:02d}"


def parse_time(value: object, field: str) -> OlTime:
    """Parse an ISO-8601 timestamp as OpenLineage writes it (any fraction, ``Z`` or offset)."""
    match = _ISO.match(value) if isinstance(value, str) else None
    if match is None:
        raise ConversionError(
            f"{field}={value!r} is not an ISO-8601 date-time; send e.g. '2024-01-01T00:00:00Z'"
        )
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    local = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
    nanos = int((fraction or "").ljust(9, "0")) if fraction else 0
    offset = 0
    if zone and zone != "Z":
        digits = zone[1:].replace(":", "")
        offset = int(digits[:2]) * 3600 + int(digits[2:4] or 0) * 60
        offset = -offset if zone[0] == "-" else offset
    return OlTime(local=local, nanos=nanos, offset_seconds=offset)


def as_event_dict(event: object) -> JsonDict:
    """Return the JSON shape of an OL event given as a dict or an openlineage-python event."""
    if isinstance(event, Mapping):
        return event if isinstance(event, dict) else dict(event)
    if attrs.has(type(event)):
        return Serde.to_dict(event)
    raise ConversionError(
        f"cannot convert a {type(event).__name__}: pass an OpenLineage event as a dict or as "
        "an openlineage.client.event_v2 RunEvent/JobEvent/DatasetEvent"
    )


def check_run_id(run_id: object) -> str:
    """Return the run id, which the OL spec requires to be a UUID (DataHub rejects others)."""
    if not isinstance(run_id, str):
        raise ConversionError(f"run.runId={run_id!r} is missing or not a string; send a UUID")
    try:
        uuid.UUID(run_id)
    except ValueError:
        raise ConversionError(
            f"run.runId={run_id!r} is not a UUID; OpenLineage requires a UUID run id "
            "(e.g. uuid4, or uuid5 of your own run key)"
        ) from None
    return run_id


def mapping(value: object) -> Mapping[str, Any]:
    """``value`` if it is a JSON object, else an empty one (absent facets read as empty)."""
    if type(value) is dict:  # parsed JSON: skip the slower abstract-class check
        return value
    if value is None:  # an absent facet, the commonest case after a dict
        return EMPTY
    return value if isinstance(value, Mapping) else EMPTY


def text(value: object) -> str | None:
    """``value`` if it is a non-empty string."""
    return value if isinstance(value, str) and value else None


def java_string(value: object) -> str:
    """Render a JSON value as Java's ``toString`` would (DataHub's custom property values)."""
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[" + ", ".join(java_string(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}={java_string(v)}" for k, v in value.items()) + "}"
    return str(value)


def java_name_uuid(name: str) -> str:
    """Java's ``UUID.nameUUIDFromBytes(name.getBytes(UTF_8))``: an MD5-based version-3 UUID
    of the bytes alone (no namespace, unlike Python's ``uuid.uuid3``)."""
    digest = hashlib.md5(name.encode("utf-8"), usedforsecurity=False).digest()
    return str(uuid.UUID(bytes=digest, version=3))
