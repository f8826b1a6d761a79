"""SQL recorded as a Markdown code block, the way Dagster users make the UI highlight it:
``MetadataValue.md(f"```sql\\n{sql}\\n```")``. The fence is presentation, not SQL."""

from __future__ import annotations

import re

#: One fenced block and nothing else around it but whitespace: an opening fence of three or
#: more backticks or tildes with an optional info string (``sql``, ``duckdb``, ...), the
#: code, and a closing fence of the same character at least as long (CommonMark).
_FENCED = re.compile(
    r"\A\s*(?P<fence>`{3,}|~{3,})[^\n`]*\n"
    r"(?P<code>.*?)\n?[ \t]*(?P=fence)[`~]*\s*\Z",
    re.DOTALL,
)


def unfenced_sql(text: str) -> str:
    """``text`` without a surrounding Markdown code fence; other text unchanged.

    Only a single block is unwrapped: a text holding several blocks, or prose around the
    block, is returned as written (the parser then reports it, rather than ol-bridge
    guessing which part is the query).
    """
    match = _FENCED.match(text)
    if match is None:
        return text
    code = match.group("code")
    fence_char = match.group("fence")[0]
    if any(line.lstrip().startswith(fence_char * 3) for line in code.splitlines()):
        return text
    return code.strip()
