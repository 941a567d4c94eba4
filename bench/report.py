"""The bench's tables: printed, and written between the markers of the README's Performance section."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bench.latency import LIVENESS, RAW, Ratio, Samples
from bench.load import LoadResult

START_MARKER = "<!-- bench:start -->"
END_MARKER = "<!-- bench:end -->"
RATIO_TARGET = 1.5


@dataclass(frozen=True)
class Report:
    """Everything one `make bench` run measured."""

    day: date
    rounds: int
    cold_import_ms: float
    samples: Samples
    ratios: list[Ratio]
    readiness: tuple[float, float] | None
    load: LoadResult | None
    # The 1-minute load average when the run started and ended: other work on this machine shows here.
    load_average: tuple[float, float]

    def misses(self) -> list[Ratio]:
        """Ratios over their target."""
        return [ratio for ratio in self.ratios if ratio.value > RATIO_TARGET]


def markdown(report: Report) -> str:
    """The tables, as Markdown."""
    samples = report.samples
    lines = [
        f"Measured {report.day.isoformat()} by `make bench`: {report.rounds} interleaved rounds of sequential "
        "keep-alive requests, loopback, 2-core machine (1-minute load average "
        f"{report.load_average[0]:.1f} at the start, {report.load_average[1]:.1f} at the end).",
        "",
        "| operation | p50 | p95 | floor: liveness + unavoidable raw calls | ratio (target ≤ 1.5×) |",
        "| --- | --- | --- | --- | --- |",
        f"| `{LIVENESS}` | {samples.p50(LIVENESS):.2f} ms | {samples.p95(LIVENESS):.2f} ms | – | – |",
    ]
    for ratio in report.ratios:
        lines.append(
            f"| `{ratio.operation}` | {ratio.p50:.2f} ms | {samples.p95(ratio.operation):.2f} ms | "
            f"{ratio.note}: {ratio.floor:.2f} ms | **{ratio.value:.2f}×** |"
        )
    for name in RAW.values():
        p50, p95 = samples.p50(name), samples.p95(name)
        lines.append(f"| {name} (SDK, the app's client) | {p50:.2f} ms | {p95:.2f} ms | – | – |")
    lines.append(f"| cold import of `function_app` | median {report.cold_import_ms:.0f} ms | | | |")
    if report.readiness is not None:
        lines.append(f"| `GET /readyz` | {report.readiness[0]:.1f} ms | {report.readiness[1]:.1f} ms | | |")
    if report.load is not None:
        load = report.load
        total = load.total
        lines += [
            "",
            f"Load: {load.users} users for {load.seconds} s over the public demo flow (create → "
            f"3 state PATCHes → finalize → results, no think time): **{total.requests_per_second:.1f} requests/s**, "
            f"{load.flows / load.seconds:.1f} demos/s, {total.failures} errors in {total.requests} requests.",
            "",
            "| request | requests | errors | p50 | p95 |",
            "| --- | --- | --- | --- | --- |",
        ]
        for row in load.rows:
            label = "all" if row.name == "Aggregated" else f"`{row.name}`"
            lines.append(f"| {label} | {row.requests} | {row.failures} | {row.p50_ms:.0f} ms | {row.p95_ms:.0f} ms |")
    return "\n".join(lines)


def write_readme(readme: Path, report: Report) -> None:
    """Replace the text between the README's bench markers with this run's tables."""
    text = readme.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(START_MARKER) + r".*?" + re.escape(END_MARKER), re.S)
    if not pattern.search(text):
        raise RuntimeError(f"{readme} has no {START_MARKER} … {END_MARKER} section")
    block = f"{START_MARKER}\n{markdown(report)}\n{END_MARKER}"
    readme.write_text(pattern.sub(lambda _: block, text, count=1), encoding="utf-8")
