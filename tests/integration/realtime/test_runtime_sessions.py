"""Realtime runtime sessions through HTTP: create, read, the state walk, utterances and stats, the demo-session link."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.realtime import runtime_sessions
from shared.sessions import aggregate
from tests.conftest import reset_clients
from tests.support.identity import new_tenant_id
from tests.support.sessions import key_headers, start_session

URL = "/api/realtime/sessions"


def runtime_body(**overrides) -> dict:
    body = {
        "personaId": "dental_front_desk",
        "personaName": "Dana",
        "locale": "en-US",
        "transportMode": "BROWSER_REALTIME",
    }
    body.update(overrides)
    return body


def create(client, headers: dict | None = None, **overrides) -> dict:
    response = client.post(URL, json=runtime_body(**overrides), headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()["session"]


def stats(session_id: str, **overrides) -> dict:
    body = {
        "sessionId": session_id,
        "transportMode": "BROWSER_REALTIME",
        "uptime": 12.5,
        "utteranceCount": 3,
        "lastActivity": 1_767_225_600_000,
    }
    body.update(overrides)
    return body


def utter(client, session_id: str, text: str = "Hello there", **fields):
    return client.post(f"{URL}/{session_id}/utterances", json={"speaker": "user", "text": text, **fields})


def report_items(session_id: str) -> list[dict]:
    return runtime_sessions.reports.query(
        "SELECT * FROM c WHERE c.sessionId = @id", {"id": session_id}, session_id, limit=1000
    )


# --- create and read ------------------------------------------------------------------------------


def test_an_anonymous_runtime_session_starts_initializing_in_the_demo_tenant(client):
    response = client.post(URL, json=runtime_body(channelId="web-1", metadata={"page": "demo"}, locale="es-mx"))
    assert response.status_code == 200
    data = response.json()
    session = data["session"]
    assert session["sessionId"].startswith("rt_") and len(session["sessionId"]) > 40
    assert session["tenantId"] == "default-practice"
    assert (session["state"], session["utteranceCount"], session["interruptionCount"]) == ("initializing", 0, 0)
    assert session["locale"] == "es-MX" and session["channelId"] == "web-1"
    assert session["createdAt"] == session["updatedAt"] and isinstance(session["createdAt"], int)
    assert data["transcript"] == [] and data["stats"] is None
    assert data["evidence"][0]["to"] == "initializing"
    again = client.get(f"{URL}/{session['sessionId']}").json()
    assert again["session"] == session


def test_the_tenant_comes_from_an_operator_bearer_else_the_public_demo_rule(client, tokens):
    tenant = new_tenant_id("rt")
    assert create(client, tokens.headers(tenant, "operator"))["tenantId"] == tenant
    assert client.post(URL, json=runtime_body(), headers=tokens.headers(tenant, "viewer")).status_code == 403
    assert client.post(URL, json=runtime_body(), headers={"Authorization": "Bearer not.a.token"}).status_code == 401
    # An anonymous caller may not place a runtime session in a tenant that takes no public demos.
    refused = client.post(URL, json=runtime_body(tenantId=tenant))
    assert (refused.status_code, refused.json()["error"]) == (403, "public_demo_not_allowed")


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"personaId": "no_such_persona"}, "unknown_persona"),
        ({"locale": "not a locale"}, "validation_error"),
        ({"metadata": {"apiKey": "sk-" + "a" * 40}}, "secret_in_payload"),
        ({"metadata": {"note": "Bearer abcdefgh12345678"}}, "secret_in_payload"),
        ({"metadata": {"blob": "x" * 9000}}, "validation_error"),
        ({"metadata": {"demoSessionId": "../x"}}, "validation_error"),
        ({"transportMode": "CARRIER_PIGEON"}, "validation_error"),
        ({"channelId": "a/b"}, "validation_error"),
    ],
)
def test_bad_create_bodies_are_400_and_write_nothing(client, overrides, code):
    from shared.platform.store import metering

    response = client.post(URL, json=runtime_body(**overrides))
    assert response.status_code == 400, response.text
    assert response.json()["error"] == code
    assert metering.recorded(response.headers["x-correlation-id"])[1].writes == 0


def test_an_unknown_or_malformed_session_is_404(client):
    assert client.get(f"{URL}/rt_doesnotexist").status_code == 404
    assert utter(client, "rt_doesnotexist").status_code == 404
    assert client.post(f"{URL}/rt_doesnotexist/stats", json=stats("rt_doesnotexist")).status_code == 404
    assert client.get(f"{URL}/a..b").status_code == 404


def test_an_expired_session_is_404(client):
    session = create(client)
    runtime_sessions.runtime_sessions.set_fields(
        session["sessionId"], session["sessionId"], {"expiresAt": "2020-01-01T00:00:00.000Z"}
    )
    assert client.get(f"{URL}/{session['sessionId']}").status_code == 404
    assert utter(client, session["sessionId"]).status_code == 404


def test_every_realtime_operation_needs_the_api_key_when_set(client, settings_env):
    session = create(client)
    sid = session["sessionId"]
    settings_env.setenv("API_KEY_FOR_REALTIME", "browser-app-key-123")
    reset_clients()
    calls = [
        ("POST", URL, runtime_body()),
        ("GET", f"{URL}/{sid}", None),
        ("POST", f"{URL}/{sid}/utterances", {"speaker": "user", "text": "hi"}),
        ("POST", f"{URL}/{sid}/stats", stats(sid)),
    ]
    for method, url, body in calls:
        assert client.request(method, url, json=body).status_code == 401, url
        good = client.request(method, url, json=body, headers={"x-api-key": "browser-app-key-123"})
        assert good.status_code == 200, (url, good.text)
    # The key and an operator bearer together: the key as `x-api-key`, the bearer as Authorization.
    assert (
        client.post(URL, json=runtime_body(), headers={"Authorization": "ApiKey browser-app-key-123"}).status_code
        == 200
    )


# --- the state walk -------------------------------------------------------------------------------


def test_the_state_walk_and_invalid_moves(client):
    sid = create(client)["sessionId"]

    def move(state: str):
        return client.post(f"{URL}/{sid}/stats", json=stats(sid, state=state))

    def refused(state: str, current: str) -> None:
        before = len(report_items(sid))
        response = move(state)
        assert (response.status_code, response.json()["error"]) == (400, "invalid_state_transition"), state
        assert client.get(f"{URL}/{sid}").json()["session"]["state"] == current
        assert len(report_items(sid)) == before  # a refused report is not kept

    refused("active", "initializing")
    refused("paused", "initializing")
    walk = ["connected", "active", "paused", "active", "paused", "closing", "closed"]
    for state in walk:
        response = move(state)
        assert response.status_code == 200, response.text
        assert response.json()["session"]["state"] == state
    assert move("closed").status_code == 200  # a repeated report is harmless
    refused("active", "closed")
    refused("closing", "closed")
    detail = client.get(f"{URL}/{sid}").json()
    assert [entry["to"] for entry in detail["evidence"]] == ["initializing", *walk]
    assert detail["evidence"][1]["from"] == "initializing"


def test_an_utterance_implies_the_session_is_active_and_a_closed_one_takes_none(client):
    sid = create(client)["sessionId"]
    response = utter(client, sid, "Hi, I need an appointment", startTime=1000, endTime=2500, confidence=0.93)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["session"]["state"] == "active"
    assert [entry["to"] for entry in data["evidence"]] == ["initializing", "connected", "active"]
    (item,) = data["transcript"]
    assert item == {
        "id": data["session"]["lastUtteranceId"],
        "sessionId": sid,
        "speaker": "user",
        "text": "Hi, I need an appointment",
        "startTime": 1000,
        "endTime": 2500,
        "confidence": 0.93,
        "locale": "en-US",
    }
    # Paused → an utterance resumes it; closing still takes late transcripts; closed takes none.
    for state in ("paused",):
        assert client.post(f"{URL}/{sid}/stats", json=stats(sid, state=state)).status_code == 200
    assert utter(client, sid).json()["session"]["state"] == "active"
    for state in ("closing",):
        assert client.post(f"{URL}/{sid}/stats", json=stats(sid, state=state)).status_code == 200
    late = utter(client, sid, "Goodbye")
    assert late.status_code == 200 and late.json()["session"]["state"] == "closing"
    assert client.post(f"{URL}/{sid}/stats", json=stats(sid, state="closed")).status_code == 200
    closed = utter(client, sid)
    assert (closed.status_code, closed.json()["error"]) == (400, "session_closed")
    assert client.get(f"{URL}/{sid}").json()["session"]["utteranceCount"] == 3


@pytest.mark.parametrize(
    "body",
    [
        {"speaker": "user", "text": "x" * 10_001},
        {"speaker": "user", "text": "   "},
        {"speaker": "user", "text": "hi", "startTime": 10, "endTime": 5},
        {"speaker": "user", "text": "hi", "confidence": 1.5},
        {"speaker": "user", "text": "hi", "locale": "not a locale"},
        {"speaker": "user", "text": "hi", "metadata": {"token": "abc123def456"}},
        {"speaker": "user\u0007", "text": "hi"},
        {"text": "hi"},
    ],
)
def test_bad_utterances_are_400_and_write_nothing(client, body):
    from shared.platform.store import metering

    sid = create(client)["sessionId"]
    response = client.post(f"{URL}/{sid}/utterances", json=body)
    assert response.status_code == 400, response.text
    assert metering.recorded(response.headers["x-correlation-id"])[1].writes == 0


# --- counting -------------------------------------------------------------------------------------


def test_fifty_concurrent_utterances_are_all_kept_and_counted(client):
    client.check_budget = False  # lost races re-read and retry
    sid = create(client)["sessionId"]

    def post(index: int):
        metadata = {"interrupted": True} if index % 5 == 0 else {}
        if index % 10 == 1:
            metadata["toolName"] = "lookup_patient_record"
        return utter(client, sid, f"utterance {index}", metadata=metadata)

    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(post, range(50)))
    assert [response.status_code for response in responses] == [200] * 50
    session = client.get(f"{URL}/{sid}").json()["session"]
    assert (session["utteranceCount"], session["interruptionCount"], session["toolCallCount"]) == (50, 10, 5)
    items = runtime_sessions.utterances.query("SELECT * FROM c WHERE c.sessionId = @id", {"id": sid}, sid, limit=1000)
    assert sorted(item["seq"] for item in items) == list(range(1, 51))
    assert sorted(item["text"] for item in items) == sorted(f"utterance {i}" for i in range(50))
    transcript = client.get(f"{URL}/{sid}").json()["transcript"]
    assert len(transcript) == 50 and {item["id"] for item in transcript} == {item["id"] for item in items}


def test_ten_thousand_utterances_stay_fast_and_the_session_stays_small(client):
    """The log is items: 10,000 of them change neither the session's size nor the cost of the next post."""
    sid = create(client)["sessionId"]
    assert utter(client, sid, "first").status_code == 200
    container = runtime_sessions.utterances.container
    # Seed 9,989 more as the service stores them (batched, to keep the test short), then count them on the session.
    seeded = 9_989
    for start in range(0, seeded, 100):
        operations = [
            (
                "create",
                (
                    {
                        "id": f"u_seed{seq:05d}",
                        "sessionId": sid,
                        "tenantId": "default-practice",
                        "seq": seq,
                        "speaker": "assistant" if seq % 2 else "user",
                        "text": f"seeded utterance {seq}",
                        "startTime": seq,
                        "endTime": seq,
                        "confidence": 1.0,
                        "locale": "en-US",
                        "type": "realtimeUtterance",
                    },
                ),
            )
            for seq in range(start + 2, min(start + 100, seeded) + 2)
        ]
        container.execute_item_batch(operations, partition_key=sid)
    runtime_sessions.runtime_sessions.increment(sid, sid, "utteranceCount", seeded)
    timings = []
    for index in range(10):
        started = time.perf_counter()
        response = utter(client, sid, f"late {index}")
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200
    assert response.json()["session"]["utteranceCount"] == 10_000
    started = time.perf_counter()
    detail = client.get(f"{URL}/{sid}").json()
    read_seconds = time.perf_counter() - started
    assert [item["text"] for item in detail["transcript"][-10:]] == [f"late {i}" for i in range(10)]
    assert len(detail["transcript"]) == runtime_sessions.TRANSCRIPT_TAIL
    doc = runtime_sessions.runtime_sessions.read(sid, sid)
    assert len(json.dumps(doc)) < 4096  # the session document does not grow with its log
    # Generous bounds for the emulator on a shared 2-core machine; each post is three point operations.
    assert sorted(timings)[5] < 0.5, timings
    assert read_seconds < 3.0, read_seconds


