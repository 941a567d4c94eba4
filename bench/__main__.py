"""`make bench`: cold start and p50/p95 latency over real HTTP, on loopback, bounded in count."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
COLD_IMPORT_RUNS = 5
REQUESTS_PER_PATH = 500
LATENCY_PATHS = ("/api/health/live", "/readyz")


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


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure_latency(base_url: str, path: str, count: int) -> list[float]:
    """Sequential requests over one keep-alive connection; milliseconds per request."""
    samples = []
    with httpx.Client(base_url=base_url, timeout=10) as client:
        client.get(path)  # warm the route and the clients
        for _ in range(count):
            started = time.perf_counter()
            response = client.get(path)
            samples.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{path} answered {response.status_code}: {response.text[:200]}")
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=REQUESTS_PER_PATH)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from devhost.emulators import Emulators, free_ports, wait_until_serving

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
            }
            env["DEVHOST_LOCAL_SETTINGS"] = "none"
            subprocess.run([sys.executable, "-m", "devhost", "provision"], cwd=ROOT, env=env, check=True)
            imports = cold_import_seconds(env)
            port = free_ports(1)[0]
            server = subprocess.Popen(
                [sys.executable, "-m", "devhost", "serve", "--port", str(port)],
                cwd=ROOT,
                env={**env, "DEVHOST_ACCESS_LOG": "0", "DEVHOST_LOCAL_SETTINGS": "none"},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                base_url = f"http://127.0.0.1:{port}"
                wait_until_serving(base_url)
                latencies = {path: measure_latency(base_url, path, args.requests) for path in LATENCY_PATHS}
            finally:
                server.terminate()
                server.wait(timeout=10)
        finally:
            emulators.stop()

    print(f"cold import of function_app: median {statistics.median(imports) * 1000:.0f} ms over {len(imports)} runs")
    for path, samples in latencies.items():
        print(
            f"GET {path}: p50 {percentile(samples, 0.5):.2f} ms, p95 {percentile(samples, 0.95):.2f} ms "
            f"over {len(samples)} requests"
        )


if __name__ == "__main__":
    main()
