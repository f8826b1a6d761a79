"""Builds sql_corpus/sqllineage_tables.yaml from reata/sqllineage's table-lineage tests.

    python benchmarks/sql_corpus_sqllineage.py <checkout of github.com/reata/sqllineage>

Reads tests/sql/table/test_{select,insert,cte,create,merge,update}.py (the statements that
move data; the ``other_*`` files test statements sqllineage counts as no lineage, where
DataHub's conventions, which we follow, differ) and keeps each ``assert_table_lineage_equal``
call whose SQL and expected tables are literals: the SQL, the dialect and the expected
source / target tables. Only the data is kept; sqllineage is MIT-licensed.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Any

import yaml

FILES = ["select", "insert", "cte", "create", "merge", "update"]
OUT = Path(__file__).resolve().parent / "sql_corpus" / "sqllineage_tables.yaml"
HEADER = """\
# Table-lineage cases from sqllineage's test suite, kept as data (SQL, dialect, expected
# source and target tables). Built by benchmarks/sql_corpus_sqllineage.py.
# Source: github.com/reata/sqllineage tests/sql/table/test_{select,insert,cte,create,merge,
#   update}.py at commit {commit}. Licence: MIT, Copyright (c) 2019 Reata.
# sqllineage names tables as written, lower-cased, without defaults; it scores tables only.
"""


def _literal(node: ast.expr, names: dict[str, Any]) -> Any:
    if isinstance(node, ast.Name) and node.id in names:
        return names[node.id]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "set":
        return set()
    return ast.literal_eval(node)


def cases_of(path: Path) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for function in ast.parse(path.read_text()).body:
        if not isinstance(function, ast.FunctionDef) or function.decorator_list:
            continue
        names: dict[str, Any] = {}
        for statement in ast.walk(function):
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                target = statement.targets[0]
                try:
                    if isinstance(target, ast.Name):
                        names[target.id] = ast.literal_eval(statement.value)
                except ValueError:
                    pass
            call = statement.value if isinstance(statement, ast.Expr) else None
            if not (
                isinstance(call, ast.Call)
                and getattr(call.func, "id", "") == ("assert_table_lineage_equal")
            ):
                continue
            try:
                args = [_literal(arg, names) for arg in call.args]
                keywords = {k.arg: _literal(k.value, names) for k in call.keywords}
            except ValueError:
                continue
            sql, sources, targets = ([*args, None, None])[:3]
            sources = keywords.get("source_tables", sources)
            targets = keywords.get("target_tables", targets)
            if not isinstance(sql, str) or keywords.get("dialect", "ansi") != "ansi":
                continue
            number = sum(
                1
                for case in cases
                if case["id"] == f"sqllineage/{function.name}"
                or case["id"].startswith(f"sqllineage/{function.name}_")
            )
            cases.append(
                {
                    "id": f"sqllineage/{function.name}{f'_{number}' if number else ''}",
                    "dialect": None,
                    "sql": "\n".join(line.rstrip() for line in sql.strip().splitlines()) + "\n",
                    "expect": {
                        "inputs": sorted(t.lower() for t in sources or ()),
                        "outputs": sorted(t.lower() for t in targets or ()),
                    },
                }
            )
    return cases


def _block(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


def main() -> None:
    yaml.SafeDumper.add_representer(str, _block)
    checkout = Path(sys.argv[1])
    commit = (checkout / "COMMIT").read_text().strip() if (checkout / "COMMIT").exists() else "?"
    cases = [
        case
        for name in FILES
        for case in cases_of(checkout / "tests/sql/table" / f"test_{name}.py")
    ]
    OUT.write_text(
        HEADER.replace("{commit}", commit)
        + yaml.safe_dump({"cases": cases}, sort_keys=False, allow_unicode=True, width=100)
    )
    print(f"{len(cases)} cases -> {OUT}")


if __name__ == "__main__":
    main()
