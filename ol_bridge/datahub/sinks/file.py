"""File sink: DataHub's metadata file format (a JSON array of MCPs).

The format is the one acryl-datahub's ``file`` sink writes and its ``file`` source reads
(``datahub ingest`` with ``source.type: file``; ``read_metadata_file`` in tests): each
item has ``entityType``, ``entityUrn``, ``changeType``, ``aspectName`` and
``aspect: {"json": <aspect>}``. PATCH proposals keep their JSON patch list under
``aspect.json``, exactly as acryl-datahub serializes them.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from datahub.emitter.aspect import JSON_CONTENT_TYPE, JSON_PATCH_CONTENT_TYPE
from datahub.emitter.mcp import MetadataChangeProposalWrapper

from ol_bridge.datahub.sinks.base import Proposal
from ol_bridge.errors import DeliveryError


def mcp_to_file_obj(mcp: Proposal) -> dict[str, Any]:
    """Serialize one proposal the way DataHub's metadata files hold it (pure)."""
    if isinstance(mcp, MetadataChangeProposalWrapper):
        return mcp.to_obj(simplified_structure=True)
    obj: dict[str, Any] = mcp.to_obj()
    aspect = obj.get("aspect")
    # Raw proposals carry their aspect double-encoded ({"value": "<json>"}); files
    # hold it inline so a human can read them and DataHub's file source accepts them.
    if aspect and aspect.get("contentType") in (JSON_CONTENT_TYPE, JSON_PATCH_CONTENT_TYPE):
        obj["aspect"] = {"json": json.loads(aspect["value"])}
    return obj


def dumps_metadata_file(mcps: Sequence[Proposal]) -> str:
    """The text of a DataHub metadata file holding ``mcps`` (pure)."""
    return json.dumps([mcp_to_file_obj(mcp) for mcp in mcps], indent=2) + "\n"


class FileSink:
    """Keeps every proposal written since it was opened and rewrites ``path`` on flush.

    A DataHub metadata file is one JSON array, so it cannot be appended to; proposals
    already in the file when the sink opens are kept in front of the new ones. The
    file is replaced atomically (temporary file + rename), so a reader never sees half
    an array. Meant for exports and debugging, not for an unbounded stream.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = Path(path)
        self._records: list[dict[str, Any]] = self._read_existing()
        self._dirty = False

    def _read_existing(self) -> list[dict[str, Any]]:
        if not self._path.exists() or self._path.stat().st_size == 0:
            return []
        try:
            existing = json.loads(self._path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise DeliveryError(
                f"{self._path} exists but is not a DataHub metadata file (invalid JSON at "
                f"line {error.lineno}: {error.msg}); move it away or choose another "
                "`file_path`."
            ) from error
        if not isinstance(existing, list):
            raise DeliveryError(
                f"{self._path} exists but is not a DataHub metadata file (expected a JSON "
                f"array, found {type(existing).__name__}); move it away or choose another "
                "`file_path`."
            )
        return existing

    def write(self, mcps: Sequence[Proposal]) -> None:
        self._records.extend(mcp_to_file_obj(mcp) for mcp in mcps)
        self._dirty = True

    def flush(self) -> None:
        if not self._dirty:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp_name = tempfile.mkstemp(dir=self._path.parent, prefix=self._path.name)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as tmp:
                json.dump(self._records, tmp, indent=2)
                tmp.write("\n")
            # mkstemp makes the file 0600: give it the mode a plain open() would have
            os.chmod(tmp_name, _created_file_mode(self._path))
            os.replace(tmp_name, self._path)
        except OSError as error:
            Path(tmp_name).unlink(missing_ok=True)
            raise DeliveryError(f"Cannot write {self._path}: {error}") from error
        self._dirty = False

    def close(self) -> None:
        self.flush()


def _created_file_mode(path: Path) -> int:
    """The existing file's mode, else what ``open()`` would create (0666 less the umask)."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
