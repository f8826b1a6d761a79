"""What dagster-dbt leaves in the code location, read for lineage: the dbt node behind an
asset, its compiled SQL as a run ran it, the adapter (SQL dialect) and what a dbt test checks.

dagster-dbt puts the dbt manifest (``dagster_dbt/manifest``), the node's unique id
(``dagster_dbt/unique_id``) and, when ``@dbt_assets(project=...)`` is given, the
``DbtProject`` (``dagster_dbt/project``) in each asset's definition metadata; each
materialization and check evaluation records the node's ``unique_id`` and the dbt
``invocation_id``.

A node's SQL in a run's event is the SQL of that run's dbt invocation only: dagster-dbt runs
dbt with the target path ``<project>/<target>/<op>-<run id[:7]>-<random>/``, whose
``run_results.json`` holds the compiled SQL of every node the invocation compiled (matched
by ``invocation_id``). It is readable when the run ran on this machine or on storage shared
with the code location (``dagster dev``, one container, a shared volume), not from a run pod
of its own. The project's own ``target/`` (manifest, ``compiled/``) is not used: it holds
whatever was compiled last (another run, other vars, ``is_incremental()`` the other way),
not what this run ran. When the run's SQL cannot be found, ``run_sql`` says why.

dagster-dbt itself is not imported: its objects are read through their public attributes
(``DbtProject.project_dir`` / ``target_path``, the manifest wrapper's ``manifest``), so
ol-bridge works with or without it installed. Pure apart from reading those files, which
are read once per dbt invocation.
"""

from __future__ import annotations

import json
import logging
import os
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from ol_bridge.dagster import metadata as md

log = logging.getLogger(__name__)

MANIFEST_KEY = "dagster_dbt/manifest"
PROJECT_KEY = "dagster_dbt/project"
UNIQUE_ID_KEY = "dagster_dbt/unique_id"
#: keys dagster-dbt records on each materialization and check evaluation
RUN_UNIQUE_ID_KEY = "unique_id"
RUN_INVOCATION_ID_KEY = "invocation_id"

_MAX_CACHED_RESULTS = 32


@attrs.frozen
class DbtNode:
    """A dbt node (model, seed, snapshot) behind an asset."""

    unique_id: str
    manifest: Mapping[str, Any] = attrs.field(repr=False)
    #: the dbt project directory, when the assets were defined with a ``DbtProject``
    project_dir: Path | None = None
    #: its target folder (absolute)
    target_dir: Path | None = None

    @property
    def adapter(self) -> str | None:
        """The dbt adapter (``duckdb``, ``snowflake``...): the SQL dialect of its code."""
        adapter = _mapping(self.manifest.get("metadata")).get("adapter_type")
        return adapter if isinstance(adapter, str) and adapter else None

    def node(self, unique_id: str | None = None) -> Mapping[str, Any]:
        nodes = _mapping(self.manifest.get("nodes"))
        return _mapping(nodes.get(unique_id or self.unique_id))


@attrs.frozen
class DbtTest:
    """What a dbt test checks, for its ``dataQualityAssertions`` entry."""

    #: the generic test's name (``not_null``, ``unique``), or ``singular``
    kind: str
    column: str | None = None
    description: str | None = None
    #: the test's compiled SQL, when it is at hand
    sql: str | None = None
    #: its configured severity, ``error`` or ``warn``
    severity: str | None = None
    #: a generic test's arguments (``values`` of ``accepted_values``), JSON values only
    arguments: Mapping[str, Any] = attrs.field(factory=dict)


