"""`make bench`: request cost over the raw SDK floor, and a load run, against one set of loopback emulators.

One run starts Azurite and the Cosmos emulator, provisions a fresh database, times the cold import
of `function_app`, starts a dev host (`python -m devhost serve`) as its own process and measures:

- p50/p95 of liveness, the persona catalog, a session read, a call-state PATCH and a session create,
  interleaved round by round with raw azure-cosmos reads, creates and replaces (the app's client);
- each operation's ratio: p50 ÷ (p50 of liveness + the raw calls it cannot avoid);
- `GET /readyz` (a few requests: its time is the emulator's database read);
- a locust run of the public demo flow (16 users, 30 s; `--no-load` or `make bench LOAD=0` skips it).

It prints the tables and, after a run with the load run, writes them into the README's Performance
section (`--no-write` leaves the README as it is).
Every count and duration is bounded and every target is on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLD_IMPORT_RUNS = 5
ROUNDS = 300
READINESS_REQUESTS = 30
# The bench's single client address would spend a per-client limit in seconds; the limiter's store
# call happens all the same, only its ceiling is lifted.
UNLIMITED = 1_000_000
LIMITED_OPERATIONS = ("create_session", "finalize_session", "get_session", "patch_session_state")


def cold_import_seconds(env: dict[str, str]) -> list[float]:
    """Import function_app in fresh interpreters, timing only the import."""
    script = "import time; t = time.perf_counter(); import function_app; print(time.perf_counter() - t)"
    samples = []
    for _ in range(COLD_IMPORT_RUNS):
        output = subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True
        ).stdout
        samples.append(float(output.strip().splitlines()[-1]))
    return samples


def readiness_latency(base_url: str, count: int) -> tuple[float, float]:
    """p50 and p95 of GET /readyz over `count` sequential requests."""
    import httpx

    from bench.latency import percentile

    samples = []
    with httpx.Client(base_url=base_url, timeout=10) as client:
        client.get("/readyz")
        for _ in range(count):
            started = time.perf_counter()
            response = client.get("/readyz")
            samples.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"/readyz answered {response.status_code}: {response.text[:200]}")
    return percentile(samples, 0.5), percentile(samples, 0.95)


def main() -> None:
    """Run the bench and report."""
    parser = argparse.ArgumentParser(description="Request cost over the SDK floor, and a load run (loopback).")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="measured rounds of every probe (1-5000)")
    parser.add_argument("--no-load", action="store_true", help="skip the locust run")
    parser.add_argument("--no-write", action="store_true", help="print only; leave README.md as it is")
    args = parser.parse_args()
    if not 1 <= args.rounds <= 5000:
        parser.error("--rounds must be between 1 and 5000")
    sys.path.insert(0, str(ROOT))
    from bench import latency, load, report
    from devhost.emulators import Emulators, free_ports, wait_until_serving
    from shared.platform.lifecycle import reset_process_state

    load_at_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as data_dir:
        emulators = Emulators(ROOT, Path(data_dir), in_memory=True)
        emulators.start()
        try:
            env = {
                **os.environ,
                **emulators.env(),
                "APP_ENV": "test",
                "COSMOS_DATABASE": f"bench-{uuid.uuid4().hex[:8]}",
                "FRONTEND_URLS": "http://localhost:3000",
                "RATE_LIMITS": ",".join(f"{name}={UNLIMITED}/60" for name in LIMITED_OPERATIONS),
                "DEVHOST_LOCAL_SETTINGS": "none",
            }
            subprocess.run([sys.executable, "-m", "devhost", "provision"], cwd=ROOT, env=env, check=True)
            # The raw floor runs in this process with the app's client: same settings as the host.
            os.environ.update(env)
            reset_process_state()
            imports = cold_import_seconds(env)
            port = free_ports(1)[0]
            server = subprocess.Popen(
                [sys.executable, "-m", "devhost", "serve", "--port", str(port)],
                cwd=ROOT,
                env={**env, "DEVHOST_ACCESS_LOG": "0"},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                base_url = f"http://127.0.0.1:{port}"
                wait_until_serving(base_url)
                started = time.monotonic()
                samples = latency.measure(base_url, args.rounds)
                print(f"latency: {args.rounds} rounds in {time.monotonic() - started:.0f} s", file=sys.stderr)
                readiness = readiness_latency(base_url, READINESS_REQUESTS)
                load_result = None
                if not args.no_load:
                    print(f"load: {load.USERS} users for {load.RUN_SECONDS} s ...", file=sys.stderr)
                    load_result = load.run(base_url)
            finally:
                server.terminate()
                server.wait(timeout=15)
        finally:
            emulators.stop()

    result = report.Report(
        day=datetime.now(UTC).date(),
        rounds=args.rounds,
        cold_import_ms=statistics.median(imports) * 1000,
        samples=samples,
        ratios=latency.ratios(samples),
        readiness=readiness,
        load=load_result,
        load_average=(load_at_start, os.getloadavg()[0]),
    )
    print(report.markdown(result))
    if not args.no_write and load_result is not None:
        report.write_readme(ROOT / "README.md", result)
        print("\nwrote the tables into README.md (Performance)", file=sys.stderr)
    elif not args.no_write:
        # The README's table holds the ratios and the load numbers of one run; half a run does not replace it.
        print("\nREADME.md left as it is: a run without the load run does not replace its table", file=sys.stderr)
    for ratio in result.misses():
        target = report.RATIO_TARGET
        print(f"over target: {ratio.operation} at {ratio.value:.2f}× (target ≤ {target}×)", file=sys.stderr)
    if load_result is not None and load_result.total.failures:
        print(f"load run had {load_result.total.failures} errors", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
