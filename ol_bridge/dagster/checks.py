"""Asset check evaluations as OpenLineage ``dataQualityAssertions`` entries. Pure.

Every evaluation becomes one assertion, whichever step evaluated it: its check name (as
``assertion`` and ``name``), its success, its severity (``error`` / ``warn``) and its
description. A dbt test (dagster-dbt records its ``unique_id``) also says what kind of test
it is (``params.kind``: ``not_null``, ``unique``) with its arguments (``params.arguments``),
which column it checks, its configured severity and, when the compiled SQL is at hand, the
query it ran. dbt tests that dagster-dbt reports as asset observations instead of checks
(source tests by default, tests picked by dbt's indirect selection) are assertions too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from dagster import AssetKey
from openlineage.client.facet_v2 import data_quality_assertions_dataset

from ol_bridge.dagster import dbt
from ol_bridge.dagster import metadata as md
from ol_bridge.dagster.catalog import AssetCatalog
from ol_bridge.dagster.text import MAX_SQL_CHARS, clean_text

#: dbt node statuses of a test that found nothing wrong
_PASSED = frozenset({"pass", "success"})


@attrs.frozen
class ObservedDbtTest:
    """A dbt test dagster-dbt logged as an ``AssetObservation`` of a tested asset; shaped
    like an ``AssetCheckEvaluation`` for :func:`assertion_of`."""

    asset_key: AssetKey
    check_name: str
    passed: bool
    metadata: Mapping[str, Any]
    description: str | None = None
    severity: None = None


def observed_dbt_test(observation: Any) -> ObservedDbtTest | None:
    """The dbt test an ``AssetObservation`` reports, if it reports one."""
    metadata = dict(observation.metadata or {})
    unique_id = dbt.run_unique_id(metadata)
    if unique_id is None or not unique_id.startswith("test."):
        return None
    status = md.plain(metadata.get("status"))
    return ObservedDbtTest(
        asset_key=observation.asset_key,
        check_name=dbt.test_name(unique_id),
        passed=isinstance(status, str) and status.lower() in _PASSED,
        metadata=metadata,
    )


def assertion_of(
    evaluation: Any,
    dagster_run_id: str,
    catalog: AssetCatalog,
    step_assets: Sequence[AssetKey] = (),
) -> data_quality_assertions_dataset.Assertion:
    """The assertion of one ``AssetCheckEvaluation`` (or :class:`ObservedDbtTest`);
    ``step_assets``, the assets of the step that evaluated it, lead to the dbt manifest
    when the checked asset is not a dbt node itself (a dbt source)."""
    check_severity = getattr(evaluation, "severity", None)
    severity = str(check_severity.value).lower() if check_severity is not None else None
    description = evaluation.description or catalog.check_description(
        evaluation.asset_key, evaluation.check_name
    )
    column: str | None = None
    content: str | None = None
    params: dict[str, Any] = {}
    test = _dbt_test(evaluation, dagster_run_id, catalog, step_assets)
    if test is not None:
        column = test.column
        params = {"kind": test.kind, **({"arguments": test.arguments} if test.arguments else {})}
        description = description or test.description
        content = clean_text(test.sql, MAX_SQL_CHARS) if test.sql else None
        # dagster-dbt says WARN only for a test that failed with severity warn
        severity = test.severity or severity
    # ``assertion`` is the check's own name (a dbt test's unique name), not its kind: DataHub
    # keys an assertion by (dataset, column, assertion), so two tests of one kind on one
    # column (two ``accepted_values``) would otherwise be one assertion, one result hiding
    # the other's. The kind travels in ``params``.
    return data_quality_assertions_dataset.Assertion(
        assertion=evaluation.check_name,
        success=bool(evaluation.passed),
        column=column,
        severity=severity,
        name=evaluation.check_name,
        description=clean_text(description) if description else None,
        content=content,
        contentType="sql" if content else None,
        params=params,
    )


def _dbt_test(
    evaluation: Any, dagster_run_id: str, catalog: AssetCatalog, step_assets: Sequence[AssetKey]
) -> dbt.DbtTest | None:
    metadata = dict(evaluation.metadata or {})
    test_id = dbt.run_unique_id(metadata)
    if test_id is None or not test_id.startswith("test."):
        return None
    for key in (evaluation.asset_key, *step_assets):
        description = catalog.describe(key)
        node = dbt.dbt_node(description.metadata) if description is not None else None
        if node is not None and node.node(test_id):
            return dbt.dbt_test(node, test_id, dagster_run_id, dbt.run_invocation_id(metadata))
    return None