def dbt_node(definition_metadata: Mapping[str, Any]) -> DbtNode | None:
    """The dbt node behind an asset, from its definition metadata; None for other assets."""
    unique_id = md.plain(definition_metadata.get(UNIQUE_ID_KEY))
    manifest = getattr(definition_metadata.get(MANIFEST_KEY), "manifest", None)
    if not isinstance(unique_id, str) or not isinstance(manifest, Mapping):
        return None
    project = definition_metadata.get(PROJECT_KEY)
    project_dir = getattr(project, "project_dir", None)
    target = getattr(project, "target_path", None)
    if not isinstance(project_dir, Path):
        return DbtNode(unique_id, manifest)
    target_dir = project_dir / target if isinstance(target, Path) else None
    return DbtNode(unique_id, manifest, project_dir, target_dir)


@attrs.frozen
class RunSql:
    """A node's compiled SQL as a run's dbt invocation ran it, or why it is not known."""

    sql: str | None = None
    #: why there is no SQL (None when there is, or when the node runs no SQL: a seed)
    missing: str | None = None


#: dbt resources whose compiled SQL is what they run
_SQL_RESOURCES = frozenset({"model", "snapshot", "test", "analysis"})


def run_sql(
    node: DbtNode, run_id: str, invocation_id: str | None, unique_id: str | None = None
) -> RunSql:
    """The compiled SQL of ``unique_id`` (default: the node itself) in dbt invocation
    ``invocation_id`` of Dagster run ``run_id``, and only there."""
    unique_id = unique_id or node.unique_id
    resource = node.node(unique_id).get("resource_type") or unique_id.split(".")[0]
    if resource not in _SQL_RESOURCES:
        return RunSql()
    if not invocation_id:
        return RunSql(
            missing=f"dbt node {unique_id} has no dbt invocation_id recorded by this run "
            "(dagster-dbt records it on each materialization and check), so which dbt "
            "invocation ran it, and with which SQL, is unknown."
        )
    results = _invocation_results(node, run_id, invocation_id)
    if results is None:
        searched = ", ".join(str(d) for d in _target_dirs(node)) or "no dbt target folder known"
        return RunSql(
            missing=f"the artifacts of its dbt invocation {invocation_id} (run_results.json "
            f"in <target>/<op>-{run_id[:7]}-*/) are not readable here (searched: {searched}): "
            "the run ran where this process cannot see its disk (e.g. a run pod of its own). "
            "Run the sensor where the runs' dbt target folders are (a shared volume), or "
            "keep them until the sensor has read them."
        )
    if unique_id not in results.compiled:
        return RunSql(
            missing=f"dbt invocation {invocation_id} did not compile {unique_id} (its "
            "run_results.json has no compiled code for it: dbt failed before compiling it, "
            "or skipped it)."
        )
    return RunSql(sql=results.compiled[unique_id])


def compiled_sql(
    node: DbtNode, run_id: str, invocation_id: str | None, unique_id: str | None = None
) -> str | None:
    """The compiled SQL of ``unique_id`` (default: the node itself) as the run ran it."""
    return run_sql(node, run_id, invocation_id, unique_id).sql


def dbt_test(node: DbtNode, test_unique_id: str, run_id: str, invocation_id: str | None) -> DbtTest:
    """The dbt test ``test_unique_id`` (found in the manifest of the asset it checks)."""
    test = node.node(test_unique_id)
    metadata = _mapping(test.get("test_metadata"))
    # a generic test's kind is its macro's name; a singular test is a query of its own
    kind = metadata.get("name") or "singular"
    column = test.get("column_name")
    description = test.get("description")
    severity = _mapping(test.get("config")).get("severity")
    return DbtTest(
        kind=str(kind),
        column=column if isinstance(column, str) and column else None,
        description=description if isinstance(description, str) and description else None,
        sql=compiled_sql(node, run_id, invocation_id, test_unique_id),
        severity=severity.lower() if isinstance(severity, str) and severity else None,
        arguments=_test_arguments(metadata.get("kwargs")),
    )


#: generic test arguments that name what is tested (the column is ``column``)
_TESTED = frozenset({"model", "column_name"})


def _test_arguments(kwargs: Any) -> dict[str, Any]:
    """A generic test's own arguments (``values``, ``to``, ``expression``) as JSON values."""
    return {
        str(name): value
        for name, value in _mapping(kwargs).items()
        if name not in _TESTED and _is_json(value)
    }


