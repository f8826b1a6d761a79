"""The README and docs/*.md are true to the code: their Python runs (or at least compiles and
imports, where it holds placeholders such as ``assets=[...]``), a ``# value`` comment under
an expression is what it evaluates to, every ``ol-bridge`` command line they show parses
with the real command line, and every repository path and ``ol_bridge.*`` name they cite
exists."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path
from typing import Any

import click
import pytest

from ol_bridge.cli import main
from tests.doc_blocks import DOCS, ROOT, Block, command_lines, inline_commands, python_blocks

PYTHON = python_blocks()


def test_the_docs_have_python_and_commands() -> None:
    # a parser that stopped finding blocks would make every test below pass vacuously
    assert len(PYTHON) >= 7 and len(command_lines()) >= 15 and len(inline_commands()) >= 30


@pytest.mark.parametrize("block", PYTHON, ids=[b.where for b in PYTHON])
def test_python_block_runs(block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree = ast.parse(block.text, block.where)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": "doc_block"}
    placeholders = any(
        isinstance(node, ast.Constant) and node.value is Ellipsis for node in ast.walk(tree)
    )
    if placeholders:  # a template: its imports must still resolve
        imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        assert imports, f"{block.where}: a template without imports says nothing to check"
        exec(compile(ast.Module(imports, []), block.where, "exec"), namespace)
        return
    lines = block.text.splitlines()
    for statement in tree.body:
        code = compile(ast.Module([statement], []), block.where, "exec")
        if not isinstance(statement, ast.Expr):
            exec(code, namespace)
            continue
        value = eval(compile(ast.Expression(statement.value), block.where, "eval"), namespace)
        shown = _comment_after(lines, statement)
        if shown is not None:
            assert shown in (str(value), repr(value)), f"{block.where}: {shown} != {value!r}"


def _comment_after(lines: list[str], statement: ast.stmt) -> str | None:
    """The ``# text`` on the line after ``statement``, if it is a comment of its own."""
    end = statement.end_lineno or statement.lineno
    if end < len(lines) and lines[end].lstrip().startswith("# "):
        return lines[end].strip()[2:]
    return None


def _resolve(argv: list[str]) -> tuple[click.Command, click.Context, list[str]]:
    """The (sub)command ``argv`` names, a context for it, and the rest of ``argv``."""
    context = click.Context(main, info_name="ol-bridge")
    command: click.Command = main
    rest = list(argv)
    while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
        sub = command.get_command(context, rest[0])
        assert sub is not None, f"ol-bridge has no command {rest[0]!r} ({' '.join(argv)})"
        context = click.Context(sub, info_name=rest[0], parent=context)
        command, rest = sub, rest[1:]
    return command, context, rest


#: command lines; other lines starting with "ol-bridge" are log output ("ol-bridge delivery:")
COMMANDS = [
    (where, argv)
    for where, argv in command_lines()
    if argv and (argv[0].startswith("-") or argv[0] in main.list_commands(click.Context(main)))
]


@pytest.mark.parametrize(("where", "argv"), COMMANDS, ids=[w for w, _ in COMMANDS])
def test_command_line_parses(where: str, argv: list[str]) -> None:
    command, context, rest = _resolve(argv)
    try:
        command.make_context(context.info_name, rest, parent=context.parent)
    except click.BadParameter as error:
        if "does not exist" not in error.format_message():  # the docs' example files
            pytest.fail(f"{where}: `ol-bridge {' '.join(argv)}`: {error.format_message()}")
    except click.UsageError as error:
        pytest.fail(f"{where}: `ol-bridge {' '.join(argv)}`: {error.format_message()}")


def test_inline_commands_name_real_commands_and_options() -> None:
    wrong = []
    for where, argv in inline_commands():
        if not argv or argv[0].startswith("-"):
            continue
        if argv[0] not in main.list_commands(click.Context(main)):
            continue  # prose such as "ol-bridge delivery: ..." quoting a log line
        words = [w.strip("[]") for w in argv if w != "|"]
        command, _, _ = _resolve([w for w in words if not w.startswith("-")][:2])
        names = {name for param in command.params for name in getattr(param, "opts", [])}
        names |= {"--help"}
        unknown = [w for w in words if w.startswith("--") and w.split("=")[0] not in names]
        if unknown:
            wrong.append(f"{where}: ol-bridge {' '.join(argv)}: unknown {unknown}")
    assert wrong == []


#: repository paths as the docs and docstrings write them
_PATH = re.compile(
    r"(?<![\w./-])((?:ol_bridge|tests|docs|examples|scripts|benchmarks|schemas)/[\w./-]*\w)"
)


def _named_paths(text: str) -> set[str]:
    return {
        match.group(1)
        for match in _PATH.finditer(text)
        # patterns (``sql_*_worker.py``, ``<ClassName>.json``) and made-at-run-time venvs
        if text[match.end() : match.end() + 1] not in ("*", "<") and "/.venv" not in match.group(1)
    }


def test_paths_named_in_docs_and_docstrings_exist() -> None:
    sources = [*DOCS, *sorted((ROOT / "ol_bridge").rglob("*.py"))]
    missing = []
    for source in sources:
        for path in _named_paths(source.read_text(encoding="utf-8")):
            module = ROOT / (path.rsplit(".", 1)[0] + ".py")  # `tests/corpora.required`
            if not (ROOT / path).exists() and not module.is_file():
                missing.append(f"{source.relative_to(ROOT)}: {path}")
    assert sorted(missing) == []


_DOTTED = re.compile(r"`(ol_bridge(?:\.\w+)+)")


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            if not hasattr(found, attribute):
                return False
            found = getattr(found, attribute)
        return True
    return False


def test_dotted_names_in_the_docs_exist() -> None:
    named = {(path, m.group(1)) for path in DOCS for m in _DOTTED.finditer(path.read_text())}
    assert len(named) >= 20
    missing = sorted(
        f"{path.relative_to(ROOT)}: {name}" for path, name in named if not _resolves(name)
    )
    assert missing == []
