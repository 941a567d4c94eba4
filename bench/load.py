"""The load run: locust, headless, against a dev host on loopback, for a bounded number of users and seconds.

Locust runs in its own process (it patches the standard library with gevent) and writes its
statistics as CSV; this module starts it and reads the totals back.
"""

from __future__ import annotations

import csv
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from devhost.emulators import LOOPBACK

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
USERS = 16
RUN_SECONDS = 30
# Locust stops itself after the run time; this only bounds a locust that hangs.
HARD_TIMEOUT_SECONDS = RUN_SECONDS + 60


@dataclass(frozen=True)
class LoadRow:
    """One request name's totals (or the aggregate, named "Aggregated")."""

    name: str
    requests: int
    failures: int
    requests_per_second: float
    p50_ms: float
    p95_ms: float


@dataclass(frozen=True)
class LoadResult:
    """What one load run measured."""

    users: int
    seconds: int
    rows: list[LoadRow]

    @property
    def total(self) -> LoadRow:
        return next(row for row in self.rows if row.name == "Aggregated")

    @property
    def flows(self) -> int:
        """Demos that ran to their last step."""
        return next((row.requests for row in self.rows if row.name.startswith("GET /api/sessions/{id}/results")), 0)


def run(base_url: str, users: int = USERS, seconds: int = RUN_SECONDS) -> LoadResult:
    """Run the demo flow with `users` users for `seconds` seconds against a loopback base URL."""
    if urlsplit(base_url).hostname != LOOPBACK:
        raise ValueError(f"the load run targets {LOOPBACK} only, not {base_url}")
    with tempfile.TemporaryDirectory() as out_dir:
        prefix = Path(out_dir) / "load"
        command = [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(LOCUSTFILE),
            "--headless",
            "--users",
            str(users),
            "--spawn-rate",
            str(users),
            "--run-time",
            f"{seconds}s",
            "--stop-timeout",
            "5",
            "--host",
            base_url,
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "WARNING",
        ]
        finished = subprocess.run(command, capture_output=True, text=True, timeout=HARD_TIMEOUT_SECONDS)
        stats_path = prefix.with_name("load_stats.csv")
        if not stats_path.exists():
            raise RuntimeError(f"locust wrote no statistics (exit {finished.returncode}): {finished.stderr[-2000:]}")
        rows = _read_rows(stats_path)
    return LoadResult(users=users, seconds=seconds, rows=rows)


def _read_rows(path: Path) -> list[LoadRow]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            LoadRow(
                name=f"{record['Type']} {record['Name']}".strip() if record["Name"] != "Aggregated" else "Aggregated",
                requests=int(record["Request Count"]),
                failures=int(record["Failure Count"]),
                requests_per_second=float(record["Requests/s"]),
                p50_ms=_number(record["50%"]),
                p95_ms=_number(record["95%"]),
            )
            for record in csv.DictReader(handle)
        ]


def _number(text: str) -> float:
    return float(text) if text not in ("", "N/A") else float("nan")
