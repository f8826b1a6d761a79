"""The public API is what the public modules list in ``__all__`` (see ``ol_bridge/__init__``);
the examples and the docs import only those names."""

from __future__ import annotations

import ast
import importlib

import pytest

import ol_bridge
from tests.doc_blocks import EXAMPLES, ROOT, python_blocks

PUBLIC = (
    "ol_bridge",
    "ol_bridge.dagster",
    "ol_bridge.datahub",
    "ol_bridge.delivery",
    "ol_bridge.sql",
    "ol_bridge.lineage_graph",
    "ol_bridge.backfill",
    "ol_bridge.server",
    "ol_bridge.errors",
    "ol_bridge.facets",
)

#: what users of the sensor import (issue 15): all from ol_bridge.dagster
SENSOR_NAMES = {
    "build_openlineage_sensor",
    "OpenLineageTranslator",
    "StepLineage",
    "NamingConfig",
    "DatasetId",
    "DeliveryConfig",
    "TickLimits",
    "RunInfo",
    "StepInfo",
    "DuckDBTableIOManager",
    "AnnotatingIOManager",
    "OpenLineageSensorComponent",
}


@pytest.mark.parametrize("name", PUBLIC)
def test_public_module_lists_its_names_and_they_resolve(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported, f"{name} has no __all__"
    assert len(set(exported)) == len(exported)
    for attribute in exported:
        assert getattr(module, attribute, None) is not None, f"{name}.{attribute}"
    assert f"``{name}``" in (ol_bridge.__doc__ or ""), f"{name} is not named in ol_bridge's doc"


def test_the_sensor_api_is_one_import() -> None:
    import ol_bridge.dagster

    assert set(ol_bridge.dagster.__all__) >= SENSOR_NAMES


def test_one_name_for_the_proposal_type() -> None:
    from ol_bridge.datahub import Proposal
    from ol_bridge.datahub.sinks.base import Proposal as SinkProposal

    assert SinkProposal is Proposal
    sources = "\n".join(p.read_text() for p in (ROOT / "ol_bridge").rglob("*.py"))
    assert "Mcp =" not in sources and "Mcp]" not in sources


def _ol_bridge_imports(source: str, where: str) -> list[tuple[str, str | None]]:
    """(module, name) of every import of ol_bridge (name None for ``import module``)."""
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(ast.parse(source, where)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ol_bridge"):
            found += [(str(node.module), alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(a.name, None) for a in node.names if a.name.startswith("ol_bridge")]
    return found


def _sources() -> list[tuple[str, str]]:
    sources = [(str(path.relative_to(ROOT)), path.read_text()) for path in EXAMPLES]
    sources += [(block.where, block.text) for block in python_blocks()]
    return sources


def test_examples_and_docs_import_only_public_names() -> None:
    sources = _sources()
    assert len(sources) >= 12
    private = []
    for where, source in sources:
        for module, name in _ol_bridge_imports(source, where):
            if module not in PUBLIC:
                private.append(f"{where}: {module} is internal")
            elif name is not None and name not in importlib.import_module(module).__all__:
                private.append(f"{where}: {module}.{name} is not in its __all__")
    assert private == []


def test_the_check_sees_private_imports() -> None:
    # the parser the test above relies on, on imports it must catch
    source = "from ol_bridge.naming import NamingConfig\nimport ol_bridge.dagster.tick\n"
    assert _ol_bridge_imports(source, "x") == [
        ("ol_bridge.naming", "NamingConfig"),
        ("ol_bridge.dagster.tick", None),
    ]
