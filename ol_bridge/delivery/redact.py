"""Take secrets out of text before it is logged or stored as a destination's last error.

Transport errors quote URLs (``... for url: https://user:token@host/api``); connection
strings carry passwords in their userinfo or query (``?password=...``).
"""

from __future__ import annotations

import re

_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^/\s@?#]+@")
_SECRET_PARAMS = re.compile(
    r"(?P<key>\b(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|auth)=)[^&\s]+",
    re.IGNORECASE,
)

REDACTED = "***"


def redact(text: str) -> str:
    """``text`` with URL userinfo and secret-looking query values replaced by ``***``."""
    text = _USERINFO.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", text)
    return _SECRET_PARAMS.sub(lambda m: f"{m.group('key')}{REDACTED}", text)