# --- stats and latency ----------------------------------------------------------------------------


def test_every_report_is_kept_the_latest_is_shown_and_latency_is_summarised(client):
    sid = create(client)["sessionId"]
    latencies = [420.0, 380.0, 1200.0, 510.0, 455.0]
    for index, latency in enumerate(latencies):
        body = stats(
            sid,
            lastActivity=1_767_225_600_000 + index * 1000,
            averageLatencyMs=latency,
            jitterMs=12.5,
            packetLoss=0.4,
            bitrate=48000,
            audioQuality="good",
            cpuUsage=17,
            participantId="browser-1",
            interruptionCount=1,
        )
        assert client.post(f"{URL}/{sid}/stats", json=body).status_code == 200
    # A late report (older lastActivity) is kept but does not replace the latest.
    stale = client.post(f"{URL}/{sid}/stats", json=stats(sid, lastActivity=1, averageLatencyMs=999.0))
    data = stale.json()
    assert data["stats"]["lastActivity"] == 1_767_225_600_000 + 4000
    assert data["stats"] == data["session"]["mediaStats"]
    assert data["stats"]["averageLatencyMs"] == 455.0 and data["stats"]["audioQuality"] == "good"
    assert len(report_items(sid)) == 6
    doc = runtime_sessions.runtime_sessions.read(sid, sid)
    from shared.realtime.latency import LatencySummary

    summary = LatencySummary.from_dict(doc["latency"])
    assert summary.count == 6
    assert summary.p50 == pytest.approx(455.0, rel=0.01)  # rank floor(0.5 × 5) of 380 420 455 510 999 1200
    assert summary.p95 == pytest.approx(999.0, rel=0.01)


