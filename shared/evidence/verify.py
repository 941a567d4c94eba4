"""Verification of evidence signatures and packs: every failure is an answer ({valid: false, reason}), never an error.

Needs only `cryptography` and `rfc8785`: no settings, no network, no database (the offline CLI runs it as is).
What is verified is the RFC 8785 canonical form of the bundle. A bundle given as a string is taken as the exact
bytes that were signed (the pack's `canonicalJson`), so changing any byte of it invalidates the signature; a bundle
given as an object is canonicalized first, so any changed value, added or removed field, or reordered array item
invalidates it (object key order is not significant in JSON, and canonicalization sorts keys).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from shared.evidence.canonical import CanonicalizationError, canonical_bytes, sha256_hex
from shared.evidence.format import SIGNATURE_ALGORITHM, counts, pack_sha256
from shared.evidence.keys import InvalidKey, load_public_key, public_key_id

if TYPE_CHECKING:
    from shared.platform.settings import Settings

SIGNATURE_BYTES = 64


def _result(valid: bool, reason: str | None = None, key_id: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"valid": valid}
    if reason:
        result["reason"] = reason
    if key_id:
        result["publicKeyId"] = key_id
    return result


def _raw(public_key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _signed_bytes(bundle: Any) -> bytes:
    if isinstance(bundle, bytes):
        return bundle
    if isinstance(bundle, str):
        try:
            return bundle.encode("utf-8")
        except UnicodeEncodeError:
            raise CanonicalizationError("the bundle string is not valid Unicode") from None
    if isinstance(bundle, Mapping):
        return canonical_bytes(bundle)
    raise CanonicalizationError("the bundle must be a JSON string or an object")


def _not_canonical_hint(bundle: Any) -> str:
    """A hint when a bundle string verifies nothing because it is JSON but not in its canonical form."""
    if not isinstance(bundle, str | bytes):
        return ""
    import json

    try:
        canonical = canonical_bytes(json.loads(bundle))
    except (ValueError, RecursionError):
        return ""
    text = bundle if isinstance(bundle, bytes) else bundle.encode("utf-8", "replace")
    if canonical != text:
        return " (the string is not in RFC 8785 canonical form: pass the pack's canonicalJson unchanged)"
    return ""


def verify(
    bundle: str | bytes | Mapping[str, Any],
    signature: Any,
    public_key_pem: str | bytes | None = None,
    *,
    trusted_keys: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """{valid, reason?, publicKeyId?} for an ed25519 signature over a bundle (exact string, or object canonicalized).

    The key is `public_key_pem` when given, else the signature's `publicKeyPem`. With `trusted_keys` (key id →
    public PEM, e.g. keys.trusted_public_keys()) a key that is not one of them is refused, so a pack re-signed
    with someone else's key never verifies.
    """
    from cryptography.exceptions import InvalidSignature

    if not isinstance(signature, Mapping):
        return _result(False, "signature must be an object with algorithm, publicKeyPem and signatureB64")
    algorithm = signature.get("algorithm")
    if algorithm is None:
        return _result(False, "the signature's algorithm is missing: expected 'ed25519'")
    if algorithm != SIGNATURE_ALGORITHM:
        return _result(False, f"unsupported signature algorithm {str(algorithm)[:40]!r}: only 'ed25519' is used")
    pem = public_key_pem if public_key_pem is not None else signature.get("publicKeyPem")
    if not isinstance(pem, str | bytes) or not pem:
        return _result(False, "no public key: publicKeyPem is missing")
    try:
        public_key = load_public_key(pem)
    except InvalidKey as exc:
        return _result(False, f"the public key is {exc}")
    key_id = public_key_id(public_key)
    claimed_id = signature.get("publicKeyId")
    if claimed_id is not None and claimed_id != key_id:
        reason = f"the signature names key {str(claimed_id)[:40]!r} but the public key is {key_id}"
        return _result(False, reason, key_id)
    if trusted_keys is not None and not _is_trusted(public_key, trusted_keys):
        return _result(False, f"public key {key_id} is not a Tellgence evidence signing key", key_id)
    encoded = signature.get("signatureB64")
    if not isinstance(encoded, str) or not encoded:
        return _result(False, "signatureB64 is missing", key_id)
    try:
        raw_signature = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return _result(False, "signatureB64 is not valid base64", key_id)
    if len(raw_signature) != SIGNATURE_BYTES:
        return _result(False, f"an ed25519 signature has 64 bytes, this one has {len(raw_signature)}", key_id)
    try:
        data = _signed_bytes(bundle)
    except CanonicalizationError as exc:
        return _result(False, f"the bundle cannot be canonicalized: {exc}", key_id)
    try:
        public_key.verify(raw_signature, data)
    except InvalidSignature:
        reason = "the signature does not match the bundle: it was changed, or signed by another key"
        return _result(False, reason + _not_canonical_hint(bundle), key_id)
    return _result(True, None, key_id)


def _is_trusted(public_key: Any, trusted_keys: Mapping[str, str]) -> bool:
    raw = _raw(public_key)
    for pem in trusted_keys.values():
        try:
            if _raw(load_public_key(pem)) == raw:
                return True
        except InvalidKey:
            continue
    return False


def verify_trusted(
    bundle: str | bytes | Mapping[str, Any], signature: Any, settings: Settings | None = None
) -> dict[str, Any]:
    """verify() against the keys this deployment trusts: its current signing key and the retired ones."""
    from shared.evidence.keys import trusted_public_keys

    return verify(bundle, signature, trusted_keys=trusted_public_keys(settings))


def _manifest_problem(pack: Mapping[str, Any], bundle: Mapping[str, Any], canonical: bytes) -> str | None:
    """Why the pack's manifest or canonicalJson disagrees with its bundle, or None."""
    if pack.get("canonicalJson") is not None and pack["canonicalJson"] != canonical.decode("utf-8"):
        return "canonicalJson is not the canonical form of the bundle"
    manifest = pack.get("manifest")
    if not isinstance(manifest, Mapping):
        return "the pack has no manifest"
    if manifest.get("bundleSha256") != sha256_hex(canonical):
        return "manifest.bundleSha256 does not match the bundle"
    if manifest.get("bundleByteLength") != len(canonical):
        return "manifest.bundleByteLength does not match the bundle"
    if manifest.get("counts") != counts(bundle):
        return "manifest.counts do not match the bundle"
    if manifest.get("packSha256") != pack_sha256(bundle, pack["signature"]):
        return "manifest.packSha256 does not match the bundle and signature"
    for where, value in (("pack", pack.get("sessionId")), ("manifest", manifest.get("sessionId"))):
        if value != bundle.get("sessionId"):
            return f"the {where} names another session than the bundle"
    return None


