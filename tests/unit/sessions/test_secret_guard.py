"""The secret guard: what counts as a credential by key name and by value shape, and what does not."""

from __future__ import annotations

import json

import pytest

from shared.sessions.secret_guard import find_secrets, is_secret_key, key_words, looks_like_secret

# Assembled so no literal credential-looking string sits in the repository.
OPENAI_KEY = "sk-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4"
OPENAI_PROJECT_KEY = "sk-proj-" + "Zx9_Yw8-Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0"
EPHEMERAL_KEY = "ek_" + "68af1c2b3d4e5f60"
AZURE_HEX_KEY = "0123456789abcdef" + "0123456789ABCDEF"
AZURE_STORAGE_KEY = "Q" * 86 + "=="
AZURE_AI_KEY = "7Kx" * 28
JWT = "eyJhbGciOiJIUzI1NiJ9" + "." + "eyJzdWIiOiIxMjM0NTY3ODkwIn0" + "." + "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
BEARER = "Bearer " + "abcDEF123456ghiJKL"


@pytest.mark.parametrize(
    "key",
    [
        "apiKey",
        "api_key",
        "API_KEY",
        "OPENAI_API_KEY",
        "APIKey",
        "apikey",
        "x-api-key",
        "api-key",
        "Ocp-Apim-Subscription-Key",
        "accessKey",
        "secretKey",
        "privateKey",
        "privateKeyPem",
        "clientSecret",
        "webhook_secret",
        "secret",
        "secrets",
        "token",
        "accessToken",
        "access_token",
        "refreshToken",
        "idToken",
        "csrfToken",
        "sessionToken",
        "x-auth-token",
        "authToken",
        "bearer",
        "bearerToken",
        "password",
        "Password",
        "db_password",
        "passwd",
        "passphrase",
        "authorization",
        "Authorization",
        "proxy-authorization",
        "credential",
        "credentials",
        "azureCredentials",
        "cookie",
        "Set-Cookie",
        "session_access",
        "x-session-access",
        "sessionAccessKey",
        "key1",
        "apiKey2",
        "tokenValue",
        "connectionString",
    ],
)
def test_secret_key_names(key: str) -> None:
    assert is_secret_key(key), key_words(key)


@pytest.mark.parametrize(
    "key",
    [
        "key",
        "key_value",
        "keyboard",
        "monkey",
        "keyChanges",
        "keyFacts",
        "keyFeatures",
        "keyId",
        "publicKey",
        "publicKeyId",
        "publicKeyPem",
        "idempotencyKey",
        "partitionKey",
        "agentSetKey",
        "avatarKey",
        "businessKey",
        "tokens",
        "tokenCount",
        "tokenUsage",
        "token_count",
        "inputTokens",
        "outputTokens",
        "totalTokens",
        "maxOutputTokens",
        "totalInputTokens",
        "tokenizer",
        "tokenType",
        "nextPageToken",
        "continuationToken",
        "secretName",
        "passRate",
        "passed",
        "passwordPolicy",
        "author",
        "authorUserId",
        "auth",
        "authMode",
        "credentialId",
        "sessionId",
        "accessLevel",
        "sessionHints",
        "turkey",
        "",
        "123",
    ],
)
def test_innocuous_key_names(key: str) -> None:
    assert not is_secret_key(key), key_words(key)


@pytest.mark.parametrize(
    "value",
    [
        OPENAI_KEY,
        OPENAI_PROJECT_KEY,
        f"my key is {OPENAI_KEY}, keep it safe",
        "sk_live_" + "a1B2c3D4e5F6g7H8",
        "whsec_" + "dGVzdHNlY3JldHZhbHVlMTIz",
        EPHEMERAL_KEY,
        f"client secret {EPHEMERAL_KEY}",
        AZURE_HEX_KEY,
        f"  {AZURE_HEX_KEY}  ",
        AZURE_STORAGE_KEY,
        f"DefaultEndpointsProtocol=https;AccountName=x;AccountKey={AZURE_STORAGE_KEY};EndpointSuffix=core",
        "Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=r;SharedAccessKey=abcDEF123ghi456=",
        "Server=db;User Id=sa;Password=hunter2hunter2;",
        AZURE_AI_KEY,
        JWT,
        f"token={JWT}&x=1",
        BEARER,
        "bearer " + "abc12345",
        "Authorization: Bearer " + "x" * 30,
        "api-key: " + "f" * 16 + "g" * 4,
        "https://acct.blob.core.windows.net/c/b?sv=2022&sig=" + "AbCdEf0123456789%2B%3D",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIE...",
        "-----BEGIN PRIVATE KEY-----",
    ],
)
def test_secret_shaped_values(value: str) -> None:
    assert looks_like_secret(value)
    assert find_secrets({"note": value}) == ["note"]


