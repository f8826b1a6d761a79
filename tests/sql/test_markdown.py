"""SQL in a Markdown code block (``MetadataValue.md("```sql ...```")``): the fence is not SQL."""

from __future__ import annotations

import dagster as dg
import pytest

from ol_bridge.dagster.metadata import sql_text
from ol_bridge.sql.markdown import unfenced_sql


@pytest.mark.parametrize(
    ("text", "sql"),
    [
        ("```sql\nselect 1\n```", "select 1"),
        ("```\nselect a\nfrom t\n```", "select a\nfrom t"),
        ("  \n```duckdb\nselect 1\n```\n  ", "select 1"),
        ("```SQL  \r\nselect 1\r\n```\r\n", "select 1"),
        ("~~~sql\nselect 1\n~~~", "select 1"),
        ("````sql\nselect '```' as fence\n````", "select '```' as fence"),
        ("select 1", "select 1"),
        # several blocks, or prose around one: left as written (the parser reports it)
        ("```sql\nselect 1\n```\n```sql\nselect 2\n```", None),
        ("Rebuilds the table:\n```sql\nselect 1\n```", None),
    ],
)
def test_a_surrounding_fence_is_removed(text: str, sql: str | None) -> None:
    assert unfenced_sql(text) == (text if sql is None else sql)


def test_metadata_sql_comes_without_its_fence() -> None:
    fenced = dg.MetadataValue.md("```sql\ninsert into t select * from s\n```")
    assert sql_text({"Query": fenced}) == "insert into t select * from s"
    assert sql_text({"dagster/sql": "```sql\n```", "Query": "select 2"}) == "select 2"
