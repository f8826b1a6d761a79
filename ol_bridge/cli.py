"""The ``ol-bridge`` command line.

Each subcommand lives in its own module under ``ol_bridge.commands``, imported only when
it is listed or run. Those modules import only click and ol-bridge's small modules at the
top; Dagster, OpenLineage and acryl-datahub are imported inside the command that needs
them. So ``ol-bridge --help`` and ``ol-bridge <command> --help`` stay fast, and a missing
optional extra breaks only the command that needs it (``tests/test_cli.py`` checks the
imports).
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

import click

from ol_bridge import __version__

#: subcommand name -> "module:attribute" of its click command
_COMMANDS: dict[str, str] = {
    "demo": "ol_bridge.commands.demo:demo",
    "convert": "ol_bridge.commands.convert:convert",
    "serve": "ol_bridge.commands.serve:serve",
    "backfill": "ol_bridge.commands.backfill:backfill",
    "lineage": "ol_bridge.commands.lineage:lineage",
    "doctor": "ol_bridge.commands.doctor:doctor",
    "outbox": "ol_bridge.commands.outbox:outbox",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        # Only commands whose module exists in this installation.
        return sorted(
            name
            for name, target in _COMMANDS.items()
            if importlib.util.find_spec(target.split(":")[0]) is not None
        )

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None or cmd_name not in self.list_commands(ctx):
            return None
        module_name, attribute = target.split(":")
        command: Any = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=_LazyGroup)
@click.version_option(__version__, prog_name="ol-bridge")
def main() -> None:
    """Dagster lineage to DataHub and any OpenLineage backend."""


if __name__ == "__main__":
    main()