def verify_pack(pack: Any, public_key_pems: list[str] | tuple[str, ...] | None = None) -> dict[str, Any]:
    """Verify a whole pack: the signature over its bundle, then its canonicalJson and manifest.

    `public_key_pems` are the keys to trust (current and retired); without them the pack's own embedded key is
    used, which proves the pack is intact but not who signed it (`keyFromPack` is then true).
    """
    if not isinstance(pack, Mapping):
        return _result(False, "the pack must be a JSON object")
    bundle, signature = pack.get("bundle"), pack.get("signature")
    if not isinstance(bundle, Mapping) or not isinstance(signature, Mapping):
        return _result(False, "the pack needs a bundle object and a signature object")
    try:
        canonical = canonical_bytes(bundle)
    except CanonicalizationError as exc:
        return _result(False, f"the bundle cannot be canonicalized: {exc}")
    chosen: str | None = None
    if public_key_pems:
        given: dict[str, str] = {}
        for pem in public_key_pems:
            try:
                given[public_key_id(load_public_key(pem))] = pem
            except InvalidKey as exc:
                return _result(False, f"a given public key is {exc}")
        chosen = given.get(str(signature.get("publicKeyId")))
        if chosen is None:
            named = str(signature.get("publicKeyId"))[:40]
            return _result(False, f"the pack is signed by key {named!r}, not by a given key ({', '.join(given)})")
    result = verify(canonical, signature, chosen)
    if result["valid"]:
        problem = _manifest_problem(pack, bundle, canonical)
        if problem:
            result = _result(False, problem, result.get("publicKeyId"))
    result["keyFromPack"] = chosen is None
    return result
