"""The one platform table, and every reader of it agreeing on each platform and alias."""

from __future__ import annotations

import pytest
from sqlglot import Dialect

from ol_bridge.datahub import ConverterConfig
from ol_bridge.datahub.dataset_urns import resolve_dataset_urn
from ol_bridge.datahub.job_urns import orchestrator
from ol_bridge.naming import DatasetId, dataset_for_table, platform_of
from ol_bridge.platforms import PLATFORMS, canonical_platform, lookup, scheme_platform
from ol_bridge.sql import dialect_for_platform


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_every_platform_is_complete(platform: str) -> None:
    entry = PLATFORMS[platform]
    if entry.kind == "table":
        assert entry.levels in (1, 2, 3)
        assert entry.dialect is not None
        Dialect.get_or_raise(entry.dialect)  # sqlglot knows it
    assert canonical_platform(platform.upper()) == platform
    for alias in (*entry.spellings, *entry.converter_schemes):
        assert lookup(alias) is entry


@pytest.mark.parametrize(
    ("written", "platform"),
    [
        ("postgresql", "postgres"),
        ("PostgreSQL", "postgres"),
        ("mariadb", "mysql"),
        ("sqlserver", "mssql"),
        ("awsathena", "athena"),
        ("gs", "gcs"),
        ("s3a", "s3"),
        ("wasbs", "abs"),
    ],
)
def test_aliases_mean_one_platform_to_every_reader(written: str, platform: str) -> None:
    assert canonical_platform(written) == platform
    if PLATFORMS[platform].kind == "table":
        # naming, SQL dialects and the converter's URNs all read the same table
        assert dialect_for_platform(written) == PLATFORMS[platform].dialect
        dataset = dataset_for_table(written, "a.b.c")
        assert platform_of(dataset) == platform
        urn = resolve_dataset_urn(dataset.namespace, dataset.name, None, ConverterConfig())
        assert urn.platform == f"urn:li:dataPlatform:{platform}"


def test_the_converter_keeps_only_datahubs_own_renames() -> None:
    # DataHub's converter renames sqlserver and awsathena schemes, nothing else: a
    # ``postgresql://`` namespace stays platform ``postgresql`` there, and here.
    config = ConverterConfig()
    assert resolve_dataset_urn("sqlserver://h:1433", "d.s.t", None, config).platform.endswith(
        ":mssql"
    )
    assert resolve_dataset_urn("postgresql://h:5432", "d.s.t", None, config).platform.endswith(
        ":postgresql"
    )
    assert orchestrator(config, "SQLServer", None, None) == "mssql"
    assert orchestrator(config, "postgresql", None, None) == "postgresql"
    assert scheme_platform("wasbs") == "abs"
    assert scheme_platform("postgresql") == "postgresql"
    assert platform_of(DatasetId("gs://bucket", "x")) == "gcs"
