"""The rate limit holds across two dev-host processes sharing one Cosmos (real HTTP, contract-checked)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import httpx

from devhost.emulators import free_ports, wait_until_serving
from tests.conftest import ROOT
from tests.support.contract import validate_response


def test_two_hosts_share_one_budget(emulators):
    env = {
        **os.environ,
        "DEVHOST_LOCAL_SETTINGS": "none",
        "DEVHOST_ACCESS_LOG": "0",
        "RATE_LIMITS": "create_session=4/3600",
    }
    ports = free_ports(2)
    hosts = [
        subprocess.Popen(
            [sys.executable, "-m", "devhost", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url in urls:
            wait_until_serving(url)
        client_ip = f"198.51.100.{uuid.uuid4().int % 250 + 1}"
        statuses = []
        for index in range(6):
            response = httpx.post(
                f"{urls[index % 2]}/api/sessions",
                json={"scenarioId": "insurance-fnol"},
                headers={"X-Forwarded-For": client_ip},
                timeout=30,
            )
            validate_response(
                "POST", "/api/sessions", response.status_code, response.headers.get("content-type"), response.content
            )
            statuses.append(response.status_code)
    finally:
        for host in hosts:
            host.terminate()
        for host in hosts:
            host.wait(timeout=15)
    assert statuses.count(201) == 4
    assert statuses[-2:] == [429, 429]
