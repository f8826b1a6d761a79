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

``tests/test_compat.py`` checks each against the installed acryl-datahub.
"""

from __future__ import annotations

from typing import Any, TypeGuard

from datahub.metadata.schema_classes import ASPECT_CLASSES
from datahub.metadata.schema_classes import _Aspect as Aspect

_ASPECT_TYPES = frozenset(ASPECT_CLASSES)


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


__all__ = [
    "Aspect",
    "close_lite_without_reindex",
    "is_aspect",
    "post_restli_batch",
]
