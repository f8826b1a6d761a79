"""``OpenLineageSensorComponent``: the ol-bridge sensor as a Dagster component.

In a project made with ``create-dagster project``::

    dg scaffold defs ol_bridge.OpenLineageSensorComponent lineage

writes ``defs/lineage/defs.yaml``; every attribute is optional and is one argument of
:func:`~ol_bridge.dagster.build_openlineage_sensor`::

    type: ol_bridge.OpenLineageSensorComponent
    attributes:
      name: openlineage_sensor
      minimum_interval_seconds: 30
      default_status: stopped          # or running
      start: beginning                 # now, an ISO 8601 datetime, or a POSIX timestamp
      namespace: dagster               # the OpenLineage job namespace
      dagster_url: https://dagster.example.com
      naming:                          # NamingConfig
        connections: {snowflake: "snowflake://myorg-myaccount"}
      delivery:                        # DeliveryConfig
        drain_seconds: 10
      limits:                          # TickLimits
        time_budget_seconds: 40

``naming``, ``delivery`` and ``limits`` are parsed by the same config classes as in Python
(unknown keys are an error that names the allowed ones); ``translator: module:attribute``
names an ``OpenLineageTranslator`` (or a factory of one) instead of ``namespace`` /
``dagster_url`` / ``naming``. Where events go is the standard OpenLineage configuration
(``OPENLINEAGE_URL``, ``openlineage.yml``...), as for the sensor built in Python.

dg finds the component through the ``dagster_dg_cli.registry_modules`` entry point
``ol_bridge`` (pyproject.toml): the package exposes this class as
``ol_bridge.OpenLineageSensorComponent``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

import dagster as dg
from dagster.components import ScaffoldRequest
from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from ol_bridge.dagster.sensor import Start, build_openlineage_sensor
from ol_bridge.dagster.tick import TickLimits
from ol_bridge.dagster.translator import DEFAULT_NAMESPACE, OpenLineageTranslator
from ol_bridge.delivery import DeliveryConfig
from ol_bridge.errors import ConfigError
from ol_bridge.naming import NamingConfig
from ol_bridge.settings import field_names, reject_unknown_keys

DEFAULT_SENSOR_NAME = "openlineage_sensor"

_STATUS = {"running": dg.DefaultSensorStatus.RUNNING, "stopped": dg.DefaultSensorStatus.STOPPED}


def _about(text: str) -> dg.Resolver:
    resolver: dg.Resolver = dg.Resolver.default(description=text)
    return resolver


def _settings(config_class: type, text: str) -> dg.Resolver:
    """A mapping parsed later by ``config_class``; its YAML schema lists exactly the class's
    fields, so ``dg check yaml``, editors and loading reject an unknown key."""
    schema = create_model(  # type: ignore[call-overload]
        f"{config_class.__name__}Settings",
        __config__=ConfigDict(extra="forbid"),
        **{name: (Any, None) for name in sorted(field_names(config_class))},
    )
    return dg.Resolver(_resolve_settings, model_field_type=schema, description=text)


def _resolve_settings(context: Any, value: Any) -> Any:
    if isinstance(value, BaseModel):
        value = value.model_dump(exclude_unset=True)
    return context.resolve_value(value)


_NAMING = _settings(NamingConfig, "NamingConfig: how assets become datasets.")
_DELIVERY = _settings(DeliveryConfig, "DeliveryConfig: the durable outbox.")
_LIMITS = _settings(TickLimits, "TickLimits: the per-tick time box and batch sizes.")


class SensorScaffolder(dg.Scaffolder[Any]):
    """Writes a ``defs.yaml`` that shows the common options at their defaults."""

    def scaffold(self, request: ScaffoldRequest[Any]) -> None:
        dg.scaffold_component(
            request,
            {
                "name": DEFAULT_SENSOR_NAME,
                "minimum_interval_seconds": 30,
                "default_status": "stopped",
                "start": "beginning",
            },
        )


@dg.scaffold_with(SensorScaffolder)
class OpenLineageSensorComponent(dg.Component, dg.Resolvable, dg.Model):
    """Emits OpenLineage events for every run of the Dagster instance (ol-bridge).

    To DataHub, Marquez or any OpenLineage backend, configured the standard OpenLineage way
    (``OPENLINEAGE_URL``, ``openlineage.yml``); attributes as ``build_openlineage_sensor``.
    """

    name: Annotated[str, _about("Sensor name, also the prefix of its log lines.")] = (
        DEFAULT_SENSOR_NAME
    )
    minimum_interval_seconds: Annotated[int, _about("Seconds between ticks.")] = 30
    default_status: Annotated[
        Literal["running", "stopped"],
        _about("Whether the sensor runs without being switched on in the UI."),
    ] = "stopped"
    description: Annotated[str | None, _about("Shown in the Dagster UI.")] = None
    start: Annotated[
        str | float,
        _about(
            "Where a sensor without a cursor begins: beginning (all history), now, an ISO "
            "8601 datetime (naive = UTC) or a POSIX timestamp."
        ),
    ] = "beginning"
    namespace: Annotated[str, _about("OpenLineage job namespace.")] = DEFAULT_NAMESPACE
    dagster_url: Annotated[str | None, _about("Dagster UI base URL, for links in events.")] = None
    translator: Annotated[
        str | None,
        _about(
            "module:attribute of an OpenLineageTranslator (or a factory of one); replaces "
            "namespace, dagster_url and naming."
        ),
    ] = None
    naming: Annotated[dict[str, Any], _NAMING] = Field(default_factory=dict)
    delivery: Annotated[dict[str, Any], _DELIVERY] = Field(default_factory=dict)
    limits: Annotated[dict[str, Any], _LIMITS] = Field(default_factory=dict)

    @field_validator("start")
    @classmethod
    def _check_start(cls, value: str | float) -> str | float:
        parse_start(value)
        return value

    @field_validator("naming", "delivery", "limits")
    @classmethod
    def _check_settings(cls, value: dict[str, Any], info: Any) -> dict[str, Any]:
        try:
            _PARSERS[info.field_name](value)
        except ConfigError as error:
            raise ValueError(str(error)) from error
        return value

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        return dg.Definitions(sensors=[self.build_sensor()])

    def build_sensor(self) -> dg.SensorDefinition:
        return build_openlineage_sensor(
            name=self.name,
            minimum_interval_seconds=self.minimum_interval_seconds,
            default_status=_STATUS[self.default_status],
            description=self.description,
            translator=self.build_translator(),
            start=parse_start(self.start),
            limits=parse_limits(self.limits),
            delivery=DeliveryConfig.from_dict(self.delivery),
        )

    def build_translator(self) -> OpenLineageTranslator:
        if self.translator is None:
            return OpenLineageTranslator(
                namespace=self.namespace,
                naming=NamingConfig.from_dict(self.naming),
                dagster_url=self.dagster_url,
            )
        if self.naming or self.dagster_url or self.namespace != DEFAULT_NAMESPACE:
            raise ConfigError(
                "Give either translator or namespace / dagster_url / naming: a translator "
                "makes those decisions itself (pass them to it in your code)."
            )
        return load_translator(self.translator)


def parse_start(value: str | float) -> Start:
    """``beginning`` | ``now`` | ISO 8601 datetime (naive = UTC) | POSIX timestamp."""
    if isinstance(value, (int, float)):
        return float(value)
    if value in ("beginning", "now"):
        return value  # type: ignore[return-value]
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"start must be beginning, now, an ISO 8601 datetime such as 2024-05-01T00:00:00Z "
            f"or a POSIX timestamp, got {value!r}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def parse_limits(raw: Mapping[str, Any]) -> TickLimits:
    reject_unknown_keys(raw, field_names(TickLimits), "the tick limits")
    try:
        return TickLimits(**raw)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"invalid tick limits {dict(raw)!r}: {error}") from error


_PARSERS = {
    "naming": NamingConfig.from_dict,
    "delivery": DeliveryConfig.from_dict,
    "limits": parse_limits,
}


def load_translator(reference: str) -> OpenLineageTranslator:
    """``module:attribute``: a translator instance, or a callable returning one."""
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise ConfigError(
            f"translator {reference!r} is not module:attribute, e.g. my_project.lineage:translator"
        )
    try:
        found = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise ConfigError(f"translator {reference!r} cannot be loaded: {error}") from error
    if callable(found) and not isinstance(found, OpenLineageTranslator):
        found = found()
    if not isinstance(found, OpenLineageTranslator):
        raise ConfigError(
            f"translator {reference!r} is a {type(found).__name__}, not an "
            "OpenLineageTranslator (or a factory of one)."
        )
    return found
