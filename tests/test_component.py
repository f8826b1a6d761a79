"""``OpenLineageSensorComponent`` with Dagster's real project tooling.

A project is created by ``create-dagster project`` in a temporary directory, the component
is added by ``dg scaffold defs ol_bridge.OpenLineageSensorComponent``, and ``dg`` loads the
definitions. No network: ``--no-uv-sync``, the project runs on this test's own Python (dg's
``DG_PROJECT_PYTHON_EXECUTABLE`` in the project's ``.env``), and ``PYTHONPATH=src`` stands in
for the editable install of the project package that ``uv sync`` would make. Then the
sensor the YAML describes ticks on a real instance.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from pydantic import ValidationError

from ol_bridge import OpenLineageSensorComponent
from ol_bridge.dagster import OpenLineageTranslator
from ol_bridge.errors import ConfigError

BIN = Path(sys.executable).parent
TYPE = "ol_bridge.OpenLineageSensorComponent"

SCAFFOLDED = """type: ol_bridge.OpenLineageSensorComponent

attributes:
  name: openlineage_sensor
  minimum_interval_seconds: 30
  default_status: stopped
  start: beginning
"""

CONFIGURED = """type: ol_bridge.OpenLineageSensorComponent
attributes:
  name: lineage_to_datahub
  minimum_interval_seconds: 45
  default_status: running
  description: Lineage to DataHub
  start: "2000-01-01T00:00:00"
  namespace: analytics-prod
  naming:
    connections:
      snowflake: snowflake://myorg-acct
  delivery:
    path: {outbox}
    drain_seconds: 5
  limits:
    max_new_runs: 50
"""

ASSETS = """import dagster as dg


@dg.asset(key_prefix=["prod", "snowflake", "analytics", "public"])
def orders() -> None:
    pass
"""


class Project:
    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env
        self.defs = root / "src" / "lineage_demo" / "defs"

    def dg(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        completed = subprocess.run(
            [str(BIN / "dg"), *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if ok:
            assert completed.returncode == 0, completed.stdout + completed.stderr
        return completed

    def write_component(self, text: str) -> None:
        (self.defs / "lineage" / "defs.yaml").write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    base = tmp_path_factory.mktemp("dg")
    env = {
        **os.environ,
        "HOME": str(base / "home"),
        # no PyPI look-up for a newer create-dagster / dg, no telemetry
        "DAGSTER_DG_UPDATE_CHECK_ENABLED": "0",
        "DAGSTER_DISABLE_TELEMETRY": "1",
        "PYTHONPATH": "src",
    }
    (base / "home").mkdir()
    created = subprocess.run(
        [str(BIN / "create-dagster"), "project", "lineage-demo", "--no-uv-sync"],
        cwd=base,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert created.returncode == 0, created.stdout + created.stderr
    root = base / "lineage-demo"
    (root / ".env").write_text(f"DG_PROJECT_PYTHON_EXECUTABLE={sys.executable}\n")
    project = Project(root, env)
    project.dg("scaffold", "defs", TYPE, "lineage")
    return project


def test_dg_knows_the_component_and_scaffolds_its_defaults(project: Project) -> None:
    listed = json.loads(project.dg("list", "components", "--json").stdout)["items"]
    ours = [item for item in listed if item["key"] == TYPE]
    assert len(ours) == 1
    assert ours[0]["summary"].startswith("Emits OpenLineage events for every run")
    assert (project.defs / "lineage" / "defs.yaml").read_text(encoding="utf-8") == SCAFFOLDED
    defs = json.loads(project.dg("list", "defs", "--json").stdout)
    assert defs["sensors"] == [
        {"name": "openlineage_sensor", "source": "src/lineage_demo/defs/lineage/defs.yaml:1"}
    ]


def test_yaml_options_reach_the_sensor_and_a_tick_on_a_real_instance(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outbox = tmp_path / "outbox" / "lineage.sqlite"
    project.write_component(CONFIGURED.format(outbox=outbox))
    (project.defs / "assets.py").write_text(ASSETS, encoding="utf-8")
    project.dg("check", "yaml")
    listed = json.loads(project.dg("list", "defs", "--json").stdout)
    assert [sensor["name"] for sensor in listed["sensors"]] == ["lineage_to_datahub"]
    assert [asset["asset_key"] for asset in listed["assets"]] == [
        "prod/snowflake/analytics/public/orders"
    ]

    events_file = tmp_path / "events.jsonl"
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "file")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__LOG_FILE_PATH", str(events_file))
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__APPEND", "true")
    with loaded_definitions(project) as defs:
        sensor = defs.resolve_sensor_def("lineage_to_datahub")
        assert sensor.minimum_interval_seconds == 45
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
        assert sensor.description == "Lineage to DataHub"
        with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
            job = defs.resolve_implicit_global_asset_job_def()
            assert job.execute_in_process(instance=instance).success
            context = dg.build_sensor_context(instance=instance, definitions=defs)
            result = sensor.evaluate_tick(context)
    assert result.skip_message == "Emitted 4 OpenLineage events. Delivered 4."
    assert outbox.is_file()  # delivery.path from the YAML
    events = [json.loads(line) for line in events_file.read_text().splitlines()]
    assert {event["job"]["namespace"] for event in events} == {"analytics-prod"}
    outputs = {(d["namespace"], d["name"]) for event in events for d in event.get("outputs", [])}
    assert outputs == {("snowflake://myorg-acct", "analytics.public.orders")}


def test_unknown_keys_are_rejected_by_dg_before_and_when_loading(project: Project) -> None:
    project.write_component(SCAFFOLDED + "  schedule: hourly\n")
    top = project.dg("check", "yaml", ok=False)
    assert top.returncode != 0
    assert (
        "Additional properties are not allowed ('schedule' was unexpected)"
        in top.stdout + top.stderr
    )

    project.write_component(SCAFFOLDED + "  delivery:\n    drain_second: 5\n")
    nested = project.dg("check", "yaml", ok=False)
    assert nested.returncode != 0
    assert "drain_second" in nested.stdout + nested.stderr
    loading = project.dg("list", "defs", "--json", ok=False)
    assert loading.returncode != 0
    said = loading.stdout + loading.stderr
    assert "attributes.delivery.DeliveryConfigSettings.drain_second at " in said
    assert "Extra inputs are not permitted" in said

    # a known key with a bad value: the config class's own message, when dg loads
    project.write_component(SCAFFOLDED + "  delivery:\n    on_full: block\n")
    project.dg("check", "yaml")
    loading = project.dg("list", "defs", "--json", ok=False)
    assert loading.returncode != 0
    assert "delivery option on_full must be one of pause, drop_oldest, got 'block'" in (
        loading.stdout + loading.stderr
    )


@pytest.fixture(scope="module", autouse=True)
def _component_restored(project: Project) -> Iterator[None]:
    yield
    project.write_component(SCAFFOLDED)


class loaded_definitions:  # noqa: N801 - used as a context manager
    """The project's definitions, loaded in this process as ``dg`` loads them."""

    def __init__(self, project: Project) -> None:
        self.src = str(project.root / "src")
        self.package = project.root / "src" / "lineage_demo"

    def __enter__(self) -> dg.Definitions:
        sys.path.insert(0, self.src)
        return dg.load_from_defs_folder(path_within_project=self.package)

    def __exit__(self, *exc: object) -> None:
        sys.path.remove(self.src)
        for name in [name for name in sys.modules if name.split(".")[0] == "lineage_demo"]:
            del sys.modules[name]


