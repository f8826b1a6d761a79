"""The fast schema check agrees with the reference validator: it never accepts an event
the reference refuses, and refusals carry the reference's messages."""

from __future__ import annotations

import os
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ol_bridge.datahub.sinks.file import FileSink
from ol_bridge.server.schema_check import FastEventValidator
from ol_bridge.validation import foreign_event_validator
from tests.server.test_fuzz import TARGETS, _event, _mutate, json_values

FAST = FastEventValidator()
REFERENCE = foreign_event_validator()


def test_valid_events_pass_both() -> None:
    for which in range(4):
        assert FAST.is_valid(_event(which))
        assert FAST.errors(_event(which)) == [] == REFERENCE.errors(_event(which))


@settings(max_examples=400, deadline=None, database=None)
@given(
    which=st.integers(min_value=0, max_value=3),
    path=st.sampled_from(TARGETS),
    value=json_values,
    delete=st.booleans(),
)
def test_fast_never_accepts_what_the_reference_refuses(
    which: int, path: tuple[Any, ...], value: Any, delete: bool
) -> None:
    event = _mutate(_event(which), path, value, delete)
    reference = REFERENCE.errors(event)
    if isinstance(event, dict) and FAST.is_valid(event):
        assert reference == []
    assert [str(e) for e in FAST.errors(event)] == [str(e) for e in reference]


def test_the_file_sink_writes_files_with_the_usual_mode(tmp_path: Any) -> None:
    """Issue 17: the file sink left its file 0600 (mkstemp's mode)."""
    umask = os.umask(0o022)
    try:
        sink = FileSink(str(tmp_path / "mcps.json"))
        sink.write([])
        sink._dirty = True
        sink.flush()
    finally:
        os.umask(umask)
    assert (tmp_path / "mcps.json").stat().st_mode & 0o777 == 0o644