def _is_json(value: Any) -> bool:
    if value is None or isinstance(value, (str, int, float, bool)):
        return True
    if isinstance(value, (list, tuple)):
        return all(map(_is_json, value))
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and _is_json(v) for k, v in value.items())
    return False


def test_name(unique_id: str) -> str:
    """``test.<package>.<name>[.<hash>]`` -> ``<name>``."""
    parts = unique_id.split(".")
    return parts[2] if len(parts) >= 3 else unique_id


def run_unique_id(run_metadata: Mapping[str, Any]) -> str | None:
    value = md.plain(run_metadata.get(RUN_UNIQUE_ID_KEY))
    return value if isinstance(value, str) and value else None


def run_invocation_id(run_metadata: Mapping[str, Any]) -> str | None:
    value = md.plain(run_metadata.get(RUN_INVOCATION_ID_KEY))
    return value if isinstance(value, str) and value else None


# -- reading the target folder --------------------------------------------------------------


@attrs.frozen
class _RunResults:
    invocation_id: str | None
    compiled: Mapping[str, str]


#: dbt invocations' results by invocation id (None: not on this machine); an invocation's
#: results never change, and a step's dbt invocation has ended by the time its step has
_INVOCATIONS: OrderedDict[str, _RunResults | None] = OrderedDict()


def _target_dirs(node: DbtNode) -> list[Path]:
    """Where dagster-dbt puts a run's target folders: the project's target path, or
    ``DBT_TARGET_PATH`` (relative to the project) as dagster-dbt's resource reads it."""
    if node.project_dir is None:
        return []
    dirs = [node.target_dir] if node.target_dir is not None else []
    dirs.append(node.project_dir / os.environ.get("DBT_TARGET_PATH", "target"))
    unique: list[Path] = []
    for candidate in dirs:
        if candidate not in unique and candidate.is_dir():
            unique.append(candidate)
    return unique


def _invocation_results(node: DbtNode, run_id: str, invocation_id: str) -> _RunResults | None:
    """The results of dbt invocation ``invocation_id`` of Dagster run ``run_id``: one listing
    of the run's target folders per invocation (dagster-dbt never deletes old folders, so a
    target dir may hold thousands), each run_results.json read once."""
    if invocation_id in _INVOCATIONS:
        return _INVOCATIONS[invocation_id]
    for target in _target_dirs(node):
        for path in sorted(target.glob(f"*-{run_id[:7]}-*/run_results.json")):
            results = _read_run_results(path)
            if results is not None and results.invocation_id is not None:
                _remember(results.invocation_id, results)
    if invocation_id not in _INVOCATIONS:
        _remember(invocation_id, None)  # not on this machine: callers say so, per asset
    return _INVOCATIONS[invocation_id]


def forget_read_results() -> None:
    """Drop the results read so far (tests; ``dbt_runs.forget_read_artifacts``)."""
    _INVOCATIONS.clear()


def _remember(invocation_id: str, results: _RunResults | None) -> None:
    _INVOCATIONS[invocation_id] = results
    _INVOCATIONS.move_to_end(invocation_id)
    while len(_INVOCATIONS) > _MAX_CACHED_RESULTS:
        _INVOCATIONS.popitem(last=False)


def _read_run_results(path: Path) -> _RunResults | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        log.warning("Could not read dbt run results %s (%s); no compiled SQL from it.", path, error)
        return None
    compiled = {
        str(result["unique_id"]): result["compiled_code"]
        for result in data.get("results", ())
        if isinstance(result, Mapping)
        and isinstance(result.get("unique_id"), str)
        and isinstance(result.get("compiled_code"), str)
        and result["compiled_code"].strip()
    }
    invocation = _mapping(data.get("metadata")).get("invocation_id")
    return _RunResults(invocation if isinstance(invocation, str) else None, compiled)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
