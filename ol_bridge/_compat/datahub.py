"""acryl-datahub (and avrogen) internals with no public equivalent, in one module.

- :data:`Aspect`: the base class of every typed aspect. acryl-datahub exports it only as
  ``_Aspect``; it is imported here for annotations. Runtime checks use the public
  ``ASPECT_CLASSES`` (:func:`is_aspect`).
- :func:`close_lite_without_reindex`: ``DataHubLiteLocal.close()`` of a writable store
  re-derives every entity's browse edges (time proportional to everything stored, after
  every write); the Lite sink indexes what it wrote itself and closes the connection
  only, with the store's private ``_close_connection``.

- :func:`post_restli_batch` (issue 16): ``DataHubRestEmitter`` has no public call that posts
  a prebuilt ``ingestProposalBatch`` body; the REST sink builds the bodies ``emit_mcps``
  would (``datahub/sinks/restli_body.py``) and posts them with the emitter's private
  ``_emit_generic`` (its session, retries and errors). ``tests/datahub/test_restli_body.py``
  checks the requests equal ``emit_mcps``'s.

- :func:`upserts_of` (issue 16): ``MetadataChangeProposalWrapper.__post_init__`` guesses
  the entity type from the URN string and checks the aspect's name on every proposal; the
  converter makes ~20 per event for a handful of URNs, so it builds the same dataclass
  instances with the type guessed once per URN (what ``__post_init__`` would set).

- :func:`patch_proposal_of`: the PATCH ``MetadataChangeProposalClass`` (with its
  ``GenericAspectClass``) the converter writes several times per event, built as the same
  avrogen objects with their field dicts filled directly instead of through a property
  setter per field.

``tests/test_compat.py`` checks each against the installed acryl-datahub.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable
from typing import Any, TypeGuard

from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata.schema_classes import (
    ASPECT_CLASSES,
    ChangeTypeClass,
    GenericAspectClass,
    MetadataChangeProposalClass,
)
from datahub.metadata.schema_classes import _Aspect as Aspect
from datahub.utilities.urns.urn import guess_entity_type

_ASPECT_TYPES = frozenset(ASPECT_CLASSES)
#: every field of the wrapper with its default (all plain defaults; the test checks)
_WRAPPER_DEFAULTS = {
    field.name: field.default for field in dataclasses.fields(MetadataChangeProposalWrapper)
}


def is_aspect(value: object) -> TypeGuard[Aspect]:
    """Whether ``value`` is a typed DataHub aspect (``GlobalTagsClass``, ...)."""
    return type(value) in _ASPECT_TYPES


def close_lite_without_reindex(lite: Any) -> None:
    """Close a DataHub Lite store without its whole-store reindex (see the module)."""
    close_connection = getattr(lite, "_close_connection", None)
    if callable(close_connection):
        close_connection()
    else:  # a Lite without it (e.g. a forwarding wrapper): its own close is always correct
        lite.close()


def post_restli_batch(emitter: Any, body: str) -> None:
    """POST one ``ingestProposalBatch`` body through ``emitter`` as ``emit_mcps`` does."""
    emitter._emit_generic(f"{emitter._gms_server}/aspects?action=ingestProposalBatch", body)


def upserts_of(urn: str, aspects: Iterable[Aspect]) -> list[MetadataChangeProposalWrapper]:
    """``[MetadataChangeProposalWrapper(entityUrn=urn, aspect=a) for a in aspects]``: equal
    instances, field for field, without the per-proposal checks (see the module)."""
    shared = _shared_fields(urn)
    out = []
    for aspect in aspects:
        proposal = object.__new__(MetadataChangeProposalWrapper)
        fields = shared.copy()  # the cached dict itself is never handed out
        fields["aspectName"] = aspect.ASPECT_NAME
        fields["aspect"] = aspect
        proposal.__dict__ = fields
        out.append(proposal)
    return out


@functools.lru_cache(maxsize=8192)
def _shared_fields(urn: str) -> dict[str, Any]:
    # The fields every proposal of the URN shares, in the dataclass's order (replacing a
    # key keeps its place): the same few URNs come back on every event.
    return {
        **_WRAPPER_DEFAULTS,
        "entityType": guess_entity_type(urn),
        "changeType": ChangeTypeClass.UPSERT,
        "entityUrn": urn,
    }


def patch_proposal_of(
    entity_type: str, urn: str, aspect_name: str, value: bytes, content_type: str
) -> MetadataChangeProposalClass:
    """``MetadataChangeProposalClass(entityType=entity_type, entityUrn=urn,
    changeType=PATCH, aspectName=aspect_name, aspect=GenericAspectClass(value=value,
    contentType=content_type))``: equal objects, field for field (see the module)."""
    aspect = object.__new__(GenericAspectClass)
    aspect._inner_dict = {"value": value, "contentType": content_type}
    proposal = object.__new__(MetadataChangeProposalClass)
    # every field, in the order the constructor sets them
    proposal._inner_dict = {
        "auditHeader": None,
        "entityType": entity_type,
        "entityUrn": urn,
        "entityKeyAspect": None,
        "changeType": ChangeTypeClass.PATCH,
        "aspectName": aspect_name,
        "aspect": aspect,
        "systemMetadata": None,
        "headers": None,
    }
    return proposal


__all__ = [
    "Aspect",
    "close_lite_without_reindex",
    "is_aspect",
    "patch_proposal_of",
    "post_restli_batch",
    "upserts_of",
]
