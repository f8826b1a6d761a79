"""The OpenLineage client exactly as the sensor builds it, and which settings it ignored.

openlineage-python decides the transport (its precedence is documented in
``OpenLineageClient._resolve_transport``: ``OPENLINEAGE_DISABLED``; a config file overlaid
by ``OPENLINEAGE__*`` variables, the file winning a key both set; then ``OPENLINEAGE_URL``;
else the console; and ``OPENLINEAGE_URL`` is also added to a composite as ``default_http``).
The doctor does not re-implement that: it builds ``OpenLineageClient()``, splits its
transport into destinations with :func:`ol_bridge.delivery.split_destinations` as the
sensor does, and compares what the environment asked for with what the client kept.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from openlineage.client import OpenLineageClient
from openlineage.client.transport import Transport
from openlineage.client.transport.composite import CompositeTransport
from openlineage.client.transport.console import ConsoleTransport
from openlineage.client.transport.http import HttpTransport
from openlineage.client.transport.noop import NoopTransport

from ol_bridge.delivery import Destination, split_destinations
from ol_bridge.delivery.redact import redact
from ol_bridge.doctor.model import Check

NAME = "openlineage config"
DYNAMIC_PREFIX = "OPENLINEAGE__"
DEFAULT_HTTP = "default_http"
#: keys openlineage-python's transport factory pops from the config it is given
_POPPED_KEYS = frozenset({"name", "priority"})
_SECRET_WORDS = ("key", "token", "secret", "password", "auth", "credential")


def config_file(env: Mapping[str, str]) -> Path | None:
    """The OpenLineage config file openlineage-python reads, per its documented lookup:
    ``$OPENLINEAGE_CONFIG``, ``./openlineage.yml``, ``~/.openlineage/openlineage.yml``
    (the first readable file). Used only to name the source; a test checks it agrees
    with the client's own lookup."""
    candidates = (
        env.get("OPENLINEAGE_CONFIG"),
        Path.cwd() / "openlineage.yml",
        Path.home() / ".openlineage" / "openlineage.yml",
    )
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.R_OK):
            return Path(candidate)
    return None


@contextmanager
def _unchanged_environment() -> Iterator[None]:
    # OpenLineageClient() copies OPENLINEAGE_URL into OPENLINEAGE__TRANSPORT__TRANSPORTS__
    # DEFAULT_HTTP__* variables of this process; the doctor only looks, so it puts them back.
    # Its "no transport configured" warning is said by the doctor itself.
    before = dict(os.environ)
    library_log = logging.getLogger("openlineage.client")
    level = library_log.level
    library_log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        library_log.setLevel(level)
        for key in set(os.environ) - set(before):
            del os.environ[key]
        os.environ.update(before)


def build_client() -> OpenLineageClient:
    """``OpenLineageClient()``, as the sensor's default client factory calls it."""
    with _unchanged_environment():
        return OpenLineageClient()


def inspect_client(env: Mapping[str, str]) -> tuple[list[Destination], list[Check]]:
    """The destinations the sensor would deliver to, and what to say about the config."""
    checks = _missing_config_file(env)
    source = _sources(env)
    try:
        client = build_client()
    except Exception as error:  # every transport raises its own types for bad settings
        checks.append(
            Check(
                NAME,
                "FAIL",
                f"OpenLineageClient() cannot be built from {source}: "
                f"{type(error).__name__}: {redact(str(error))}",
                "Fix the transport settings named in the error; the sensor fails the same way.",
            )
        )
        return [], checks
    transport = client.transport
    # the console "destination" is said once, by the summary
    destinations = [] if isinstance(transport, ConsoleTransport) else split_destinations(transport)
    checks.append(_summary(transport, destinations, source, env))
    checks.extend(ignored_settings(env, client, destinations))
    return destinations, checks


def _missing_config_file(env: Mapping[str, str]) -> list[Check]:
    explicit = env.get("OPENLINEAGE_CONFIG")
    if not explicit or (Path(explicit).is_file() and os.access(explicit, os.R_OK)):
        return []
    return [
        Check(
            NAME,
            "FAIL",
            f"OPENLINEAGE_CONFIG points to {explicit}, which is not a readable file; "
            "openlineage-python silently falls back to ./openlineage.yml or the variables.",
            "Fix the path, or unset OPENLINEAGE_CONFIG.",
        )
    ]


def _sources(env: Mapping[str, str]) -> str:
    found = []
    path = config_file(env)
    if path is not None:
        found.append(f"config file {path}")
    if any(key.startswith(DYNAMIC_PREFIX) for key in env):
        found.append("OPENLINEAGE__* variables")
    if env.get("OPENLINEAGE_URL"):
        found.append("OPENLINEAGE_URL")
    return " + ".join(found) or "no configuration"


