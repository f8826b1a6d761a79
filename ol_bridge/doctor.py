"""``ol-bridge doctor``: check a configuration end to end and say exactly what to fix.

Checks, in order: which OpenLineage configuration source wins (the precedence
openlineage-python applies: ``OPENLINEAGE_DISABLED``; a YAML file from ``OPENLINEAGE_CONFIG``,
``./openlineage.yml`` or ``~/.openlineage/openlineage.yml``, overlaid by ``OPENLINEAGE__*``
variables; then ``OPENLINEAGE_URL`` / ``OPENLINEAGE_ENDPOINT`` / ``OPENLINEAGE_API_KEY``;
else the console), then for every HTTP destination the URL/endpoint join, the token, and a
real, time-boxed request (``GET /config`` tells DataHub GMS apart), then the Dagster instance.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

import attrs
import requests
import yaml

Status = Literal["PASS", "WARN", "FAIL"]
DATAHUB_PATH = "openapi/openlineage/api/v1/lineage"
MARQUEZ_PATH = "api/v1/lineage"
DEFAULT_TIMEOUT_SECONDS = 5.0


@attrs.frozen
class Check:
    name: str
    status: Status
    message: str
    #: one line saying what to change; set for WARN and FAIL
    fix: str | None = None


@attrs.frozen
class HttpTarget:
    """One HTTP destination of the resolved transport."""

    label: str
    url: str
    endpoint: str
    api_key: str | None = attrs.field(default=None, repr=False)

    @property
    def lineage_url(self) -> str:
        # exactly how openlineage-python's HttpTransport joins them
        return urljoin(self.url, self.endpoint)

    @property
    def root(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"


@attrs.frozen
class Resolution:
    source: str
    transport: Mapping[str, Any] | None
    problem: Check | None = None


def resolve(env: Mapping[str, str], cwd: Path, home: Path) -> Resolution:
    """Which configuration source openlineage-python would use, and the transport it gives."""
    if env.get("OPENLINEAGE_DISABLED", "").strip().lower() == "true":
        return Resolution("OPENLINEAGE_DISABLED=true", None)
    config: dict[str, Any] = {}
    sources: list[str] = []
    explicit = env.get("OPENLINEAGE_CONFIG")
    problem = None
    if explicit and not Path(explicit).is_file():
        problem = Check(
            "openlineage config",
            "FAIL",
            f"OPENLINEAGE_CONFIG points to {explicit}, which is not a readable file.",
            "Fix the path, or unset OPENLINEAGE_CONFIG to use ./openlineage.yml or env vars.",
        )
    for candidate in (explicit, cwd / "openlineage.yml", home / ".openlineage" / "openlineage.yml"):
        if candidate and Path(candidate).is_file():
            loaded = yaml.safe_load(Path(candidate).read_text(encoding="utf-8")) or {}
            if isinstance(loaded, dict):
                config = loaded
            sources.append(f"file {candidate}")
            break
    overrides = _dynamic_env(env)
    if overrides:
        config = _merge(config, overrides)
        sources.append("OPENLINEAGE__* variables")
    transport = config.get("transport")
    if isinstance(transport, dict) and transport.get("type"):
        return Resolution(" + ".join(sources), transport, problem)
    if env.get("OPENLINEAGE_URL"):
        http: dict[str, Any] = {
            "type": "http",
            "url": env["OPENLINEAGE_URL"],
            "endpoint": env.get("OPENLINEAGE_ENDPOINT", MARQUEZ_PATH),
        }
        if env.get("OPENLINEAGE_API_KEY"):
            http["auth"] = {"type": "api_key", "apiKey": env["OPENLINEAGE_API_KEY"]}
        return Resolution("OPENLINEAGE_URL environment variables", http, problem)
    return Resolution("nothing configured (console)", None, problem)


def _dynamic_env(env: Mapping[str, str]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in env.items():
        if not key.startswith("OPENLINEAGE__"):
            continue
        path = [part.lower() for part in key[len("OPENLINEAGE__") :].split("__")]
        node = result
        for part in path[:-1]:
            node = node.setdefault(part, {})
        try:
            node[path[-1]] = json.loads(value)
        except json.JSONDecodeError:
            node[path[-1]] = value
    return result


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def http_targets(transport: Mapping[str, Any], label: str = "transport") -> Iterator[HttpTarget]:
    kind = transport.get("type")
    if kind in {"http", "async_http"}:
        auth = transport.get("auth") or {}
        key = auth.get("apiKey") or auth.get("api_key") if isinstance(auth, Mapping) else None
        yield HttpTarget(
            label, str(transport.get("url", "")), str(transport.get("endpoint", MARQUEZ_PATH)), key
        )
    elif kind == "composite":
        children = transport.get("transports") or {}
        items = children.items() if isinstance(children, Mapping) else enumerate(children)
        for name, child in items:
            if isinstance(child, Mapping):
                yield from http_targets(child, f"{label}.{child.get('name', name)}")


def check_config(resolution: Resolution) -> list[Check]:
    checks = [] if resolution.problem is None else [resolution.problem]
    if resolution.transport is None:
        checks.append(
            Check(
                "openlineage config",
                "WARN",
                f"Source: {resolution.source}; no events will reach a backend.",
                "Set OPENLINEAGE_URL (+ OPENLINEAGE_ENDPOINT, OPENLINEAGE_API_KEY) or write "
                "an openlineage.yml with a transport.",
            )
        )
        return checks
    checks.append(
        Check(
            "openlineage config",
            "PASS",
            f"Source: {resolution.source}; transport type {resolution.transport.get('type')!r}.",
        )
    )
    return checks


def looks_like_datahub(target: HttpTarget) -> bool:
    text = (target.url + " " + target.endpoint).lower()
    return (
        "openapi/openlineage" in text or "datahub" in text or "gms" in urlsplit(target.url).netloc
    )


def check_join(target: HttpTarget, *, is_datahub: bool) -> Check:
    name = f"{target.label} url"
    path = urlsplit(target.url).path.strip("/")
    if path.endswith(MARQUEZ_PATH) and target.endpoint:
        return Check(
            name,
            "FAIL",
            f"The URL already ends with the lineage path and the endpoint is appended: events "
            f"go to {target.lineage_url}.",
            f"Set the URL to {target.root} and the endpoint to "
            f"{DATAHUB_PATH if is_datahub else MARQUEZ_PATH}.",
        )
    if is_datahub and not target.lineage_url.rstrip("/").endswith(DATAHUB_PATH):
        return Check(
            name,
            "FAIL",
            f"This is DataHub but events go to {target.lineage_url} (the Marquez path).",
            f"Set OPENLINEAGE_ENDPOINT={DATAHUB_PATH} (or endpoint: {DATAHUB_PATH} in "
            "openlineage.yml).",
        )
    return Check(name, "PASS", f"Events go to {target.lineage_url}.")


def probe(target: HttpTarget, timeout: float) -> tuple[Check, bool]:
    """A real request: ``GET <root>/config``. Returns the check and whether it is DataHub."""
    name = f"{target.label} reachable"
    headers = {"Authorization": f"Bearer {target.api_key}"} if target.api_key else {}
    try:
        response = requests.get(target.root + "/config", headers=headers, timeout=timeout)
    except requests.RequestException as error:
        return (
            Check(
                name,
                "FAIL",
                f"Cannot reach {target.root}: {type(error).__name__}.",
                "Check the host and port, and that the server runs and is reachable from "
                "where the Dagster daemon runs.",
            ),
            looks_like_datahub(target),
        )
    is_datahub = looks_like_datahub(target)
    if response.status_code == 200:
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and ("noCode" in body or "acryldata/datahub" in str(body)):
            version = body.get("versions", {}).get("acryldata/datahub", {}).get("version", "?")
            return Check(name, "PASS", f"DataHub GMS {version} at {target.root}."), True
    if response.status_code in {401, 403}:
        return (
            Check(
                name,
                "FAIL",
                f"{target.root} refused the request (HTTP {response.status_code}): the token "
                + ("was rejected." if target.api_key else "is missing."),
                "Set OPENLINEAGE_API_KEY to a valid DataHub personal access token.",
            ),
            True,
        )
    return Check(name, "PASS", f"{target.root} answered HTTP {response.status_code}."), is_datahub


def check_token(target: HttpTarget, *, is_datahub: bool) -> Check | None:
    if not is_datahub:
        return None
    if target.api_key:
        return Check(f"{target.label} token", "PASS", "An API key is set.")
    return Check(
        f"{target.label} token",
        "WARN",
        "DataHub with metadata-service authentication rejects events without a token.",
        "Set OPENLINEAGE_API_KEY=<DataHub personal access token> (or auth.apiKey).",
    )


def check_dagster(env: Mapping[str, str]) -> Check:
    home = env.get("DAGSTER_HOME")
    if not home:
        return Check(
            "dagster instance",
            "WARN",
            "DAGSTER_HOME is not set: the daemon and backfill would use a temporary instance.",
            "export DAGSTER_HOME=/path/to/dagster_home (the directory holding dagster.yaml).",
        )
    if not Path(home).is_dir():
        return Check(
            "dagster instance",
            "FAIL",
            f"DAGSTER_HOME={home} does not exist.",
            "Create it, or point DAGSTER_HOME at the directory holding dagster.yaml.",
        )
    from dagster import DagsterInstance

    try:
        instance = DagsterInstance.from_config(home)
    except Exception as error:  # dagster raises many types for a bad dagster.yaml: report it
        return Check(
            "dagster instance",
            "FAIL",
            f"{home}/dagster.yaml cannot be loaded: {type(error).__name__}: {error}",
            "Fix dagster.yaml (see `dagster instance info`).",
        )
    with instance:
        runs = type(instance.run_storage).__name__
        events = type(instance.event_log_storage).__name__
        count = len(instance.get_run_records(limit=1))
    kind = "run-sharded SQLite" if events == "SqliteEventLogStorage" else events
    return Check(
        "dagster instance",
        "PASS",
        f"{home}: run storage {runs}, event log {kind}"
        + ("" if count else " (no runs yet)")
        + "; the sensor reads every storage kind.",
    )


def run_checks(
    env: Mapping[str, str] | None = None,
    *,
    cwd: Path | None = None,
    home: Path | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> list[Check]:
    env = dict(os.environ) if env is None else env
    resolution = resolve(env, cwd or Path.cwd(), home or Path.home())
    checks = check_config(resolution)
    for target in http_targets(resolution.transport or {}):
        reach, is_datahub = probe(target, timeout)
        checks.append(check_join(target, is_datahub=is_datahub))
        token = check_token(target, is_datahub=is_datahub)
        if token is not None:
            checks.append(token)
        checks.append(reach)
    checks.append(check_dagster(env))
    return checks


def render(checks: list[Check]) -> str:
    lines = []
    for check in checks:
        lines.append(f"{check.status}  {check.name}: {check.message}")
        if check.fix:
            lines.append(f"      fix: {check.fix}")
    return "\n".join(lines)