@pytest.mark.parametrize(
    "value",
    [
        "",
        "hello world",
        "sk-short",
        "ask-me-anything-about-the-policy-today",
        "task-1234567890abcdefghijklmnop",
        "ek_short",
        "week_ends_are_busy_for_us",
        "eyJ.not.a.jwt",
        "The bearer of this card",
        "bearer documents are accepted",
        "Bearer token",
        "0123456789abcdef",  # 16 hex
        "0123456789abcdef0123456789abcdef0",  # 33 hex
        "a" * 64,  # sha-256 hex
        "550e8400-e29b-41d4-a716-446655440000",
        "Q" * 40 + "==",
        "HM-AU-4417209",
        "+15551234567",
        "gpt-realtime",
        "2026-03-01T10:00:00.000Z",
        "https://example.com/callback?sig=short",
        "My password is in my head",
    ],
)
def test_innocuous_values(value: str) -> None:
    assert not looks_like_secret(value)
    assert find_secrets({"note": value}) == []


def test_hex_ids_and_hashes_are_not_azure_keys() -> None:
    payload = {"traceId": AZURE_HEX_KEY, "md5": AZURE_HEX_KEY, "requestIds": [AZURE_HEX_KEY], "value": AZURE_HEX_KEY}
    assert find_secrets(payload) == ["value"]


def test_nested_paths_and_document_order() -> None:
    payload = {
        "personaId": "maya",
        "realtimeDeployment": "gpt-realtime",
        "sessionHints": {
            "apiKey": "anything",
            "headers": [{"name": "Authorization", "value": BEARER}, {"name": "Accept", "value": "*/*"}],
            "nested": {"deeper": [[{"ephemeral": EPHEMERAL_KEY}]]},
            "tokenUsage": {"inputTokens": 10, "outputTokens": 20, "totalTokens": 30},
        },
        "transcript": [{"role": "user", "text": f"here is my key {OPENAI_KEY}"}],
        "x-api-key": "abc",
        "a.b": {"password": "pw"},
    }
    assert find_secrets(payload) == [
        "sessionHints.apiKey",
        "sessionHints.headers[0].value",
        "sessionHints.nested.deeper[0][0].ephemeral",
        "transcript[0].text",
        "x-api-key",
        '["a.b"].password',
    ]


def test_secret_values_never_appear_in_the_paths() -> None:
    payload = {
        "token": OPENAI_KEY,
        OPENAI_KEY: "value",
        "list": [JWT],
        "deep": {EPHEMERAL_KEY: {"x": 1}},
    }
    paths = find_secrets(payload)
    assert paths == ["token", "[redacted]", "list[0]", "deep[redacted]"]
    rendered = json.dumps(paths)
    for secret in (OPENAI_KEY, JWT, EPHEMERAL_KEY):
        assert secret not in rendered


@pytest.mark.parametrize(
    "value",
    [None, "", "   ", True, False, [], {}, "***", "••••", "[redacted]", "REDACTED", "xxxxxxxx"],
)
def test_secret_named_keys_without_a_value_are_not_reported(value: object) -> None:
    assert find_secrets({"apiKey": value, "password": value}) == []


@pytest.mark.parametrize("value", ["x", 1234, 0, ["a"], {"k": "v"}, "hunter2"])
def test_secret_named_keys_with_a_value_are_reported(value: object) -> None:
    assert find_secrets({"sessionHints": {"password": value}}) == ["sessionHints.password"]


def test_a_secret_named_object_is_reported_once_and_not_searched() -> None:
    payload = {"credentials": {"apiKey": OPENAI_KEY, "token": JWT}}
    assert find_secrets(payload) == ["credentials"]


def test_root_values_and_lists() -> None:
    assert find_secrets(OPENAI_KEY) == ["$"]
    assert find_secrets([1, "ok", JWT]) == ["[2]"]
    assert find_secrets(None) == []
    assert find_secrets(42) == []


def test_a_clean_realtime_snapshot_passes() -> None:
    snapshot = {
        "personaId": "maya-insurance",
        "realtimeDeployment": "gpt-realtime",
        "transcriptionModel": "gpt-4o-transcribe",
        "transcriptionLanguage": "en",
        "voice": "marin",
        "sessionHints": {
            "turnDetection": "semantic_vad",
            "maxOutputTokens": 4096,
            "keyFacts": ["rear-ended", "no injuries"],
            "idempotencyKey": "tool-call-7",
            "traceId": "4bf92f3577b34da6a3ce929d0e0e4736",
            "tokenCount": 1200,
            "keyboard": "qwerty",
        },
        "reportedAt": "2026-03-01T10:00:00.000Z",
        "clientBuild": "web-2026.03.01",
    }
    assert find_secrets(snapshot) == []


def test_deep_nesting_does_not_exhaust_the_stack() -> None:
    payload: object = {"apiKey": "x"}
    for _ in range(5000):
        payload = {"a": [payload]}
    [path] = find_secrets(payload)
    assert path.endswith("a[0].apiKey")


def test_duplicate_paths_are_reported_once() -> None:
    assert find_secrets({"token": "abc", "x": {"y": "z"}}) == ["token"]
