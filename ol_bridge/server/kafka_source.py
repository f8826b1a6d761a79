"""``ol-bridge serve --source kafka``: consume OpenLineage events from a topic into DataHub.

Any number of workers share one consumer group (``kafka.group_id``); Kafka spreads the
topic's partitions over them and moves a dead worker's partitions to the others. Each
worker reads a batch, commits its events to its outbox for every destination (DataHub and
the relays; the same engine as the HTTP receiver, ``receiver.py``), and commits the batch's
offsets only after that. Delivery threads deliver the outbox; a DataHub outage leaves the
events there, retried with backoff, while the worker keeps consuming. When the outbox
cannot take a batch (a destination's backlog at its limit), the worker seeks back to the
batch's first offsets and reads it again after ``retry_backoff_sec``, still polling, so it
keeps its group membership. A worker that dies between the outbox commit and the offset
commit leaves its batch to be read again by whoever gets the partition: delivery is at
least once, and repeats are dropped by the outbox (same run, job, type and time) or are
idempotent DataHub writes. Every commit is logged as ``committed <topic>[<partition>]
<first>-<last>`` so repeats can be audited.

Poison never stops a partition: a message that is not a valid OpenLineage event is logged
and skipped (its offset committed); an event DataHub cannot take is parked by the DataHub
destination (rejected in the outbox, ``ol-bridge outbox status`` shows it) while the relays
still get it and every other event goes on.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Sequence
from typing import Any

import attrs

from ol_bridge.delivery.redact import install_log_redaction, redact
from ol_bridge.errors import ConfigError, DeliveryError
from ol_bridge.server.config import ServerConfig
from ol_bridge.server.metrics import Metrics
from ol_bridge.server.parse import Rejection, parse_event
from ol_bridge.server.receiver import Prepared, Receiver

log = logging.getLogger(__name__)

_POLL_SEC = 1.0


@attrs.frozen
class Span:
    """The offsets of one partition that a batch covered."""

    topic: str
    partition: int
    first: int
    last: int


def spans(positions: Sequence[tuple[str, int, int]]) -> list[Span]:
    """(topic, partition, offset) of a batch's messages -> one span per partition (pure)."""
    by_partition: dict[tuple[str, int], list[int]] = {}
    for topic, partition, offset in positions:
        by_partition.setdefault((topic, partition), []).append(offset)
    return [
        Span(topic, partition, min(offsets), max(offsets))
        for (topic, partition), offsets in sorted(by_partition.items())
    ]


def consumer_settings(config: ServerConfig) -> dict[str, Any]:
    """confluent-kafka settings: manual commits, start at the oldest unread event."""
    return {
        "bootstrap.servers": config.kafka.bootstrap,
        "group.id": config.kafka.group_id,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        **dict(config.kafka.consumer_config),
    }


class KafkaWorker:
    """One member of the consumer group; :meth:`run` loops until :meth:`stop`."""

    def __init__(self, config: ServerConfig, *, metrics: Metrics | None = None) -> None:
        try:
            from confluent_kafka import Consumer
        except ImportError as error:
            raise ConfigError(
                "--source kafka needs the kafka extra: pip install 'ol-bridge[kafka,server]'."
            ) from error
        self._config = config
        self.metrics = metrics or Metrics()
        # no conversion at intake: nobody could be told about a refusal, so an event
        # DataHub cannot take is parked by the DataHub destination instead
        self._receiver = Receiver(config, self.metrics, convert_at_intake=False)
        self._consumer = Consumer(consumer_settings(config))
        self._stopping = threading.Event()
        #: highest offset processed per (topic, partition), to count repeats
        self._seen: dict[tuple[str, int], int] = {}

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        kafka = self._config.kafka
        self._consumer.subscribe([kafka.topic])
        log.info("Consuming %s as group %s from %s", kafka.topic, kafka.group_id, kafka.bootstrap)
        try:
            while not self._stopping.is_set():
                messages = self._consumer.consume(kafka.batch_size, timeout=_POLL_SEC)
                if messages:
                    self._handle(messages)
        finally:
            # close() leaves the group at once, so the partitions move without waiting
            # for the session timeout.
            self._consumer.close()
            self._receiver.close()

    def _handle(self, messages: Sequence[Any]) -> None:
        from confluent_kafka import KafkaException

        batch = [m for m in messages if not self._is_error(m)]
        if not batch:
            return
        positions = [(m.topic(), m.partition(), m.offset()) for m in batch]
        events = [event for event in map(self._event, batch) if event is not None]
        prepared = self._receiver.prepare_events(events)
        assert isinstance(prepared, Prepared)  # no conversion here: nothing is refused
        try:
            if events:
                self._receiver.commit(prepared).result()
        except Exception as error:  # outbox full or its database down: read the batch again
            backoff = self._config.kafka.retry_backoff_sec
            log.warning(
                "The outbox did not take the batch (%s); reading it again in %.1fs",
                redact(str(error)),
                backoff,
            )
            self._rewind(spans(positions))
            self._stopping.wait(backoff)
            return
        self._count_repeats(positions)
        done = spans(positions)
        try:
            self._consumer.commit(offsets=_commit_offsets(done), asynchronous=False)
        except KafkaException as error:
            # Typically a rebalance took the partition away: its new owner reads the
            # batch again, and the idempotent DataHub writes absorb the repeat.
            log.warning("Commit failed (%s); the batch will be read again", error)
            return
        for span in done:
            log.info("committed %s[%d] %d-%d", span.topic, span.partition, span.first, span.last)

    def _is_error(self, message: Any) -> bool:
        error = message.error()
        if error is None:
            return False
        if error.fatal():
            raise DeliveryError(f"Kafka consumer failed for good: {error}")
        log.warning("Kafka: %s", error)
        return True

    def _event(self, message: Any) -> dict[str, Any] | None:
        value = message.value()
        parsed = parse_event(value or b"")
        if isinstance(parsed, Rejection):
            self._skip(message, "invalid_event", f"{parsed.field or 'body'}: {parsed.message}")
            return None
        self.metrics.add("received")
        return parsed

    def _skip(self, message: Any, reason: str, why: str) -> None:
        self.metrics.add("rejected", reason=reason)
        log.warning(
            "Skipping %s[%d]@%d, not a valid OpenLineage event: %s",
            message.topic(),
            message.partition(),
            message.offset(),
            why,
        )

    def _rewind(self, batch: Sequence[Span]) -> None:
        from confluent_kafka import KafkaException, TopicPartition

        for span in batch:
            try:
                self._consumer.seek(TopicPartition(span.topic, span.partition, span.first))
            except KafkaException as error:
                # The partition was revoked meanwhile: its new owner starts from the last
                # commit, which is before this batch.
                log.info("Not rewinding %s[%d]: %s", span.topic, span.partition, error)

    def _count_repeats(self, positions: Sequence[tuple[str, int, int]]) -> None:
        for topic, partition, offset in positions:
            key = (topic, partition)
            if offset <= self._seen.get(key, -1):
                self.metrics.add("duplicates")
            else:
                self._seen[key] = offset


def _commit_offsets(done: Sequence[Span]) -> list[Any]:
    from confluent_kafka import TopicPartition

    # Kafka's committed offset is the next one to read.
    return [TopicPartition(span.topic, span.partition, span.last + 1) for span in done]


def run_worker(config: ServerConfig) -> None:
    """Run one worker until SIGTERM or SIGINT, then finish the batch in hand and leave."""
    install_log_redaction()
    worker = KafkaWorker(config)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: worker.stop())
    worker.run()
