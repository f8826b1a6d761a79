"""An HTTP destination, checked for real: the URL/endpoint join, who answers, and whether
the lineage path takes OpenLineage events.

Two requests, with the transport's own URL, headers, token, TLS settings and a time box:
``GET <root>/config`` tells DataHub GMS apart (and says its version), then ``POST {}`` to
the lineage URL. An OpenLineage endpoint rejects the empty event (400/422) and stores
nothing; 404/405 mean nothing takes events at that path, so every event would be lost.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import attrs
import requests
from openlineage.client.transport.http import HttpTransport

from ol_bridge.delivery.redact import redact
from ol_bridge.doctor.model import Check

DATAHUB_PATH = "openapi/openlineage/api/v1/lineage"
MARQUEZ_PATH = "api/v1/lineage"


@attrs.frozen
class HttpTarget:
    """What the doctor needs of an ``HttpTransport`` (read from its public attributes)."""

    label: str
    url: str
    endpoint: str
    headers: dict[str, str] = attrs.field(factory=dict, repr=False)
    verify: bool | str = True
    has_token: bool = False

    @classmethod
    def of(cls, label: str, transport: HttpTransport) -> HttpTarget:
        config = transport.config
        bearer = config.auth.get_bearer() if config.auth is not None else None
        headers = {"Authorization": bearer} if bearer else {}
        headers.update(config.custom_headers or {})
        return cls(
            label, transport.url, transport.endpoint, headers, transport.verify, bool(bearer)
        )

    @property
    def lineage_url(self) -> str:
        # exactly how openlineage-python's HttpTransport joins them
        return urljoin(self.url, self.endpoint)

    @property
    def root(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"


@attrs.frozen
class Identity:
    reachable: bool
    is_datahub: bool
    detail: str


def check_http(target: HttpTarget, timeout: float) -> list[Check]:
    checks = []
    trap = _path_twice(target)
    if trap is not None:
        checks.append(trap)
    identity = identify(target, timeout)
    if not identity.reachable:
        return [
            *checks,
            Check(
                f"{target.label} reachable",
                "FAIL",
                f"Cannot reach {redact(target.root)}: {identity.detail}.",
                "Check the host and port, and that the server runs and is reachable from "
                "where the code location server (which runs the sensor) runs.",
            ),
        ]
    if identity.is_datahub and not target.has_token:
        checks.append(
            Check(
                f"{target.label} token",
                "WARN",
                f"{identity.detail}, and no token is set: DataHub with metadata-service "
                "authentication rejects events without one.",
                "Set OPENLINEAGE_API_KEY=<DataHub personal access token> (or auth.apiKey).",
            )
        )
    checks.append(probe_endpoint(target, identity, timeout))
    return checks


def _path_twice(target: HttpTarget) -> Check | None:
    path = urlsplit(target.url).path.strip("/")
    if not (path.endswith(MARQUEZ_PATH) and target.endpoint):
        return None
    return Check(
        f"{target.label} url",
        "FAIL",
        "The URL already ends with the lineage path and the endpoint is appended: events "
        f"go to {redact(target.lineage_url)}.",
        f"Set the URL to {redact(target.root)} and the endpoint to the lineage path "
        f"({DATAHUB_PATH} for DataHub, {MARQUEZ_PATH} for Marquez).",
    )


def identify(target: HttpTarget, timeout: float) -> Identity:
    """``GET <root>/config``: is the server up, and is it DataHub GMS?"""
    try:
        response = requests.get(
            target.root + "/config", headers=target.headers, timeout=timeout, verify=target.verify
        )
    except requests.RequestException as error:
        return Identity(False, False, type(error).__name__)
    with response:
        if response.status_code == 200:
            try:
                body = response.json()
            except ValueError:
                body = None
            if isinstance(body, dict) and ("noCode" in body or "acryldata/datahub" in str(body)):
                version = body.get("versions", {}).get("acryldata/datahub", {}).get("version")
                return Identity(True, True, f"DataHub GMS {version or '(version unknown)'}")
    looks_datahub = DATAHUB_PATH in target.lineage_url or "datahub" in target.url.lower()
    return Identity(True, looks_datahub, "DataHub" if looks_datahub else "an HTTP server")


def probe_endpoint(target: HttpTarget, identity: Identity, timeout: float) -> Check:
    """``POST {}`` to the lineage URL, as the transport posts events."""
    name = f"{target.label} endpoint"
    url = redact(target.lineage_url)
    try:
        response = requests.post(
            target.lineage_url,
            data="{}",
            headers={"Content-Type": "application/json", **target.headers},
            timeout=timeout,
            verify=target.verify,
            allow_redirects=False,
        )
    except requests.RequestException as error:
        return Check(
            name,
            "FAIL",
            f"POST {url} failed: {type(error).__name__}.",
            "Check the URL and endpoint, and the server's log.",
        )
    with response:
        status = response.status_code
        location = response.headers.get("Location", "")
    if status in (404, 405, 501):
        return Check(
            name,
            "FAIL",
            f"{url} answered HTTP {status}: no OpenLineage endpoint there ({identity.detail} "
            f"at {redact(target.root)}); every event would be refused.",
            _endpoint_fix(target, identity),
        )
    if status in (401, 403):
        return Check(
            name,
            "FAIL",
            f"{url} refused the request (HTTP {status}): the token "
            + ("was rejected." if target.has_token else "is missing."),
            "Set OPENLINEAGE_API_KEY (or auth.apiKey) to a valid token"
            + (" (a DataHub personal access token)." if identity.is_datahub else "."),
        )
    if 300 <= status < 400:
        return Check(
            name,
            "FAIL",
            f"{url} redirects (HTTP {status}) to {redact(location)}: a redirected POST loses "
            "its event.",
            "Configure the URL the server redirects to (often https://).",
        )
    if status in (400, 422) or 200 <= status < 300:
        answer = "accepted" if status < 300 else "rejected"
        return Check(
            name,
            "PASS",
            f"{url} takes OpenLineage events ({identity.detail}; it {answer} doctor's empty "
            f"probe event with HTTP {status}).",
        )
    return Check(
        name,
        "WARN",
        f"{url} answered HTTP {status} to doctor's empty probe event ({identity.detail} at "
        f"{redact(target.root)}).",
        "Look at the server's log: events may be refused the same way.",
    )


def _endpoint_fix(target: HttpTarget, identity: Identity) -> str:
    where = "OPENLINEAGE_ENDPOINT or endpoint: in openlineage.yml"
    if identity.is_datahub:
        return f"This is DataHub: set the endpoint to {DATAHUB_PATH} ({where})."
    return (
        f"Set the endpoint to the server's lineage path ({where}): {MARQUEZ_PATH} for "
        f"Marquez and ol-bridge serve, {DATAHUB_PATH} for DataHub."
    )
