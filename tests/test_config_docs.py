"""docs/configuration.md is generated from the code and must be up to date."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import attrs

from ol_bridge.dagster import TickLimits
from ol_bridge.datahub.config import ConverterConfig
from ol_bridge.naming import NamingConfig

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "gen_config_docs.py"


def _generate() -> str:
    spec = importlib.util.spec_from_file_location("gen_config_docs", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.generate())


def test_committed_configuration_doc_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == _generate(), (
        "docs/configuration.md is stale: run `python scripts/gen_config_docs.py`"
    )


def test_every_option_is_documented_with_its_default() -> None:
    text = _generate()
    for cls in (TickLimits, NamingConfig, ConverterConfig):
        for field in attrs.fields(cls):
            assert f"| `{field.name}` |" in text, field.name
    assert "| `time_budget_seconds` | `float` | `40.0` |" in text
    assert "| `server` | `str \\| None` | `None` | `DATAHUB_GMS_URL` |" in text


def test_check_flag_passes_on_the_committed_file() -> None:
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
