"""A DataHub aspect as the JSON GMS and DataHub Lite store, without avrogen's schema walks.

acryl-datahub serializes an aspect with ``pre_json_transform(aspect.to_obj())``; avrogen's
``to_obj`` validates the whole object against the Avro schema, then converts it generically,
then the JSON is walked again. The converter builds its aspects from acryl-datahub's typed
classes, so :mod:`ol_bridge.datahub.schema_json` serializes them with functions compiled
once per schema instead (7x faster); ``tests/datahub/test_aspect_json.py`` checks the result
equals ``to_obj``'s on every aspect the converter makes for the corpora. Input that did not
come from typed constructors (a patched aspect) is normalized and checked by
``schema_json.normalize_json``.
"""

from __future__ import annotations

import json
from typing import Any

from datahub.emitter.aspect import JSON_CONTENT_TYPE
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata.schema_classes import GenericAspectClass, MetadataChangeProposalClass

from ol_bridge._compat.datahub import Aspect, is_aspect
from ol_bridge.datahub.schema_json import aspect_to_json


def aspect_json(aspect: Aspect) -> Any:
    """``pre_json_transform(aspect.to_obj())``, compiled (``schema_json.aspect_to_json``)."""
    return aspect_to_json(aspect)


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
