"""The URNs ``acryl-datahub-dagster-plugin`` gives a Dagster run, as pure functions.

Teams moving from DataHub's Dagster plugin to ol-bridge keep their pipelines, tasks and
run history attached when the converter names entities the way the plugin did. Its rules
(``datahub_dagster_plugin/client/dagster_generator.py`` and ``sensors/datahub_sensors.py``,
checked against version 1.7.0.17):

* DataFlow ``urn:li:dataFlow:(dagster, <flow id>, <env>)`` with flow id
  ``<prefix>/<job name>``, prefixed by ``<platform_instance>.`` when one is set.
* DataJob ``urn:li:dataJob:(<flow urn>, <prefix>/<op name>)``; the op *definition* name,
  which is the step key for every step the plugin could report (it looks step stats up
  by op name, so aliased, nested-graph and dynamic steps never got run history).
* DataProcessInstance ``urn:li:dataProcessInstance:<guid>``, the guid of
  ``{"cluster": <env>, "orchestrator": "dagster", "id": <id>}`` where id is the Dagster
  run id for the job run and ``<run id>.<prefix>/<op name>`` for a step run.
* Datasets: an asset is the ``dagster``-platform dataset ``<key joined by .>`` in the
  plugin's env, and an ``[env, platform, *name]`` key also names a warehouse table
  (``<platform>``, ``<name joined by .>``, ``<env>``) whose upstream is that asset
  dataset; DataHub URNs from ``datahub.inputs`` / ``outputs`` stay exactly as written.
* ``<prefix>`` is ``<module>`` (the Python module of the code location's code pointer)
  on Dagster OSS, or the deployment name (``DAGSTER_CLOUD_DEPLOYMENT_NAME``, default
  ``prod``) when the location was loaded from a file and has no module. On Dagster+
  (``DAGSTER_CLOUD_IS_BRANCH_DEPLOYMENT`` set) it is ``<deployment>/<module>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from datahub.api.entities.dataprocess.dataprocess_instance import DataProcessInstanceKey
from datahub.metadata.urns import DataFlowUrn, DataJobUrn, DataProcessInstanceUrn, DatasetUrn
from datahub.utilities.urns.error import InvalidUrnError

from ol_bridge.errors import ConfigError
from ol_bridge.settings import field_names, reject_unknown_keys

ORCHESTRATOR = "dagster"
#: the converter's ``urn_scheme`` that produces these URNs
URN_SCHEME = "datahub-dagster-plugin"


def _pairs(value: Mapping[str, str] | tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple(sorted((str(k), str(v)) for k, v in items))


@attrs.frozen
class PluginNaming:
    """What the plugin's URNs depended on besides the run itself.

    ``env`` and ``platform_instance`` are the plugin's ``DatahubDagsterSourceConfig``
    fields of the same names. ``module`` is the Python module of the code location
    (``dagster dev -m <module>``; ``None`` for ``-f file.py``), and ``modules`` overrides
    it per code location name. ``deployment`` and ``dagster_cloud`` reproduce the
    ``DAGSTER_CLOUD_DEPLOYMENT_NAME`` / ``DAGSTER_CLOUD_IS_BRANCH_DEPLOYMENT`` variables
    the plugin read.
    """

    env: str = "PROD"
    platform_instance: str | None = None
    module: str | None = None
    modules: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_pairs)
    deployment: str = "prod"
    dagster_cloud: bool = False

    @classmethod
    def from_dict(cls, params: Mapping[str, Any]) -> PluginNaming:
        reject_unknown_keys(params, field_names(cls), "the datahub-dagster-plugin naming settings")
        try:
            return cls(**params)
        except (TypeError, ValueError) as error:
            raise ConfigError(
                f"Invalid datahub-dagster-plugin naming settings {dict(params)!r}: {error}"
            ) from error

    def module_for(self, code_location: str | None) -> str | None:
        """The Python module the plugin saw for ``code_location``."""
        return dict(self.modules).get(code_location or "", self.module)


def plugin_prefix(naming: PluginNaming, code_location: str | None) -> str:
    """The ``<prefix>`` of the plugin's flow, job and instance ids (see the module docstring)."""
    module = naming.module_for(code_location)
    if naming.dagster_cloud:
        # The plugin formats a missing module as the text "None" here; keep it so.
        return f"{naming.deployment}/{module}"
    return module if module else naming.deployment


def plugin_op_name(step_key: str) -> str:
    """The op name of a step key: drops a dynamic mapping key and enclosing graphs."""
    return step_key.split("[", 1)[0].rsplit(".", 1)[-1]


def plugin_dataflow_urn(
    job_name: str, naming: PluginNaming, *, code_location: str | None = None
) -> DataFlowUrn:
    """The plugin's DataFlow URN of a Dagster job."""
    flow_id = f"{plugin_prefix(naming, code_location)}/{job_name}"
    return DataFlowUrn.create_from_ids(
        orchestrator=ORCHESTRATOR,
        flow_id=flow_id,
        env=naming.env,
        platform_instance=naming.platform_instance,
    )


def plugin_datajob_urn(
    job_name: str, step_key: str, naming: PluginNaming, *, code_location: str | None = None
) -> DataJobUrn:
    """The plugin's DataJob URN of one step (op) of a Dagster job."""
    job_id = f"{plugin_prefix(naming, code_location)}/{plugin_op_name(step_key)}"
    flow = plugin_dataflow_urn(job_name, naming, code_location=code_location)
    return DataJobUrn(flow, job_id)


def plugin_dpi_urn(
    dagster_run_id: str,
    naming: PluginNaming,
    *,
    step_key: str | None = None,
    code_location: str | None = None,
) -> DataProcessInstanceUrn:
    """The plugin's DataProcessInstance URN of a run (``step_key=None``) or a step run."""
    if step_key is None:
        instance_id = dagster_run_id
    else:
        op_id = f"{plugin_prefix(naming, code_location)}/{plugin_op_name(step_key)}"
        instance_id = f"{dagster_run_id}.{op_id}"
    key = DataProcessInstanceKey(cluster=naming.env, orchestrator=ORCHESTRATOR, id=instance_id)
    return DataProcessInstanceUrn(key.guid())


def plugin_asset_urn(asset_key: Sequence[str], naming: PluginNaming) -> DatasetUrn:
    """The plugin's ``dagster``-platform dataset of an asset: the key joined by dots, in
    the plugin's env (``DagsterGenerator.dataset_urn_from_asset``). Tasks point at it."""
    return DatasetUrn(ORCHESTRATOR, ".".join(asset_key), naming.env)


def plugin_table_urn(asset_key: Sequence[str]) -> DatasetUrn | None:
    """The warehouse table the plugin derived from an ``[env, platform, *name]`` key
    (``asset_keys_to_dataset_urn_converter``): platform and env from the key, name the
    rest joined by dots, as written. None for keys of fewer than three parts, for which
    the plugin recorded no dataset at all."""
    if len(asset_key) < 3:
        return None
    try:
        return DatasetUrn(asset_key[1], ".".join(asset_key[2:]), asset_key[0])
    except (InvalidUrnError, ValueError):
        return None
