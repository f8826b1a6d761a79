"""Shared pieces of the DataHub converter tests: the corpus location and the parity report."""

from __future__ import annotations

import attrs
import pytest


@attrs.define
class ScenarioParity:
    """Parity figures of one corpus scenario (a folder of events)."""

    events: int = 0
    golden_urns: int = 0
    matched_urns: int = 0
    extra_urns: int = 0
    golden_aspects: int = 0
    matched_aspects: int = 0


@attrs.define
class ParityReport:
    """Parity figures per scenario, collected over the session and printed at its end."""

    scenarios: dict[str, ScenarioParity] = attrs.field(factory=dict)

    def row(self, scenario: str) -> ScenarioParity:
        return self.scenarios.setdefault(scenario, ScenarioParity())


PARITY_KEY = pytest.StashKey[ParityReport]()


@pytest.fixture
def parity_report(request: pytest.FixtureRequest) -> ParityReport:
    """Session-wide parity figures, printed at the end of the run."""
    return request.config.stash.setdefault(PARITY_KEY, ParityReport())


def _percent(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole else "n/a"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    parity = terminalreporter.config.stash.get(PARITY_KEY, None)
    if parity is None or not parity.scenarios:
        return
    report = parity.scenarios
    write = terminalreporter.write_line
    terminalreporter.section("DataHub converter parity (corpus vs DataHub's Java converter)")
    total = ScenarioParity()
    for name, row in sorted(report.items()):
        urn_whole = row.golden_urns + row.extra_urns
        write(
            f"{name:48s} events={row.events:3d}"
            f"  URN parity {_percent(row.matched_urns, urn_whole):>6s}"
            f"  aspect parity {_percent(row.matched_aspects, row.golden_aspects):>6s}"
            f" ({row.matched_aspects}/{row.golden_aspects})"
        )
        for field in attrs.fields(ScenarioParity):
            setattr(total, field.name, getattr(total, field.name) + getattr(row, field.name))
    write(
        f"{'TOTAL':48s} events={total.events:3d}  URN parity "
        f"{_percent(total.matched_urns, total.golden_urns + total.extra_urns):>6s}"
        f"  aspect parity {_percent(total.matched_aspects, total.golden_aspects):>6s}"
        f" ({total.matched_aspects}/{total.golden_aspects})"
    )
