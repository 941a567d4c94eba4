"""Fixed-window rate limits in Cosmos, shared by every process of the app."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import azure.functions as func
import pytest

from shared.platform.errors import TooManyRequests
from shared.platform.http.adapter import operation
from shared.platform.ratelimit import service as ratelimit
from shared.platform.ratelimit.service import RateLimit
from tests.conftest import ROOT, reset_clients

bp = func.Blueprint()


@operation(bp, "t/limited", methods=["POST"], rate_limit=RateLimit(limit=2, window_seconds=60))
def create_limited_thing(request) -> dict:
    return {"ok": True}


app = func.FunctionApp()
app.register_functions(bp)
LIMITED = next(iter(app.get_functions())).get_user_function()


def test_the_budget_is_per_client_and_window(emulators):
    operation_name = f"op-{uuid.uuid4().hex[:6]}"
    rule = RateLimit(limit=3, window_seconds=60)
    now = 1_800_000_000.0
    for _ in range(3):
        ratelimit.hit(operation_name, "198.51.100.1", rule, now=now)
    with pytest.raises(TooManyRequests) as caught:
        ratelimit.hit(operation_name, "198.51.100.1", rule, now=now + 15)
    assert caught.value.retry_after == 45
    ratelimit.hit(operation_name, "198.51.100.2", rule, now=now + 15)
    ratelimit.hit(operation_name, "198.51.100.1", rule, now=now + 60)


def test_the_adapter_answers_429_with_retry_after_and_the_envelope(emulators):
    client_ip = f"203.0.113.{uuid.uuid4().int % 250}"
    statuses = []
    for _ in range(3):
        request = func.HttpRequest("POST", "http://x/t/limited", headers={"X-Forwarded-For": client_ip}, body=b"")
        response = LIMITED(request)
        statuses.append(response.status_code)
    assert statuses == [200, 200, 429]
    assert int(response.headers["Retry-After"]) >= 1
    assert json.loads(response.get_body())["error"] == "rate_limited"


def test_settings_override_the_limit_by_operation_name(emulators, settings_env):
    settings_env.setenv("RATE_LIMITS", "create_limited_thing=1/60")
    reset_clients()
    client_ip = f"192.0.2.{uuid.uuid4().int % 250}"
    codes = [
        LIMITED(
            func.HttpRequest("POST", "http://x/t/limited", headers={"X-Forwarded-For": client_ip}, body=b"")
        ).status_code
        for _ in range(2)
    ]
    assert codes == [200, 429]


def test_the_count_is_shared_across_processes(emulators):
    operation_name = f"shared-{uuid.uuid4().hex[:6]}"
    script = (
        "import sys\n"
        "from shared.platform.ratelimit import service as r\n"
        "from shared.platform.errors import TooManyRequests\n"
        "ok = 0\n"
        "for _ in range(3):\n"
        "    try:\n"
        "        r.hit(sys.argv[1], 'client-a', r.RateLimit(4, 3600), now=1_800_000_000.0); ok += 1\n"
        "    except TooManyRequests:\n"
        "        pass\n"
        "print(ok)\n"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, operation_name],
            cwd=ROOT,
            env=dict(os.environ),
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    allowed = sum(int(process.communicate(timeout=60)[0].strip()) for process in processes)
    assert allowed == 4


def test_rotating_the_forwarded_for_header_does_not_escape_the_limit(client, settings_env):
    settings_env.setenv("RATE_LIMITS", "create_session=3/60")
    reset_clients()
    statuses = [
        client.post(
            "/api/sessions",
            json={"scenarioId": "insurance-fnol"},
            headers={"X-Forwarded-For": f"203.0.113.{attempt}"},
        ).status_code
        for attempt in range(6)
    ]
    assert statuses[:3] == [201, 201, 201]
    assert set(statuses[3:]) == {429}