# -- the options, without dg ------------------------------------------------------------


def build(**attributes: Any) -> dg.SensorDefinition:
    return OpenLineageSensorComponent(**attributes).build_sensor()


def test_defaults_are_the_builders() -> None:
    sensor = build()
    assert sensor.name == "openlineage_sensor"
    assert sensor.minimum_interval_seconds == 30
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"start": "yesterday"}, "start must be beginning, now, an ISO 8601 datetime"),
        ({"naming": {"connection": {}}}, "Unknown key(s) ['connection'] in the naming settings"),
        ({"limits": {"max_runs": 3}}, "Unknown key(s) ['max_runs'] in the tick limits"),
        ({"limits": {"max_new_runs": 0}}, "tick limits must be positive"),
        ({"delivery": {"on_full": "block"}}, "on_full must be one of pause, drop_oldest"),
        ({"default_status": "on"}, "Input should be 'running' or 'stopped'"),
    ],
)
def test_bad_options_say_what_is_wrong(attributes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=_literal(message)):
        OpenLineageSensorComponent(**attributes)


def _literal(text: str) -> str:
    import re

    return re.escape(text)


TRANSLATOR = OpenLineageTranslator(namespace="from-code")


def test_a_translator_reference_replaces_the_naming_options() -> None:
    component = OpenLineageSensorComponent(translator=f"{__name__}:TRANSLATOR")
    assert component.build_translator() is TRANSLATOR
    factory = OpenLineageSensorComponent(translator="ol_bridge.dagster:OpenLineageTranslator")
    assert isinstance(factory.build_translator(), OpenLineageTranslator)
    both = OpenLineageSensorComponent(translator=f"{__name__}:TRANSLATOR", namespace="x")
    with pytest.raises(ConfigError, match="Give either translator or namespace"):
        both.build_sensor()
    with pytest.raises(ConfigError, match="is a str, not an OpenLineageTranslator"):
        OpenLineageSensorComponent(translator=f"{__name__}:TYPE").build_sensor()


def test_the_quickstart_example_is_valid() -> None:
    import yaml

    text = (Path(__file__).parents[1] / "docs" / "quickstart.md").read_text(encoding="utf-8")
    blocks = [block.split("```", 1)[0] for block in text.split("```yaml\n")[1:]]
    example = next(yaml.safe_load(b) for b in blocks if "lineage_to_datahub" in b)
    sensor = build(**example["attributes"])
    assert (sensor.name, sensor.minimum_interval_seconds) == ("lineage_to_datahub", 45)
