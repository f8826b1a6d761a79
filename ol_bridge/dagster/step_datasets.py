"""What a step's lineage builder has found so far: a draft per dataset, SQL, errors.

``lineage.py`` collects a step's inputs and outputs into these drafts (facets merged per
dataset from every source) and ``step_sql.py`` adds what parsed SQL says; the builder then
turns them into the step's ``StepLineage``.
"""

from __future__ import annotations

from typing import Any

import attrs
from openlineage.client.facet_v2 import extraction_error_run

from ol_bridge.naming import DatasetId


@attrs.define
class DatasetDraft:
    dataset: DatasetId
    facets: dict[str, Any] = attrs.field(factory=dict)
    output_facets: dict[str, Any] = attrs.field(factory=dict)
    input_facets: dict[str, Any] = attrs.field(factory=dict)


@attrs.define
class LineageDrafts:
    inputs: dict[DatasetId, DatasetDraft] = attrs.field(factory=dict)
    outputs: dict[DatasetId, DatasetDraft] = attrs.field(factory=dict)
    sql: list[tuple[str, str | None]] = attrs.field(factory=list)
    errors: list[extraction_error_run.Error] = attrs.field(factory=list)

    def input(self, dataset: DatasetId) -> DatasetDraft:
        return self.inputs.setdefault(dataset, DatasetDraft(dataset))

    def output(self, dataset: DatasetId) -> DatasetDraft:
        return self.outputs.setdefault(dataset, DatasetDraft(dataset))
