"""``schema_json``: aspects to GMS JSON and patched JSON normalized, as acryl-datahub does.

Equality with acryl-datahub's own serialization on every corpus aspect is checked by
``test_aspect_json.py`` (``aspect_json`` is ``aspect_to_json``) and, for patched aspects, by
``test_lite_bulk.py`` (the Lite sink stores ``normalize_json``'s output; every row must equal
what Lite's own ``write`` stores). Here: the round trip on hand-picked shapes, and the
errors that replace avrogen's ``validate()``.
"""

from __future__ import annotations

from typing import Any

import pytest
from datahub.emitter.serialization_helper import post_json_transform, pre_json_transform
from datahub.metadata.schema_classes import (
    DataJobInfoClass,
    DataJobInputOutputClass,
    OwnershipClass,
    SchemaMetadataClass,
)

from ol_bridge.datahub.schema_json import SchemaJsonError, aspect_to_json, normalize_json

SHAPES: list[tuple[type[Any], dict[str, Any]]] = [
    # a union of a string and an enum: "SQL" is both, avrogen writes the enum
    (DataJobInfoClass, {"name": "j", "type": "SQL", "customProperties": {}}),
    (DataJobInfoClass, {"name": "j", "type": {"string": "BATCH"}}),
    # defaults filled, edges' optional members dropped when null
    (
        DataJobInputOutputClass,
        {
            "inputDatasets": [],
            "outputDatasets": [],
            "inputDatasetEdges": [
                {"destinationUrn": "urn:li:dataset:(urn:li:dataPlatform:x,a,PROD)", "x": None}
            ],
        },
    ),
    (OwnershipClass, {"owners": [{"owner": "urn:li:corpuser:a", "type": "DATAOWNER"}]}),
    (
        SchemaMetadataClass,
        {
            "schemaName": "",
            "platform": "urn:li:dataPlatform:x",
            "version": 1,
            "hash": "",
            "platformSchema": {"com.linkedin.schema.OtherSchema": {"rawSchema": "[]"}},
            "fields": [
                {
                    "fieldPath": "a",
                    "nativeDataType": "int",
                    "type": {"type": {"com.linkedin.schema.NumberType": {}}},
                }
            ],
        },
    ),
]


@pytest.mark.parametrize(("aspect_class", "value"), SHAPES)
def test_normalized_json_is_what_acryl_datahub_stores(
    aspect_class: type[Any], value: dict[str, Any]
) -> None:
    typed = aspect_class.from_obj(post_json_transform(value))
    assert typed.validate()
    want = pre_json_transform(typed.to_obj())
    assert normalize_json(aspect_class, value) == want
    assert aspect_to_json(typed) == want


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"owners": [{"type": "DATAOWNER"}]}, r"owners\[\]\.owner is required"),
        ({"owners": [{"owner": "urn:li:corpuser:a", "type": "BOSS"}]}, "not a valid enum"),
        ({"owners": "alice"}, "is not an array"),
    ],
)
def test_values_the_schema_rejects_say_where(value: dict[str, Any], message: str) -> None:
    with pytest.raises(SchemaJsonError, match=message):
        normalize_json(OwnershipClass, value)
