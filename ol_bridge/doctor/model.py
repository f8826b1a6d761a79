"""What a doctor check says, and how the command prints it. No third-party imports but
attrs, so ``ol-bridge doctor --help`` stays light."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import attrs

Status = Literal["PASS", "WARN", "FAIL"]

#: seconds to wait for each backend
DEFAULT_TIMEOUT_SECONDS = 5.0


@attrs.frozen
class Check:
    name: str
    status: Status
    message: str
    #: one line saying what to change; set for WARN and FAIL
    fix: str | None = None


def render(checks: Sequence[Check]) -> str:
    lines = []
    for check in checks:
        lines.append(f"{check.status}  {check.name}: {check.message}")
        if check.fix:
            lines.append(f"      fix: {check.fix}")
    return "\n".join(lines)


def failed(checks: Sequence[Check]) -> bool:
    return any(check.status == "FAIL" for check in checks)
