"""A DataHub aspect as the JSON GMS and DataHub Lite store, without the second schema walk.

acryl-datahub serializes an aspect with ``pre_json_transform(aspect.to_obj())``; avrogen's
``to_obj`` first validates the whole object against the Avro schema, then converts it, and
the validation is most of the cost (every union member is tried). The converter builds its
aspects from acryl-datahub's typed classes, so the walk that only re-checks them is skipped
here: the conversion pass alone (:func:`ol_bridge._compat.datahub.unvalidated_to_obj`:
avrogen has no public "convert without validating");
``tests/datahub/test_aspect_json.py`` checks the result equals ``to_obj``'s on every aspect
the converter makes for the corpora. Input that did not come from typed constructors (a
patched aspect) is still validated by the caller.
"""

from __future__ import annotations

import json
from typing import Any

from datahub.emitter.aspect import JSON_CONTENT_TYPE
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.emitter.serialization_helper import pre_json_transform
from datahub.metadata.schema_classes import GenericAspectClass, MetadataChangeProposalClass

from ol_bridge._compat.datahub import Aspect, is_aspect, unvalidated_to_obj


def aspect_json(aspect: Aspect) -> Any:
    """``pre_json_transform(aspect.to_obj())`` without ``to_obj``'s validation pass."""
    return pre_json_transform(unvalidated_to_obj(aspect))


def serialized_proposal(mcp: MetadataChangeProposalWrapper) -> MetadataChangeProposalClass:
    """``mcp.make_mcp()``: the proposal with its aspect as JSON, serialized as above."""
    if not is_aspect(mcp.aspect) or mcp.entityKeyAspect is not None:
        return mcp.make_mcp()
    return MetadataChangeProposalClass(
        entityType=mcp.entityType,
        entityUrn=mcp.entityUrn,
        changeType=mcp.changeType,
        auditHeader=mcp.auditHeader,
        aspectName=mcp.aspectName,
        aspect=GenericAspectClass(
            value=json.dumps(aspect_json(mcp.aspect)).encode(), contentType=JSON_CONTENT_TYPE
        ),
        systemMetadata=mcp.systemMetadata,
        headers=mcp.headers,
    )
