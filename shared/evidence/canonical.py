"""RFC 8785 (JSON Canonicalization Scheme) bytes and the sha256 digests evidence packs are built on."""

from __future__ import annotations

import hashlib
from typing import Any


class CanonicalizationError(ValueError):
    """A value that has no RFC 8785 form (NaN, an integer beyond ±2^53, a non-string key, a lone surrogate...)."""


def canonical_bytes(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value; CanonicalizationError when it has none."""
    import rfc8785

    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        raise CanonicalizationError(f"not canonicalizable as RFC 8785 JSON: {exc}") from exc
    except (TypeError, UnicodeError, RecursionError) as exc:
        raise CanonicalizationError(f"not canonicalizable as RFC 8785 JSON: {type(exc).__name__}") from exc


def canonical_text(value: Any) -> str:
    """The canonical form as text (what the pack's `canonicalJson` carries)."""
    return canonical_bytes(value).decode("utf-8")


def sha256_hex(data: bytes) -> str:
    """Lower-case hex sha256 of raw bytes."""
    return hashlib.sha256(data).hexdigest()


def canonical_sha256(value: Any) -> str:
    """Lower-case hex sha256 of a value's canonical bytes."""
    return sha256_hex(canonical_bytes(value))
