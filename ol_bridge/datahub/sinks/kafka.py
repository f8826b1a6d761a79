"""Kafka sink: DataHub's MCP topic through acryl-datahub's ``DatahubKafkaEmitter``.

Needs the ``kafka`` extra (``pip install 'ol-bridge[kafka]'``). Proposals are Avro
encoded against the schema registry, as DataHub's own ingestion does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from ol_bridge.datahub.sinks.base import Proposal
from ol_bridge.errors import ConfigError, DeliveryError
from ol_bridge.settings import field_names, reject_unknown_keys

if TYPE_CHECKING:
    from datahub.emitter.kafka_emitter import DatahubKafkaEmitter

#: DataHub's default topic for MetadataChangeProposals.
DEFAULT_MCP_TOPIC = "MetadataChangeProposal_v1"


@attrs.frozen
class KafkaSinkConfig:
    """Connection settings of the Kafka sink (the transport's ``kafka`` mapping)."""

    bootstrap: str = "localhost:9092"
    schema_registry_url: str = "http://localhost:8081"
    topic: str = DEFAULT_MCP_TOPIC
    producer_config: Mapping[str, Any] = attrs.field(factory=dict)
    schema_registry_config: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @classmethod
    def from_dict(cls, params: Mapping[str, Any]) -> KafkaSinkConfig:
        reject_unknown_keys(params, field_names(cls), "the datahub transport's `kafka` settings")
        for key in ("producer_config", "schema_registry_config"):
            if key in params and not isinstance(params[key], Mapping):
                raise ConfigError(f"`kafka.{key}` must be a mapping of client settings.")
        return cls(**{key: params[key] for key in params})

    def emitter_config(self) -> dict[str, Any]:
        """The dict ``datahub.emitter.kafka_emitter.KafkaEmitterConfig`` validates."""
        return {
            "connection": {
                "bootstrap": self.bootstrap,
                "schema_registry_url": self.schema_registry_url,
                "producer_config": dict(self.producer_config),
                "schema_registry_config": dict(self.schema_registry_config),
            },
            "topic_routes": {"MetadataChangeProposal": self.topic},
        }


class KafkaSink:
    """Produces each proposal to the MCP topic; ``flush`` waits for the broker's acks."""

    def __init__(self, config: KafkaSinkConfig) -> None:
        self._config = config
        self._emitter: DatahubKafkaEmitter | None = None
        self._errors: list[str] = []

    def _connect(self) -> DatahubKafkaEmitter:
        if self._emitter is None:
            try:
                # Lazy: confluent-kafka comes with the optional `kafka` extra.
                from datahub.emitter.kafka_emitter import (
                    DatahubKafkaEmitter,
                    KafkaEmitterConfig,
                )
            except ImportError as error:
                raise ConfigError(
                    "The `kafka` sink needs the kafka extra: pip install 'ol-bridge[kafka]'."
                ) from error
            config = KafkaEmitterConfig.model_validate(self._config.emitter_config())
            self._emitter = DatahubKafkaEmitter(config)
        return self._emitter

    def _on_delivery(self, error: Any, message: Any) -> None:
        # confluent-kafka calls this from poll()/flush() with (KafkaError | None, Message).
        if error is not None:
            self._errors.append(f"key {message.key()!r}: {error}")

    def write(self, mcps: Sequence[Proposal]) -> None:
        emitter = self._connect()
        for mcp in mcps:
            emitter.emit(mcp, callback=self._on_delivery)

    def flush(self) -> None:
        if self._emitter is not None:
            undelivered = self._emitter.flush_with_undelivered_count()
            if undelivered:
                self._errors.append(f"{undelivered} message(s) still queued after the timeout")
        if self._errors:
            failures, self._errors = self._errors, []
            raise DeliveryError(
                f"Kafka did not accept {len(failures)} proposal(s) on topic "
                f"{self._config.topic!r} at {self._config.bootstrap}; first: {failures[0]}"
            )

    def close(self) -> None:
        self.flush()
        self._emitter = None
