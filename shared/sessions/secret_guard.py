"""Finds credentials in client payloads (realtime snapshots, session hints ...) so they are refused, never stored.

`find_secrets(payload)` returns the paths of everything that carries a secret, never the secret itself. Paths
join object keys with "." and list positions as "[i]" ("sessionHints.apiKey", "headers[0].value"); a key that
is not a plain name is written ["..."] (JSON-quoted), a key that itself looks like a secret is written
[redacted], and the payload itself is "$".

By key name. A key is split into words (camelCase, snake_case, kebab-case, dots: "x-api-key" -> x api key,
"accessToken" -> access token); trailing encoding words (value, raw, pem, b64, base64, hex, string, data ...)
and numbers are dropped ("privateKeyPem", "key2"). The key is secret-named when its last word is
* one of SECRET_WORDS: token, secret(s), password(s), passwd, pwd, passphrase, authorization, credential(s),
  bearer, cookie(s), and the one-word forms apikey, accesstoken, secretkey, ... — except a "token" qualified as
  a pagination token (pageToken, continuationToken, cursorToken, syncToken);
* "key" qualified by a word that is not an innocuous qualifier (apiKey, accessKey, subscriptionKey,
  x-api-key, privateKey are secret; idempotencyKey, publicKey, partitionKey, avatarKey, agentSetKey are not,
  see INNOCUOUS_KEY_QUALIFIERS). A bare "key" is an identifier in the contract's own shapes (requiredItems[].key,
  key/value pairs) and is not secret-named; its value is still scanned;
* or the key ends with "session access" (the session access key's cookie / header name) or "connection string",
  or is key1 / key2 (Azure's resource key names).
Words are whole: "keyboard", "monkey", "tokenCount", "tokens", "tokenUsage", "maxOutputTokens", "keyChanges",
"passRate" are not secret-named. A secret-named key is reported when its value carries something: a non-blank
string that is not a mask ("[redacted]", or 3+ of * • x - . #), a number, or a non-empty object or list (not
searched further). Booleans and null never count ("isSecret": true).

By value shape (every string, anywhere, including inside longer text unless noted):
* OpenAI keys: sk- followed by 20+ of [A-Za-z0-9_-] (covers sk-proj-, sk-svcacct-);
* Stripe/Clerk-style secret keys sk_live_/sk_test_ and webhook secrets whsec_ (16+ chars);
* ephemeral realtime keys: ek_ followed by 10+ chars;
* JWTs: three base64url segments, the first starting eyJ;
* "Bearer <token>" where the token has 16+ chars, or 8+ with a digit (so "bearer documents" is prose);
* Azure keys: a whole value of exactly 32 hex digits (unless the key names an id or hash: traceId, md5, ...),
  a whole value of 84 alphanumerics (current Azure AI services keys), or 84-88 base64 chars ending in "==";
* credential assignments: AccountKey=, SharedAccessKey=, Password=, Pwd= (connection strings), api-key: /
  subscription-key= followed by 16+ chars, and SAS signatures (?sig= / &sig=);
* PEM private keys (-----BEGIN ... PRIVATE KEY-----).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

SECRET_WORDS = frozenset(
    {"token", "secret", "secrets", "password", "passwords", "passwd", "pwd", "passphrase", "authorization"}
    | {"credential", "credentials", "bearer", "cookie", "cookies", "apikey", "apitoken", "accesstoken"}
    | {"authtoken", "refreshtoken", "idtoken", "secretkey", "privatekey", "accesskey", "clientsecret"}
    | {"connectionstring", "sastoken"}
)
PAGINATION_TOKEN_QUALIFIERS = frozenset({"page", "continuation", "cursor", "sync", "pagination", "resume"})
INNOCUOUS_KEY_QUALIFIERS = frozenset(
    {"idempotency", "idempotence", "dedupe", "dedup", "deduplication", "public", "partition", "row", "sort"}
    | {"range", "cache", "lookup", "avatar", "business", "set", "foreign", "unique", "composite", "natural"}
    | {"index", "map", "i18n", "translation", "message", "label", "field", "column", "group", "object", "blob"}
    | {"file", "route", "routing", "correlation", "tracking", "query", "search", "event", "feature", "flag"}
    | {"config", "setting", "state", "list", "item", "entry", "record", "resource", "scenario", "agent"}
    | {"persona", "voice", "tool", "step", "beat", "workflow", "pack", "template", "locale", "language"}
    | {"react", "storage", "prompt", "cursor", "sequence", "order", "primary", "dimension", "metric"}
)
TRAILING_WORDS = frozenset(
    {"value", "raw", "plain", "plaintext", "pem", "der", "b64", "base64", "hex", "str", "string", "encoded", "data"}
)
# Word sequences that end a secret-named key before trailing words are dropped.
SECRET_TAILS = (("session", "access"), ("connection", "string"))
ID_LIKE_WORDS = frozenset(
    {"id", "ids", "guid", "uuid", "hash", "digest", "checksum", "etag", "md", "sha", "fingerprint", "trace", "span"}
)
MASK_VALUES = frozenset({"redacted", "[redacted]", "<redacted>", "hidden", "masked"})
MASK_CHARACTERS = frozenset("*•xX-.#_ ")
MIN_MASK_LENGTH = 3  # "***" is a mask, "x" is a (weak) password

_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_$@:-]+$")

_SEARCH_PATTERNS = (
    re.compile(r"(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_-]{20,}"),
    re.compile(r"(?<![A-Za-z0-9_])(?:sk_live_|sk_test_|rk_live_|whsec_)[A-Za-z0-9+/=_]{16,}"),
    re.compile(r"(?<![A-Za-z0-9_])ek_[A-Za-z0-9_-]{10,}"),
    re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
    re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{82,86}==(?![A-Za-z0-9+/=])"),
    re.compile(r"(?i)(?:^|[;\s\"'])(?:AccountKey|SharedAccessKey|Password|Pwd)\s*=\s*[^;\s\"']{8,}"),
    re.compile(r"(?i)\b(?:api[-_ ]?key|subscription[-_ ]?key)\s*[:=]\s*[\"']?[^\s\"',;]{16,}"),
    re.compile(r"[?&]sig=[A-Za-z0-9%+/=]{16,}"),
    re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----"),
)
_BEARER = re.compile(r"(?i)\bbearer\s+([A-Za-z0-9\-._~+/]+=*)")
_AZURE_HEX = re.compile(r"^[0-9a-fA-F]{32}$")
_AZURE_ALNUM = re.compile(r"^[A-Za-z0-9]{84}$")
REDACTED_SEGMENT = "[redacted]"
ROOT = "$"


def key_words(key: str) -> list[str]:
    """The lower-case words of a key name: "x-api-key" -> ["x", "api", "key"], "APIKey" -> ["api", "key"]."""
    return [word.lower() for word in _WORD.findall(key)]


def is_secret_key(key: str) -> bool:
    """Whether a key's name says its value is a credential (see the module docstring for the rules)."""
    words = key_words(key)
    if any(tuple(words[-len(tail) :]) == tail for tail in SECRET_TAILS):
        return True
    if len(words) == 2 and words[0] == "key" and words[1].isdigit():
        return True  # key1 / key2, as Azure lists resource keys
    while words and (words[-1] in TRAILING_WORDS or words[-1].isdigit()):
        words.pop()
    if not words:
        return False
    last, qualifier = words[-1], (words[-2] if len(words) > 1 else None)
    if last in SECRET_WORDS:
        return not (last == "token" and qualifier in PAGINATION_TOKEN_QUALIFIERS)
    if last == "key":
        return qualifier is not None and qualifier not in INNOCUOUS_KEY_QUALIFIERS
    return False


