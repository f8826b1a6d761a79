"""Which OpenLineage job of a step each of its artifacts belongs to. Pure.

A step's attempt becomes one event for the step itself and, on its end, one event per
asset of a multi-asset step and one per asset whose checks it evaluated without being a
check step (see docs/dagster-mapping.md, "Several assets in one step").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from dagster import AssetKey, DagsterEvent, DagsterEventType

from ol_bridge.dagster.checks import observed_dbt_test
from ol_bridge.dagster.run_info import StepInfo

#: what an IO manager hands from one op to the next
_HANDOFF_TYPES = frozenset({DagsterEventType.HANDLED_OUTPUT, DagsterEventType.LOADED_INPUT})


@attrs.frozen
class StepParts:
    #: artifacts the step's own event describes
    step: tuple[DagsterEvent, ...] = ()
    #: a multi-asset step's materializations, by asset, in event-log order
    assets: Mapping[AssetKey, tuple[DagsterEvent, ...]] = attrs.field(factory=dict)
    #: check evaluations of a step that is not a check step, by checked asset
    checks: Mapping[AssetKey, tuple[Any, ...]] = attrs.field(factory=dict)


def split_artifacts(step: StepInfo, artifacts: Sequence[DagsterEvent]) -> StepParts:
    """Assign each artifact of ``step``'s attempt to the job that describes it.

    - A multi-asset step's materializations go to their asset's own job, so each asset
      carries its own upstreams, schema and statistics.
    - Check evaluations of any step but a check step go to a checks job per checked asset:
      the asset is that step's output, and an assertion belongs on an input
      (``dataQualityAssertions`` is an input facet), which must not also be the output.
      So do dbt tests dagster-dbt reports as observations (dbt source tests by default).
    - The IO-manager hand-offs of an op inside a graph-backed asset are left out: they are
      the asset's internal plumbing (often a per-run file), not datasets anyone reads.
    """
    own: list[DagsterEvent] = []
    assets: dict[AssetKey, list[DagsterEvent]] = {}
    checks: dict[AssetKey, list[Any]] = {}
    for event in artifacts:
        data = event.event_specific_data
        if event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION and not step.is_check_step:
            checks.setdefault(data.asset_key, []).append(data)  # type: ignore[union-attr]
        elif event.event_type == DagsterEventType.ASSET_OBSERVATION and (
            test := observed_dbt_test(data.asset_observation)  # type: ignore[union-attr]
        ):
            checks.setdefault(test.asset_key, []).append(test)
        elif event.event_type == DagsterEventType.ASSET_MATERIALIZATION and step.multi_asset:
            key = data.materialization.asset_key  # type: ignore[union-attr]
            assets.setdefault(key, []).append(event)
        elif step.inside_graph_asset and event.event_type in _HANDOFF_TYPES:
            continue
        else:
            own.append(event)
    return StepParts(
        step=tuple(own),
        assets={key: tuple(events) for key, events in assets.items()},
        checks={key: tuple(evaluations) for key, evaluations in checks.items()},
    )
