"""Stored events posted straight from the outbox make the very request ``emit`` makes."""

from __future__ import annotations

import gzip
import http.client as http_client
from typing import Any

import pytest
import requests
from openlineage.client.event_v2 import RunEvent
from openlineage.client.serde import Serde
from openlineage.client.transport import Transport
from openlineage.client.transport.http import HttpConfig, HttpTransport

from ol_bridge.delivery.payload import to_payload
from ol_bridge.delivery.stored_http import post_stored, sender
from tests.delivery.conftest import http
from tests.delivery.receiver import Receiver
from tests.fakes import dagster_run_events


def started(receivers: list[Receiver]) -> Receiver:
    receiver = Receiver().start()
    receivers.append(receiver)
    return receiver


def as_received(raw: tuple[str, dict[str, str], bytes]) -> tuple[str, dict[str, str], bytes]:
    path, headers, body = raw
    if headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)  # gzip stamps the time: compare what it carries
    kept = {k: v for k, v in headers.items() if k != "Content-Length"}
    return path, kept, body


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"compression": "gzip"},
        {"auth": {"type": "api_key", "apiKey": "s3cret"}, "custom_headers": {"X-Team": "data"}},
    ],
    ids=["plain", "gzip", "auth-and-headers"],
)
def test_the_request_is_the_one_emit_makes(
    receivers: list[Receiver], options: dict[str, Any]
) -> None:
    receiver = started(receivers)
    transport = HttpTransport(HttpConfig.from_dict(http(receiver, **options)))
    events = dagster_run_events()
    for event in events:
        transport.emit(event)
        post_stored(transport, to_payload(event))

    assert len(receiver.raw) == 2 * len(events)
    by_emit = [as_received(r) for r in receiver.raw[0::2]]
    stored = [as_received(r) for r in receiver.raw[1::2]]
    assert stored == by_emit
    if options.get("auth"):
        assert stored[0][1]["Authorization"] == "Bearer s3cret"


def test_a_refusal_raises_as_emit_does(receivers: list[Receiver]) -> None:
    receiver = started(receivers)
    transport = HttpTransport(HttpConfig.from_dict(http(receiver)))
    with pytest.raises(requests.HTTPError) as refused:
        post_stored(transport, '{"eventTime": "2025-01-01T00:00:00Z"}')  # no job: 400
    assert refused.value.response is not None and refused.value.response.status_code == 400


def test_other_transports_get_the_rebuilt_event_through_emit(receivers: list[Receiver]) -> None:
    class Audited(HttpTransport):
        """A subclass may override emit: it must be called."""

        emitted: list[Any] = []

        def emit(self, event: Any) -> Any:
            self.emitted.append(event)
            return super().emit(event)

    receiver = started(receivers)
    event = dagster_run_events()[0]
    audited = Audited(HttpConfig.from_dict(http(receiver)))
    sender(audited)(to_payload(event))
    assert len(Audited.emitted) == 1 and len(receiver.events) == 1

    class Recording(Transport):
        kind = "recording"
        received: list[Any] = []

        def emit(self, event: Any) -> None:
            self.received.append(event)

    sender(Recording())(to_payload(event))
    # a RunEvent again (facets stay dicts) that serialises to what was stored
    (rebuilt,) = Recording.received
    assert isinstance(rebuilt, RunEvent)
    assert Serde.to_json(rebuilt) == to_payload(event) == Serde.to_json(event)


def test_with_http_debugging_on_emit_sends_and_the_switch_is_left_alone(
    receivers: list[Receiver], monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    # debuglevel is process-wide: ol-bridge never flips it (not thread-safe); while a user
    # has it on, openlineage-python's emit, which hides the token from it, sends
    receiver = started(receivers)
    transport = HttpTransport(
        HttpConfig.from_dict(http(receiver, auth={"type": "api_key", "apiKey": "s3cret"}))
    )
    emitted: list[Any] = []
    emit = transport.emit
    monkeypatch.setattr(transport, "emit", lambda event: emitted.append(event) or emit(event))
    send = sender(transport)
    event = dagster_run_events()[0]

    send(to_payload(event))
    assert emitted == [] and len(receiver.events) == 1  # the fast path

    monkeypatch.setattr(http_client.HTTPConnection, "debuglevel", 1)
    send(to_payload(event))
    assert len(emitted) == 1 and len(receiver.events) == 2
    assert http_client.HTTPConnection.debuglevel == 1
    assert "s3cret" not in capfd.readouterr().out