def _summary(
    transport: Transport,
    destinations: Sequence[Destination],
    source: str,
    env: Mapping[str, str],
) -> Check:
    if isinstance(transport, NoopTransport):
        return Check(
            NAME,
            "WARN",
            "OPENLINEAGE_DISABLED=true: OpenLineage is disabled, the sensor emits nothing.",
            "Unset OPENLINEAGE_DISABLED.",
        )
    if isinstance(transport, ConsoleTransport):
        return Check(
            NAME,
            "WARN",
            f"OpenLineageClient() found {source}: it prints events to the console, "
            "no backend receives them.",
            "Set OPENLINEAGE_URL (+ OPENLINEAGE_ENDPOINT, OPENLINEAGE_API_KEY) or write an "
            "openlineage.yml with a transport.",
        )
    names = ", ".join(destination.name for destination in destinations)
    added = ""
    if env.get("OPENLINEAGE_URL") and any(d.name == DEFAULT_HTTP for d in destinations):
        added = f"; OPENLINEAGE_URL added the {DEFAULT_HTTP!r} destination to the composite"
    count = len(destinations)
    return Check(
        NAME,
        "PASS",
        f"OpenLineageClient() from {source}: {transport.kind!r} transport, "
        f"{count} destination{'s' if count != 1 else ''} ({names}){added}.",
    )


def ignored_settings(
    env: Mapping[str, str], client: OpenLineageClient, destinations: Sequence[Destination]
) -> list[Check]:
    """Variables that are set but that the client did not use."""
    transport_config = client.config.transport or {}
    dynamic = list(_dynamic_transport_settings(env))
    if dynamic and not transport_config.get("type"):
        checks = [
            Check(
                NAME,
                "WARN",
                f"{', '.join(key for key, _ in dynamic)} set without a transport type: "
                "openlineage-python ignores them.",
                "Set OPENLINEAGE__TRANSPORT__TYPE (e.g. http) as well.",
            )
        ]
    else:
        checks = [
            check
            for key, wanted in dynamic
            if (check := _overridden(key, wanted, transport_config, env)) is not None
        ]
    url = env.get("OPENLINEAGE_URL", "").strip()
    if url and not any(_http_url(d.transport) == url for d in _leaves(destinations)):
        checks.append(
            Check(
                NAME,
                "WARN",
                f"OPENLINEAGE_URL={redact(url)} is not used: the transport of "
                f"{config_file(env) or 'the OPENLINEAGE__TRANSPORT__* variables'} replaces it "
                "(only a composite transport gets it added, as 'default_http').",
                "Put the URL into that transport, or remove OPENLINEAGE_URL "
                "(and OPENLINEAGE_ENDPOINT / OPENLINEAGE_API_KEY).",
            )
        )
    return checks


def _overridden(
    key: str, wanted: Any, transport_config: Mapping[str, Any], env: Mapping[str, str]
) -> Check | None:
    """A WARN when the client's config does not hold the value variable ``key`` sets."""
    path = key[len(DYNAMIC_PREFIX) :].lower().split("__")[1:]
    if not path or path[-1] in _POPPED_KEYS:
        return None
    found, value = _lookup(transport_config, path)
    if found and value == wanted:
        return None
    where = config_file(env)
    setting = "transport." + ".".join(path)
    if where is None:
        reason = f"the client's configuration has no {setting}."
    elif found:
        reason = f"{where} sets {setting} to {_shown(key, value)}, and the file wins."
    else:
        reason = f"{where} replaces the section holding {setting}, and the file wins."
    return Check(
        NAME,
        "WARN",
        f"{key}={_shown(key, wanted)} is not used: {reason}",
        "Change the setting in the file (variables only fill in what it lacks), or remove "
        "the variable.",
    )


def _dynamic_transport_settings(env: Mapping[str, str]) -> Iterator[tuple[str, Any]]:
    for key in sorted(env):
        if key.upper().startswith(DYNAMIC_PREFIX + "TRANSPORT__"):
            yield key, _parsed(env[key])


def _parsed(raw: str) -> Any:
    # as openlineage-python reads a variable's value: JSON when it parses, else the text
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def _lookup(config: Any, path: Sequence[str]) -> tuple[bool, Any]:
    node = config
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _shown(key: str, value: Any) -> str:
    if any(word in key.lower() for word in _SECRET_WORDS):
        return "***"
    return redact(json.dumps(value) if not isinstance(value, str) else value)


def _leaves(destinations: Sequence[Destination]) -> Iterator[Destination]:
    """Destinations with the children of fail-over composites (kept whole as one)."""
    for destination in destinations:
        transport = destination.transport
        if isinstance(transport, CompositeTransport):
            for index, child in enumerate(transport.transports):
                label = child.name or f"{index}"
                yield from _leaves([Destination(f"{destination.name}/{label}", child)])
        else:
            yield destination


def leaves(destinations: Sequence[Destination]) -> list[Destination]:
    return list(_leaves(destinations))


def _http_url(transport: Transport) -> str | None:
    return transport.url if isinstance(transport, HttpTransport) else None
