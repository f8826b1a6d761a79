"""The code the README and docs/*.md show: fenced blocks, and the ``ol-bridge`` command lines."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import attrs

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))

_FENCE = re.compile(r"^```(\w*)\s*$")
_INLINE = re.compile(r"(?<!`)`(ol-bridge [^`]+)`(?!`)")


@attrs.frozen
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    language: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks(path: Path) -> list[Block]:
    found: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    opened: tuple[int, str] | None = None
    body: list[str] = []
    for number, line in enumerate(lines, 1):
        fence = _FENCE.match(line)
        if fence and opened is None:
            opened, body = (number, fence.group(1)), []
        elif line.strip() == "```" and opened is not None:
            found.append(Block(path, opened[0], opened[1], "\n".join(body) + "\n"))
            opened = None
        elif opened is not None:
            body.append(line)
    return found


def python_blocks() -> list[Block]:
    return [b for path in DOCS for b in blocks(path) if b.language == "python"]


def command_lines() -> list[tuple[str, list[str]]]:
    """(where, argv after ``ol-bridge``) of every command line in a shell-like block."""
    found = []
    for path in DOCS:
        for block in blocks(path):
            if block.language not in ("", "bash", "console", "sh", "shell"):
                continue
            for offset, line in enumerate(block.text.splitlines(), 1):
                argv = _ol_bridge_argv(line)
                if argv is not None:
                    found.append((f"{block.where}+{offset}", argv))
    return found


def inline_commands() -> list[tuple[str, list[str]]]:
    """(where, argv after ``ol-bridge``) of every ``ol-bridge ...`` code span in the prose."""
    found = []
    for path in DOCS:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in _INLINE.finditer(line):
                try:
                    argv = shlex.split(match.group(1), comments=True)[1:]
                except ValueError:
                    continue
                found.append((f"{path.relative_to(ROOT)}:{number}", argv))
    return found


def _ol_bridge_argv(line: str) -> list[str] | None:
    text = line.strip().removeprefix("$ ")
    try:
        words = shlex.split(text, comments=True)
    except ValueError:
        return None
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
        words = words[1:]  # VAR=value prefixes
    if words and words[0] in ("cat", "echo") and "|" in words:
        words = words[words.index("|") + 1 :]
    if not words or not (words[0] == "ol-bridge" or words[0].endswith("/bin/ol-bridge")):
        return None
    return words[1:]
