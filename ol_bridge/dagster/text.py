"""Text from user code made safe to put into an event: valid UTF-8 and bounded in size.

Dagster metadata, descriptions and error messages are whatever user code produced: a 5 MB
query, a path decoded with ``surrogateescape``. Left as is, one such value makes a backend
refuse the whole event (or the HTTP transport fail to encode it), so it is cleaned here and
the truncation is visible in the text itself.
"""

from __future__ import annotations

#: longest SQL text that is parsed for lineage and put into the ``sql`` facet
MAX_SQL_CHARS = 200_000
#: longest description, error message or other free text put into an event
MAX_TEXT_CHARS = 64_000
#: longest stack trace put into an ``errorMessage`` facet
MAX_STACK_TRACE_CHARS = 100_000


def clean_text(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """``text`` as valid UTF-8 (unencodable characters become U+FFFD), cut to ``limit``
    characters with a marker saying how much was left out."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Only lone surrogates (e.g. bytes decoded with surrogateescape) fail to encode.
        text = "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in text)
    if len(text) <= limit:
        return text
    omitted = len(text) - limit
    return f"{text[:limit]}\n... [ol-bridge: {omitted} more characters not included]"
