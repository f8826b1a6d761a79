"""Why an asset got the fallback name reaches the logger the sensor hands the catalog."""

from __future__ import annotations

import logging

import dagster as dg

from ol_bridge.dagster.catalog import AssetCatalog


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_the_reason_goes_to_the_given_logger_once() -> None:
    logger = logging.getLogger("test_fallback_explained.context_log")
    lines = _Lines()
    logger.addHandler(lines)
    logger.propagate = False
    try:
        catalog = AssetCatalog(None, None, logger)
        key = dg.AssetKey(["elsewhere", "raw_events_for_fallback_test"])
        metadata = {"dagster/table_name": "wh.main.raw_events"}  # a table, but no platform
        catalog.explain_fallback(key, metadata, "dagster / elsewhere/raw_events")
        catalog.explain_fallback(key, metadata, "dagster / elsewhere/raw_events")
    finally:
        logger.removeHandler(lines)
    assert len(lines.records) == 1
    message = lines.records[0].getMessage()
    assert "elsewhere/raw_events_for_fallback_test" in message
    assert "dagster/storage_kind" in message
