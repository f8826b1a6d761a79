"""The browse-index edges ol-bridge works out itself are the ones DataHub Lite's own hooks
make, entity kind by entity kind, and anything it does not handle goes to those hooks.

Reference: acryl-datahub's ``global_post_update_hook`` / ``post_update_hook`` run on an
:class:`EdgeRecorder` with our rules switched off (``own_rules=False``).
"""

from __future__ import annotations

from typing import Any

import pytest
from datahub.metadata.schema_classes import (
    ContainerClass,
    ContainerPropertiesClass,
    DataPlatformInstanceClass,
    DatasetPropertiesClass,
    SubTypesClass,
    TagPropertiesClass,
)
from datahub.utilities.urns.error import InvalidUrnError

from ol_bridge.datahub.sinks import lite_index
from ol_bridge.datahub.sinks.lite_bulk import EdgeRecorder

DUCK = "urn:li:dataset:(urn:li:dataPlatform:duckdb,shop.main.orders,PROD)"
FLOW = "urn:li:dataFlow:(dagster,shop_job,prod)"
JOB = f"urn:li:dataJob:({FLOW},orders)"
CONTAINER = "urn:li:container:0f3a5c"
INSTANCE = "urn:li:dataPlatformInstance:(urn:li:dataPlatform:postgres,warehouse)"


def _instance(platform: str, instance: str | None = None) -> DataPlatformInstanceClass:
    return DataPlatformInstanceClass(platform=f"urn:li:dataPlatform:{platform}", instance=instance)


ENTITIES: list[tuple[str, str, dict[str, Any]]] = [
    ("dataset on its platform", DUCK, {}),
    ("dataset with subtypes", DUCK, {"subTypes": SubTypesClass(typeNames=["Table", "View"])}),
    ("dataset in a container", DUCK, {"container": ContainerClass(container=CONTAINER)}),
    ("dataset with an instance", DUCK, {"dataPlatformInstance": _instance("duckdb")}),
    ("dataset with a named instance", DUCK, {"dataPlatformInstance": _instance("duckdb", "prod")}),
    (
        "dataset with an instance URN",
        "urn:li:dataset:(urn:li:dataPlatform:postgres,shop.public.orders,PROD)",
        {"dataPlatformInstance": _instance("postgres", INSTANCE)},
    ),
    ("s3 dataset", "urn:li:dataset:(urn:li:dataPlatform:s3,bucket/key,PROD)", {}),
    ("dbt dataset", "urn:li:dataset:(urn:li:dataPlatform:dbt,shop.main.orders,PROD)", {}),
    ("unknown platform", "urn:li:dataset:(urn:li:dataPlatform:my-tool_2,a.b,DEV)", {}),
    ("pipeline", FLOW, {}),
    ("task", JOB, {}),
    ("task with subtypes", JOB, {"subTypes": SubTypesClass(typeNames=["Asset"])}),
    ("container", CONTAINER, {"dataPlatformInstance": _instance("snowflake")}),
    ("chart", "urn:li:chart:(looker,dashboard_elements.12)", {}),
    ("dashboard", "urn:li:dashboard:(superset,7)", {}),
    ("tag", "urn:li:tag:pii", {}),
    ("run", "urn:li:dataProcessInstance:4a5b6c", {}),
    ("assertion", "urn:li:assertion:9d8e7f", {"subTypes": SubTypesClass(typeNames=[])}),
    # not plain: our rules hand these to Lite's hook
    ("encoded platform", "urn:li:dataset:(urn:li:dataPlatform:my%20tool,a.b,PROD)", {}),
    ("chart of an odd tool", "urn:li:chart:(my tool,12)", {}),
    (
        "dataset instance with parentheses",
        DUCK,
        {"dataPlatformInstance": _instance("duckdb", "a(b")},
    ),
]


def _edges(own_rules: bool, urn: str, aspects: dict[str, Any]) -> list[tuple[Any, ...]]:
    recorder = EdgeRecorder(own_rules=own_rules)
    for name, aspect in aspects.items():
        recorder.post_update_hook(urn, name, aspect)
    recorder.global_post_update_hook(urn, aspects)
    return recorder.ops


@pytest.mark.parametrize(
    ("urn", "aspects"), [e[1:] for e in ENTITIES], ids=[e[0] for e in ENTITIES]
)
def test_own_rules_make_lites_edges(urn: str, aspects: dict[str, Any]) -> None:
    assert _edges(True, urn, aspects) == _edges(False, urn, aspects)


def test_aspects_with_names_make_lites_edges() -> None:
    aspects = {
        "datasetProperties": DatasetPropertiesClass(name="orders"),
        "containerProperties": ContainerPropertiesClass(name="main"),
        "tagProperties": TagPropertiesClass(name="pii"),
        "dataPlatformInstance": _instance("bigquery", "project_1"),
    }
    assert _edges(True, DUCK, aspects) == _edges(False, DUCK, aspects)


def test_the_plain_entities_are_handled_by_our_rules() -> None:
    """Our rules answer for the URNs ol-bridge writes (None would mean Lite's hook did the
    work, and the comparisons above would prove nothing about ours)."""
    category = EdgeRecorder().category_of
    handled = [
        e for e in ENTITIES[:18] if lite_index.entity_edges(e[1], e[2], category) is not None
    ]
    assert len(handled) == 18
    odd = [lite_index.entity_edges(e[1], e[2], category) for e in ENTITIES[18:]]
    assert odd == [None, None, None]


#: URNs DataHub's URN classes refuse: Lite's hook raises for them, and so must a write
#: through our rules (not quietly index an entity Lite would not take)
REFUSED = [
    "urn:li:dataFlow:(dagster,shop)",
    "urn:li:dataset:(postgres,orders,PROD)",
    "urn:li:dataJob:(urn:li:dataFlow:(dagster,shop,prod),a,b)",
    "urn:li:dataset:(urn:li:dataPlatform:postgres,t(x),PROD)",
    "urn:li:dataset:(urn:li:dataPlatform:postgres,orders,PROD) ",
]


@pytest.mark.parametrize("urn", REFUSED)
@pytest.mark.parametrize(
    "aspects",
    [{}, {"container": ContainerClass(container=CONTAINER)}],
    ids=["no aspects", "in a container"],
)
def test_urns_lite_refuses_are_refused_the_same_way(urn: str, aspects: dict[str, Any]) -> None:
    assert lite_index.entity_edges(urn, aspects, EdgeRecorder().category_of) is None
    with pytest.raises(InvalidUrnError) as ours:
        _edges(True, urn, aspects)
    with pytest.raises(InvalidUrnError) as lites:
        _edges(False, urn, aspects)
    assert str(ours.value) == str(lites.value)


@pytest.mark.parametrize(
    "urn",
    [
        "urn:li:dataset:(a,,b)",
        "urn:li:dataset:()",
        "urn:li::x",
        "urn:x:dataset:y",
        "urn:li:x:(a,(b)",
    ],
)
def test_malformed_urns_are_left_to_lite(urn: str) -> None:
    assert lite_index.parse_urn(urn) is None
