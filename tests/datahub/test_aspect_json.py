"""``aspect_json`` / ``serialized_proposal`` give exactly what acryl-datahub's own
serialization gives, on every proposal the converter makes for the corpora."""

from __future__ import annotations

import json

from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.emitter.serialization_helper import pre_json_transform

from ol_bridge.datahub import convert_event
from ol_bridge.datahub.aspect_json import aspect_json, serialized_proposal
from tests.corpora import COMPAT_DIR, DATA_DIR


def test_same_json_as_to_obj_on_every_corpus_aspect() -> None:
    paths = sorted((COMPAT_DIR / "input").glob("*/*.json"))
    paths += sorted((DATA_DIR / "datahub-ol-newest" / "input").glob("*.json"))
    checked = 0
    for path in paths:
        event = json.loads(path.read_text())
        if event.get("run", {}).get("runId") == "run_id":
            continue
        for mcp in convert_event(event):
            if not isinstance(mcp, MetadataChangeProposalWrapper):
                continue
            assert mcp.aspect is not None
            assert aspect_json(mcp.aspect) == pre_json_transform(mcp.aspect.to_obj())
            assert serialized_proposal(mcp).to_obj() == mcp.make_mcp().to_obj()
            checked += 1
    assert checked > 800
