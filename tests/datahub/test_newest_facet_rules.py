"""Rules of DataHub's newest converter that its corpus events do not reach on their own."""

from __future__ import annotations

import pytest

from ol_bridge.datahub import job_aspects
from ol_bridge.datahub.dataset_facets import java_double


@pytest.mark.parametrize(
    ("value", "java"),
    [
        (0, "0.0"),
        (660, "660.0"),
        (0.001, "0.001"),
        (0.0001, "1.0E-4"),
        (1234567.5, "1234567.5"),
        (10_000_000, "1.0E7"),
        (12000000.5, "1.20000005E7"),
        (-2.5e-7, "-2.5E-7"),
    ],
)
def test_java_double_to_string(value: float, java: str) -> None:
    """``Double.toString``, which DataHub's profile values are printed with."""
    assert java_double(value) == java


def test_source_code_url_falls_back_to_the_repository() -> None:
    location = {"type": "git", "repoUrl": "https://github.com/acme/orders"}
    assert job_aspects.source_code_url({"sourceCodeLocation": location}) == location["repoUrl"]
    with_url = {**location, "url": "https://github.com/acme/orders/blob/main/x.py"}
    assert job_aspects.source_code_url({"sourceCodeLocation": with_url}) == with_url["url"]


def test_blank_processing_type_keeps_the_orchestrator() -> None:
    assert job_aspects.job_type({"jobType": {"processingType": "  "}}, "dagster") == "dagster"
    assert job_aspects.job_type({"jobType": {"processingType": " STREAMING "}}, "x") == "STREAMING"
