"""REST sink: DataHub GMS through acryl-datahub's ``DataHubRestEmitter``.

Writes are batched: each ``write`` goes to ``POST /aspects?action=ingestProposalBatch``
(Rest.li, the default), in the requests ``emit_mcps`` would send, built by
:mod:`~ol_bridge.datahub.sinks.restli_body` and split at GMS's payload limits; or, with
``endpoint="openapi"``, through ``emit_mcps`` to ``POST /openapi/v3/entity/<entityType>``
(one request per entity type and change method). Either way a converted run costs a
handful of HTTP requests, not one per aspect.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from datahub.configuration.common import ConfigurationError, OperationalError
from datahub.emitter.rest_emitter import DataHubRestEmitter, EmitMode

from ol_bridge.datahub.sinks import restli_body
from ol_bridge.datahub.sinks.base import Proposal
from ol_bridge.errors import ConfigError, DeliveryError

RestEndpoint = Literal["restli", "openapi"]


class RestSink:
    """Sends each batch to GMS synchronously; ``write`` returns once GMS accepted it."""

    def __init__(
        self,
        server: str,
        *,
        token: str | None = None,
        endpoint: RestEndpoint = "restli",
        timeout_sec: float = 30.0,
        retry_max_times: int = 3,
    ) -> None:
        if not server:
            raise ConfigError(
                "The `rest` sink needs the GMS address: set `server` (e.g. "
                "http://datahub-gms:8080) or the DATAHUB_GMS_URL environment variable."
            )
        self._server = server
        self._token = token
        self._endpoint = endpoint
        self._timeout_sec = timeout_sec
        self._retry_max_times = retry_max_times
        self._emitter: DataHubRestEmitter | None = None

    def _connect(self) -> DataHubRestEmitter:
        if self._emitter is None:
            emitter = DataHubRestEmitter(
                self._server,
                token=self._token,
                openapi_ingestion=self._endpoint == "openapi",
                timeout_sec=self._timeout_sec,
                retry_max_times=self._retry_max_times,
            )
            try:
                # One GET /config per sink: proves this is GMS (not the frontend)
                # before any metadata is sent, and fails with DataHub's own hint.
                emitter.test_connection()
            except ConfigurationError as error:
                emitter.close()
                raise DeliveryError(
                    f"DataHub GMS at {self._server} is not usable: {error}"
                ) from error
            self._emitter = emitter
        return self._emitter

    def write(self, mcps: Sequence[Proposal]) -> None:
        if not mcps:
            return
        emitter = self._connect()
        try:
            if self._endpoint == "restli":
                # the bodies emit_mcps would send, built without avrogen's walks
                restli_body.post_batches(emitter, restli_body.batch_bodies(mcps))
            else:
                emitter.emit_mcps(list(mcps), emit_mode=EmitMode.SYNC_PRIMARY)
        except OperationalError as error:
            raise DeliveryError(
                f"DataHub GMS at {self._server} refused or did not answer a batch of "
                f"{len(mcps)} proposals: {error}"
            ) from error

    def flush(self) -> None:
        """Nothing is queued: every ``write`` is synchronous."""

    def close(self) -> None:
        if self._emitter is not None:
            self._emitter.close()
            self._emitter = None