@pytest.mark.parametrize(
    "overrides",
    [
        {"sessionId": "rt_someone_else"},
        {"averageLatencyMs": 3_600_001},
        {"uptime": -1},
        {"packetLoss": 101},
        {"state": "exploded"},
        {"utteranceCount": 1.5},
        {"participantId": "p" * 257},
    ],
)
def test_bad_stats_are_400_and_write_nothing(client, overrides):
    from shared.platform.store import metering

    sid = create(client)["sessionId"]
    response = client.post(f"{URL}/{sid}/stats", json=stats(sid, **overrides))
    assert response.status_code == 400, response.text
    assert metering.recorded(response.headers["x-correlation-id"])[1].writes == 0


def test_concurrent_reports_lose_nothing(client):
    client.check_budget = False
    sid = create(client)["sessionId"]
    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(
            pool.map(
                lambda i: client.post(
                    f"{URL}/{sid}/stats", json=stats(sid, lastActivity=1000 + i, averageLatencyMs=100.0 + i)
                ),
                range(20),
            )
        )
    assert all(response.status_code == 200 for response in responses)
    doc = runtime_sessions.runtime_sessions.read(sid, sid)
    assert doc["statsReportCount"] == 20 and doc["latency"]["count"] == 20
    assert doc["mediaStats"]["lastActivity"] == 1019
    assert len(report_items(sid)) == 20