def _bearer(text: str) -> bool:
    for match in _BEARER.finditer(text):
        token = match.group(1)
        if len(token) >= 16 or (len(token) >= 8 and any(char.isdigit() for char in token)):
            return True
    return False


def looks_like_secret(text: str, *, key: str | None = None, as_key: bool = False) -> bool:
    """Whether a string carries a credential by its shape.

    `key` is the key the value is stored under: a 32-hex value of an id or hash key (traceId, md5) is not an
    Azure key. `as_key` checks a key name itself, where a 32-hex string is taken for an id.
    """
    if any(pattern.search(text) for pattern in _SEARCH_PATTERNS) or _bearer(text):
        return True
    value = text.strip()
    if _AZURE_ALNUM.match(value):
        return True
    if _AZURE_HEX.match(value) and not as_key:
        words = [word for word in key_words(key or "") if not word.isdigit()]
        return not (words and words[-1] in ID_LIKE_WORDS)
    return False


def _carries_value(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return False
    if isinstance(value, str):
        stripped = value.strip()
        if not stripped or stripped.lower() in MASK_VALUES:
            return False
        return len(stripped) < MIN_MASK_LENGTH or not set(stripped) <= MASK_CHARACTERS
    if isinstance(value, int | float):
        return True
    if isinstance(value, Mapping | list | tuple):
        return len(value) > 0
    return True


def _segment(path: str, key: str) -> str:
    if looks_like_secret(key, as_key=True):
        part = REDACTED_SEGMENT
    elif _PLAIN_KEY.match(key):
        return f"{path}.{key}" if path else key
    else:
        part = f"[{json.dumps(key, ensure_ascii=False)}]"
    return f"{path}{part}"


def find_secrets(payload: Any) -> list[str]:
    """The paths of every secret in `payload` (dicts and lists at any depth), in document order, each once.

    Never returns a secret value: a key that itself looks like a secret is written [redacted] in its path.
    """
    found: list[str] = []
    seen: set[str] = set()

    def report(path: str) -> None:
        where = path or ROOT
        if where not in seen:
            seen.add(where)
            found.append(where)

    # Iterative depth-first walk in document order, so deeply nested payloads cannot exhaust the stack.
    # A stack item is (path, key the value sits under, value, whether the path is to be reported as is).
    stack: list[tuple[str, str | None, Any, bool]] = [("", None, payload, False)]
    while stack:
        path, key, value, secret = stack.pop()
        if secret:
            report(path)
        elif isinstance(value, Mapping):
            children = []
            for child_key, child in value.items():
                name = str(child_key)
                child_path = _segment(path, name)
                if looks_like_secret(name, as_key=True):
                    children.append((child_path, name, None, True))
                children.append((child_path, name, child, is_secret_key(name) and _carries_value(child)))
            stack.extend(reversed(children))
        elif isinstance(value, list | tuple):
            stack.extend(reversed([(f"{path}[{index}]", key, item, False) for index, item in enumerate(value)]))
        elif isinstance(value, str) and looks_like_secret(value, key=key):
            report(path)
    return found
