"""Other libraries' internals: used only in ``ol_bridge/_compat/``, and each still there.

When an upgrade of acryl-datahub, avrogen or Dagster changes one of them, a test here fails
by name (the Dagster ones, which need instances, are in ``tests/dagster/test_compat_dagster.py``).
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.lite.duckdb_lite import DuckDBLite
from datahub.metadata.schema_classes import (
    ASPECT_CLASSES,
    ChangeTypeClass,
    GenericAspectClass,
    MetadataChangeProposalClass,
    StatusClass,
    SubTypesClass,
)

from ol_bridge._compat import datahub as compat

PACKAGE = Path(__file__).resolve().parents[1] / "ol_bridge"
#: libraries whose private modules and names may only be used in ol_bridge/_compat/
LIBRARIES = ("dagster", "openlineage", "datahub", "avrogen", "sqlglot", "attrs", "click")


def test_aspect_is_the_base_of_every_aspect_class() -> None:
    assert len(ASPECT_CLASSES) > 100
    assert all(issubclass(cls, compat.Aspect) for cls in ASPECT_CLASSES)
    assert compat.is_aspect(SubTypesClass(typeNames=["Task"]))
    wrapper = MetadataChangeProposalWrapper(
        entityUrn="urn:li:dataFlow:(dagster,j,prod)", aspect=SubTypesClass(typeNames=["Job"])
    )
    assert not compat.is_aspect(wrapper) and not compat.is_aspect(None)


def test_upserts_of_equal_the_wrappers_constructor_field_for_field() -> None:
    assert all(
        field.default is not dataclasses.MISSING
        for field in dataclasses.fields(MetadataChangeProposalWrapper)
    )
    cases = [
        ("urn:li:dataFlow:(dagster,j,prod)", [StatusClass(removed=False), SubTypesClass(["Job"])]),
        ("urn:li:dataJob:(urn:li:dataFlow:(dagster,j,prod),op)", [StatusClass(removed=True)]),
        ("urn:li:dataset:(urn:li:dataPlatform:duckdb,db.s.t,PROD)", [SubTypesClass(["Table"])]),
        ("urn:li:dataProcessInstance:0b5d3c0e", [StatusClass(removed=False)]),
        ("urn:li:assertion:abc", []),
    ]
    for urn, aspects in cases:
        fast = compat.upserts_of(urn, aspects)
        slow = [MetadataChangeProposalWrapper(entityUrn=urn, aspect=a) for a in aspects]
        assert fast == slow
        assert [vars(p) for p in fast] == [vars(p) for p in slow]
        assert [type(p) for p in fast] == [MetadataChangeProposalWrapper] * len(aspects)
        assert [p.to_obj() for p in fast] == [p.to_obj() for p in slow]


def test_patch_proposal_of_equals_the_constructors_field_for_field() -> None:
    value, content_type = b'[{"op": "add", "path": "/a", "value": 1}]', "application/json"
    for entity_type, urn in [
        ("dataJob", "urn:li:dataJob:(urn:li:dataFlow:(dagster,j,prod),op)"),
        ("dataset", "urn:li:dataset:(urn:li:dataPlatform:duckdb,db.s.t,PROD)"),
    ]:
        fast = compat.patch_proposal_of(entity_type, urn, "globalTags", value, content_type)
        slow = MetadataChangeProposalClass(
            entityType=entity_type,
            entityUrn=urn,
            changeType=ChangeTypeClass.PATCH,
            aspectName="globalTags",
            aspect=GenericAspectClass(value=value, contentType=content_type),
        )
        assert type(fast) is MetadataChangeProposalClass and fast == slow
        assert list(fast._inner_dict) == list(slow._inner_dict)
        assert fast.aspect is not None and slow.aspect is not None
        assert type(fast.aspect) is GenericAspectClass
        assert fast.aspect._inner_dict == slow.aspect._inner_dict
        assert list(fast.aspect._inner_dict) == list(slow.aspect._inner_dict)
        assert fast.to_obj() == slow.to_obj() and fast.validate()


def test_lite_closes_its_connection_without_reindexing() -> None:
    assert callable(getattr(DuckDBLite, "_close_connection", None))


def _private_uses(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            parts, names = [], []
            for alias in node.names:
                if alias.name.split(".")[0] in LIBRARIES and any(
                    p.startswith("_") for p in alias.name.split(".")
                ):
                    found.append(f"{path.relative_to(PACKAGE.parent)}: import {alias.name}")
            continue
        else:
            continue
        if parts[0] not in LIBRARIES:
            continue
        private_module = any(p.startswith("_") for p in parts) or parts[:3] == [
            "openlineage",
            "client",
            "generated",  # facet_v2 is the public home of the generated facets
        ]
        private_names = [n for n in names if n.startswith("_") and not n.startswith("__")]
        if private_module or private_names:
            found.append(f"{path.relative_to(PACKAGE.parent)}: from {node.module} import {names}")
    return found


def test_private_imports_of_other_libraries_only_in_compat() -> None:
    checked = [p for p in PACKAGE.rglob("*.py") if "_compat" not in p.parts]
    assert len(checked) > 100
    found = [use for path in checked for use in _private_uses(path)]
    assert found == [], "move these into ol_bridge/_compat/ (with a test there):\n" + "\n".join(
        found
    )