# --- the link to a demo session -------------------------------------------------------------------


def test_latency_shows_beside_the_linked_sessions_cost(client):
    demo = start_session(client, "dental-recall-booking")
    headers = key_headers(demo)
    runtime = create(client, headers, metadata={"demoSessionId": demo["sessionId"]})
    assert runtime["tenantId"] == "default-practice"
    rid = runtime["sessionId"]
    assert utter(client, rid, "Sorry, go on", metadata={"interrupted": True}).status_code == 200
    for index, latency in enumerate([600.0, 700.0, 800.0, 2400.0]):
        body = stats(rid, lastActivity=10_000 + index, averageLatencyMs=latency)
        assert client.post(f"{URL}/{rid}/stats", json=body).status_code == 200

    session = client.get(f"/api/sessions/{demo['sessionId']}", headers=headers).json()
    cost = client.get(f"/api/sessions/{demo['sessionId']}/cost", headers=headers)
    assert cost.status_code == 200 and cost.json()["sessionId"] == demo["sessionId"]
    metrics = session["latencyMetrics"]
    assert metrics["userInterruptions"] == 1
    assert metrics["latencyP50"] == pytest.approx(700.0, rel=0.01)
    assert metrics["latencyP90"] == pytest.approx(800.0, rel=0.01)
    assert metrics["latencyP99"] == pytest.approx(800.0, rel=0.01)  # rank floor(0.99 × 3) = 2

    # A second runtime session of the same demo (a reconnect) merges into the same figures.
    second = create(client, headers, metadata={"demoSessionId": demo["sessionId"]})["sessionId"]
    client.post(f"{URL}/{second}/stats", json=stats(second, averageLatencyMs=650.0))
    merged = client.get(f"/api/sessions/{demo['sessionId']}", headers=headers).json()["latencyMetrics"]
    assert merged["latencyP50"] == pytest.approx(700.0, rel=0.01)  # 600 650 700 800 2400
    doc = aggregate.sessions.read(demo["sessionId"], "default-practice")
    assert doc["realtimeSessionIds"] == [rid, second] and doc["realtimeLatency"]["count"] == 5


