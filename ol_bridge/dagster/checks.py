"""Asset check evaluations as OpenLineage ``dataQualityAssertions`` entries. Pure.

Every evaluation becomes one assertion, whichever step evaluated it: its check name, its
success, its severity (``error`` / ``warn``) and its description. A dbt test (dagster-dbt
records its ``unique_id``) also says what kind of test it is (``not_null``, ``unique``),
which column it checks and, when the compiled SQL is at hand, the query it ran.
"""

from __future__ import annotations

from typing import Any

from openlineage.client.facet_v2 import data_quality_assertions_dataset

from ol_bridge.dagster import dbt
from ol_bridge.dagster.catalog import AssetCatalog
from ol_bridge.dagster.text import MAX_SQL_CHARS, clean_text


def assertion_of(
    evaluation: Any, dagster_run_id: str, catalog: AssetCatalog
) -> data_quality_assertions_dataset.Assertion:
    """The assertion of one ``AssetCheckEvaluation``."""
    severity = getattr(evaluation, "severity", None)
    description = evaluation.description or catalog.check_description(
        evaluation.asset_key, evaluation.check_name
    )
    kind: str = evaluation.check_name
    column: str | None = None
    content: str | None = None
    test = _dbt_test(evaluation, dagster_run_id, catalog)
    if test is not None:
        kind, column = test.kind, test.column
        description = description or test.description
        content = clean_text(test.sql, MAX_SQL_CHARS) if test.sql else None
    return data_quality_assertions_dataset.Assertion(
        assertion=kind,
        success=bool(evaluation.passed),
        column=column,
        severity=str(severity.value).lower() if severity is not None else None,
        name=evaluation.check_name,
        description=clean_text(description) if description else None,
        content=content,
        contentType="sql" if content else None,
    )


def _dbt_test(evaluation: Any, dagster_run_id: str, catalog: AssetCatalog) -> dbt.DbtTest | None:
    metadata = dict(evaluation.metadata or {})
    test_id = dbt.run_unique_id(metadata)
    if test_id is None or not test_id.startswith("test."):
        return None
    description = catalog.describe(evaluation.asset_key)
    node = dbt.dbt_node(description.metadata) if description is not None else None
    if node is None:
        return None
    return dbt.dbt_test(node, test_id, dagster_run_id, dbt.run_invocation_id(metadata))
