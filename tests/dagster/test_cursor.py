from __future__ import annotations

import logging

import pytest

from ol_bridge.dagster.cursor import OpenStep, RunProgress, SensorCursor


def test_round_trip() -> None:
    cursor = SensorCursor(
        status_after={"RUN_START": 12, "RUN_FAILURE": 3},
        runs={"r1": RunProgress(after=40, open_steps={"a": OpenStep(33, 2, running=False)})},
        start_after_timestamp=1700000000.5,
    )
    assert SensorCursor.from_json(cursor.to_json()) == cursor


@pytest.mark.parametrize(
    "text", ["not json", '{"v": 99}', '{"v": 1, "runs": {"r": {"steps": {"a": [1]}}}}', "[]"]
)
def test_unreadable_cursor_restarts_with_a_warning(
    text: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        assert SensorCursor.from_json(text) is None
    assert "could not be read" in caplog.text


def test_empty_cursor_is_none() -> None:
    assert SensorCursor.from_json(None) is None
    assert SensorCursor.from_json("") is None