def test_linking_needs_proof_of_access_to_the_demo_session(client, tokens):
    demo = start_session(client)
    body = runtime_body(metadata={"demoSessionId": demo["sessionId"]})
    assert client.post(URL, json=body).status_code == 401
    assert client.post(URL, json=body, headers={"x-session-access": "x" * 43 + ".default-practice"}).status_code == 401
    ghost = client.post(
        URL, json=runtime_body(metadata={"demoSessionId": "no-such-session"}), headers=key_headers(demo)
    )
    assert (ghost.status_code, ghost.json()["error"]) == (400, "unknown_session")
    # An operator of another tenant cannot reach the demo session: 404 there, a bad body here.
    other = client.post(URL, json=body, headers=tokens.headers(new_tenant_id("other"), "operator"))
    assert (other.status_code, other.json()["error"]) == (400, "unknown_session")
    assert aggregate.sessions.read(demo["sessionId"], "default-practice").get("realtimeSessionIds") is None


def test_an_operator_links_runtime_sessions_of_their_own_tenant(client, tokens):
    tenant = new_tenant_id("link")
    headers = tokens.headers(tenant, "operator")
    demo = start_session(client, headers=headers)
    runtime = create(client, headers, metadata={"demoSessionId": demo["sessionId"]})
    assert runtime["tenantId"] == tenant
    assert aggregate.sessions.read(demo["sessionId"], tenant)["realtimeSessionIds"] == [runtime["sessionId"]]


def test_a_demo_session_links_a_bounded_number_of_runtime_sessions(client):
    from shared.realtime.demo_link import MAX_LINKED_RUNTIME_SESSIONS

    demo = start_session(client)
    aggregate.sessions.set_fields(
        demo["sessionId"],
        "default-practice",
        {"realtimeSessionIds": [f"rt_seed{i}" for i in range(MAX_LINKED_RUNTIME_SESSIONS)]},
    )
    response = client.post(
        URL, json=runtime_body(metadata={"demoSessionId": demo["sessionId"]}), headers=key_headers(demo)
    )
    assert (response.status_code, response.json()["error"]) == (400, "too_many_realtime_sessions")


def test_a_linked_demo_session_that_is_gone_does_not_fail_the_report(client):
    demo = start_session(client)
    rid = create(client, key_headers(demo), metadata={"demoSessionId": demo["sessionId"]})["sessionId"]
    aggregate.sessions.delete(demo["sessionId"], "default-practice")
    response = client.post(f"{URL}/{rid}/stats", json=stats(rid, averageLatencyMs=500.0))
    assert response.status_code == 200
    assert runtime_sessions.runtime_sessions.read(rid, rid)["latency"]["count"] == 1


def test_an_anonymous_caller_links_a_demo_of_a_tenant_that_takes_public_demos(client, tokens):
    from tests.integration.sessions.test_sessions import enable_public_demo

    tenant = new_tenant_id("pubrt")
    enable_public_demo(client, tokens, tenant, ["https://clinic.example"])
    origin = {"Origin": "https://clinic.example"}
    demo = start_session(client, tenantId=tenant, headers=origin)
    headers = {**origin, **key_headers(demo)}
    # Named explicitly (the public-demo rule), or taken from the linked session the key proves.
    named = create(client, headers, tenantId=tenant, metadata={"demoSessionId": demo["sessionId"]})
    implied = create(client, key_headers(demo), metadata={"demoSessionId": demo["sessionId"]})
    assert named["tenantId"] == implied["tenantId"] == tenant
    mismatch = client.post(
        URL,
        json=runtime_body(tenantId="default-practice", metadata={"demoSessionId": demo["sessionId"]}),
        headers=headers,
    )
    assert (mismatch.status_code, mismatch.json()["error"]) == (400, "session_tenant_mismatch")
