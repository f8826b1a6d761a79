"""Render ``results.jsonl`` as ``RESULTS.md`` (tables, targets) and ``chart.png``.

``python benchmarks/report.py benchmarks/results/results.jsonl``
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

PLUGIN = "acryl-datahub-dagster-plugin"
DOL = "dagster-openlineage"
X = "\u00d7"  # multiplication sign
DASH = "\u2013"  # en dash: "no figure"
ORDER = [
    "ol-bridge/ol-http",
    "ol-bridge/datahub-rest",
    "ol-bridge/datahub-lite",
    PLUGIN,
    DOL,
]


def _f(value: Any, digits: int = 3) -> str:
    if value is None:
        return DASH
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _ratio(anchor: dict[str, Any] | None, ours: dict[str, Any]) -> str:
    if not anchor or "cpu_s" not in anchor or not ours.get("cpu_s"):
        return DASH
    ratio = anchor["cpu_s"] / ours["cpu_s"]
    return f"{ratio:.1f}{X}" if ratio >= 1 else f"{ratio:.2f}{X}"


def scenario_tables(rows: list[dict[str, Any]]) -> list[str]:
    by_scenario: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in rows:
        by_scenario[row["scenario"]][row["integration"]] = row
    lines: list[str] = []
    header = (
        "| integration | CPU s | wall s | ticks | requests | KiB sent | max req/tick | events "
        "| MCPs | CPU ms/event | peak alloc MiB | idle tick ms | idle connects "
        "| plugin CPU ÷ ours "
        "| d-ol CPU ÷ ours | json.dumps floor s | CPU ÷ floor |"
    )
    for scenario, found in by_scenario.items():
        lines += ["", f"### {scenario}", "", header, "|" + " --- |" * 17]
        for name in sorted(found, key=lambda n: ORDER.index(n) if n in ORDER else 99):
            row = found[name]
            if "error" in row:
                lines.append(f"| {name} | {row['error']} |" + " |" * 15)
                continue
            ours = name.startswith("ol-bridge/")
            floor = row.get("floor_json_dumps_s")
            lines.append(
                "| "
                + " | ".join(
                    [
                        name,
                        _f(row["cpu_s"]),
                        _f(row["wall_s"]),
                        _f(row["ticks"]),
                        _f(int(row["requests"])),
                        _f(row["bytes"] / 1024, 1),
                        _f(row["max_requests_per_tick"]),
                        _f(row["events"]) if row["events"] else DASH,
                        _f(row["mcps"]) if row["mcps"] else DASH,
                        _f(row["cpu_s"] / row["events"] * 1000, 2) if row["events"] else DASH,
                        _f(row.get("peak_alloc_mb"), 1),
                        _f(row["idle_tick_ms"], 1),
                        _f(row["idle_connects"], 1),
                        _ratio(found.get(PLUGIN), row) if ours else "",
                        _ratio(found.get(DOL), row) if ours else "",
                        _f(floor, 4) if floor else "",
                        f"{row['cpu_s'] / floor:.0f}{X}" if floor else "",
                    ]
                )
                + " |"
            )
    return lines


def _mark(met: bool | None) -> str:
    return DASH if met is None else ("**met**" if met else "**missed**")


def _row(target: str, figure: str, met: bool | None) -> str:
    return f"| {target} | {figure} | {_mark(met)} |"


def targets(rows: list[dict[str, Any]], micro: dict[str, dict[str, Any]]) -> list[str]:
    found = {(r["scenario"], r["integration"]): r for r in rows if "error" not in r}
    lines = ["| target | figure | status |", "| --- | --- | --- |"]

    plugin = found.get(("sql_assets_100", PLUGIN))
    for name in ("ol-bridge/datahub-rest", "ol-bridge/datahub-lite", "ol-bridge/ol-http"):
        ours = found.get(("sql_assets_100", name))
        if plugin and ours:
            ratio = plugin["cpu_s"] / ours["cpu_s"]
            figure = (
                f"{name}: {ours['cpu_s']:.3f} s vs plugin {plugin['cpu_s']:.3f} s = {ratio:.1f}{X}"
            )
            target = f"≥10{X} less post-run CPU than {PLUGIN}, sql_assets_100"
            lines.append(_row(target, figure, ratio >= 10))

    lines += _request_targets(found)

    idle = micro.get("idle_tick")
    if idle:
        met = (
            idle["idle_tick_ms"] < 20
            and idle["socket_connects"] == 0
            and idle["loopback_requests"] == 0
        )
        figure = (
            f"median {idle['idle_tick_ms']:.1f} ms (p95 {idle['idle_tick_p95_ms']:.1f} ms) over "
            f"{idle['ticks']} ticks; {idle['socket_connects']} socket connects, "
            f"{idle['loopback_requests']} requests"
        )
        lines.append(f"| idle tick < 20 ms, zero network calls | {figure} | {_mark(met)} |")

    conv = micro.get("converter")
    if conv:
        figure = (
            f"{conv['events_per_s']:,.0f} events/s ({conv['proposals_per_event']:.1f} MCPs/event)"
        )
        met = conv["events_per_s"] >= 5000
        lines.append(_row("converter ≥ 5,000 events/s on one core", figure, met))

    lite = micro.get("lite_sink")
    if lite:
        figure = (
            f"{lite['events_per_s']:,.0f} events/s ({lite['proposals']} MCPs for "
            f"{lite['events']} events, {lite['cpu_s']:.3f} s write + index)"
        )
        lines.append(
            _row("DataHub Lite sink ≥ 1,000 events/s", figure, lite["events_per_s"] >= 1000)
        )

    lines += _overhead_targets(found.get(("sql_assets_100", "ol-bridge/ol-http")))
    if conv:
        figure = f"converter alone: {conv['overhead_vs_json_dumps']:.1f}{X} json.dumps of the event"
        lines.append(
            f"| (same, converter only) | {figure} | {_mark(conv['overhead_vs_json_dumps'] <= 5)} |"
        )
    return lines


#: acryl-datahub's DataHubRestEmitter puts at most this many proposals in one request
#: (DATAHUB_REST_EMITTER_BATCH_MAX_PAYLOAD_LENGTH; GMS times out on bigger batches)
GMS_PROPOSALS_PER_REQUEST = 200
#: events the outbox hands the datahub transport at once (DeliveryConfig.batch_size)
OUTBOX_BATCH = 500


def _least_requests(row: dict[str, Any]) -> tuple[int, int]:
    """The busiest tick's proposals, and the fewest requests that can carry them."""
    proposals = row.get("max_tick_mcps") or row["mcps"]
    events = row.get("max_tick_events") or row["events"] / max(1, row["ticks"])
    batches = max(1, -(-int(events) // OUTBOX_BATCH))
    # GET /config once, full requests, and at most one partial request per batch
    return proposals, 1 + -(-proposals // GMS_PROPOSALS_PER_REQUEST) + batches - 1


def _request_targets(found: dict[tuple[str, str], dict[str, Any]]) -> list[str]:
    lines = []
    target = "≤1 HTTP request per destination per tick"
    ol = [r for (_, n), r in found.items() if n == "ol-bridge/ol-http"]
    if ol:
        worst = max(ol, key=lambda r: r["max_requests_per_tick"])
        figure = (
            f"ol-bridge/ol-http: {worst['max_requests_per_tick']} requests in one tick for "
            f"{worst['events']} events ({worst['scenario']}): the OpenLineage HTTP API takes one "
            "event per POST, sent over one kept-alive connection"
        )
        lines.append(_row(f"{target} (OpenLineage HTTP: n/a by protocol)", figure, None))
    rest = [r for (_, n), r in found.items() if n == "ol-bridge/datahub-rest"]
    if rest:
        worst = max(rest, key=lambda r: r["max_requests_per_tick"])
        proposals, least = _least_requests(worst)
        figure = (
            f"ol-bridge/datahub-rest: worst {worst['max_requests_per_tick']} requests in one tick "
            f"({worst['scenario']}) for {proposals:,} coalesced proposals; bound {least}: one "
            f"GET /config, full requests of acryl-datahub's {GMS_PROPOSALS_PER_REQUEST} "
            f"proposals, at most one partial request per outbox batch of {OUTBOX_BATCH} events"
        )
        met = all(r["max_requests_per_tick"] <= _least_requests(r)[1] for r in rest)
        lines.append(
            _row(f"{target} (DataHub REST: per {GMS_PROPOSALS_PER_REQUEST} proposals)", figure, met)
        )
    return lines


def _overhead_targets(ours: dict[str, Any] | None) -> list[str]:
    """Our own CPU per event (the sensor's post-run CPU minus what reading Dagster and
    POSTing the events cost anyone), against serialising the event."""
    if not ours or not ours.get("floor_serde_s") or "floor_read_s" not in ours:
        return []
    events = ours["events"]
    own = ours["cpu_s"] - ours["floor_read_s"] - ours.get("floor_wire_s", 0.0)
    versus_serde = own / ours["floor_serde_s"]
    versus_dumps = own / ours["floor_json_dumps_s"]
    figure = (
        f"sensor → OL HTTP, sql_assets_100: {ours['cpu_s']:.3f} s = reading Dagster "
        f"{ours['floor_read_s']:.3f} s + POSTing {ours.get('floor_wire_s', 0.0):.3f} s + ours "
        f"{own:.3f} s ({own / events * 1e6:.0f} µs/event) = {versus_serde:.1f}{X} "
        f"openlineage-python's Serde.to_json ({ours['floor_serde_s'] / events * 1e6:.0f} µs/event)"
    )
    strict = (
        f"ours {own / events * 1e6:.0f} µs/event = {versus_dumps:.0f}{X} json.dumps of the "
        f"event's prebuilt dict ({ours['floor_json_dumps_s'] / events * 1e6:.1f} µs/event)"
    )
    return [
        _row(f"per-event overhead within 5{X} of serialising the event", figure, versus_serde <= 5),
        _row("(same, against bare json.dumps)", strict, versus_dumps <= 5),
    ]


def chart(rows: list[dict[str, Any]], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    ok = [r for r in rows if "error" not in r]
    scenarios = list(dict.fromkeys(r["scenario"] for r in ok))
    names = [n for n in ORDER if any(r["integration"] == n for r in ok)]
    fig, ax = plt.subplots(figsize=(max(8, 1.6 * len(scenarios)), 5))
    width = 0.8 / max(1, len(names))
    for k, name in enumerate(names):
        values = []
        for scenario in scenarios:
            match = [r for r in ok if r["scenario"] == scenario and r["integration"] == name]
            values.append(match[0]["cpu_s"] if match else 0)
        ax.bar([i + k * width for i in range(len(scenarios))], values, width, label=name)
    ax.set_xticks([i + width * (len(names) - 1) / 2 for i in range(len(scenarios))])
    ax.set_xticklabels(scenarios, rotation=25, ha="right")
    ax.set_yscale("log")
    ax.set_ylabel("post-run CPU seconds (median, log scale)")
    ax.set_title(f"Post-run CPU per scenario: ol-bridge vs {PLUGIN} vs {DOL}")
    ax.legend(fontsize=8)
    fig.text(
        0.01,
        0.01,
        f"{DOL} emits only part of the events above N = 10 (results/NOTES.md); "
        "ol-bridge/datahub-lite measured up to 10 steps per run.",
        fontsize=7,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


def _measured_in(path: Path) -> str:
    """``file.jsonl`` (its scenarios; the ol-bridge commit and date it was measured at)."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    machine = next((r for r in rows if r["kind"] == "machine"), {})
    scenarios = sorted({r["scenario"] for r in rows if r["kind"] == "scenario"})
    measured = machine.get("ol_bridge_measured", "?")
    return f"`{path.name}` ({', '.join(scenarios)}; {measured}, {machine.get('date', '?')})"


def main() -> None:
    source = Path(sys.argv[1])
    rows = [
        json.loads(line)
        for path in sys.argv[1:]
        for line in Path(path).read_text().splitlines()
        if line.strip()
    ]
    # several files: the machine of the newest, and where each file's rows were measured
    machines = [r for r in rows if r["kind"] == "machine"]
    machine = machines[-1] if machines else {}
    scenario_rows = [r for r in rows if r["kind"] == "scenario"]
    micro = {r["name"]: r for r in rows if r["kind"] == "micro"}
    # several partial runs may be rendered together: one line per scenario, the last one
    measured = {r["scenario"] for r in scenario_rows}
    generated = list(
        {
            r["scenario"]: r for r in rows if r["kind"] == "generated" and r["scenario"] in measured
        }.values()
    )

    lines = [
        "# Benchmark results",
        "",
        "Produced by `bash benchmarks/run.sh`; raw figures in "
        "`results.jsonl`. How to read them: `benchmarks/README.md`.",
        "",
        "## Machine",
        "",
    ]
    for key, value in machine.items():
        if key != "kind":
            lines.append(f"- **{key}**: {json.dumps(value) if isinstance(value, dict) else value}")
    if len(sys.argv) > 2:
        lines.append(
            "- **rendered from** (later files replace earlier ones' rows of the same scenario "
            "and integration): " + "; ".join(_measured_in(Path(path)) for path in sys.argv[1:])
        )
    lines += ["", "## Targets", "", *targets(scenario_rows, micro)]
    if generated:
        lines += ["", "## Scenarios", ""]
        lines += [
            f"- `{g['scenario']}`: {g['description']} ({g['runs']} runs, executed in "
            f"{g['seconds']} s)"
            for g in generated
        ]
    lines += [
        "",
        "## Post-run work per scenario",
        "",
        "CPU and wall: median over the repeats of the ticks that did work (until the "
        "first idle tick). Requests, KiB and MCPs as the loopback endpoint counted them "
        "(MCPs for `lite` counted in-process). Ratios: the anchor's CPU divided by ours.",
    ]
    lines += scenario_tables(scenario_rows)
    lines += ["", "## Micro-benchmarks", ""]
    for name, row in micro.items():
        shown = {
            k: (round(v, 2) if isinstance(v, float) else v)
            for k, v in row.items()
            if k not in ("kind", "name")
        }
        lines.append(f"- **{name}**: " + ", ".join(f"{k} {v}" for k, v in shown.items()))
    png = source.parent / "chart.png"
    if chart(scenario_rows, png):
        lines += ["", "## Chart", "", "![post-run CPU per scenario](chart.png)"]
    notes = source.parent / "NOTES.md"
    if notes.exists():
        lines += ["", notes.read_text().rstrip()]
    (source.parent / "RESULTS.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {source.parent / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
