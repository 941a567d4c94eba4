"""Dev-only Clerk-shaped session tokens, signed by a local RSA key that only local settings trust."""

from __future__ import annotations

import base64
import json
import time
import uuid
from pathlib import Path
from typing import Any

DEV_KEY_FILE = Path(".local") / "dev-jwt-key.pem"
DEV_ISSUER = "https://clerk.tellgence.local"
DEV_KID = "tellgence-dev"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def generate_private_key() -> Any:
    """A fresh 2048-bit RSA key."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: Any) -> str:
    """PKCS#8 PEM of a private key."""
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_pem(key: Any) -> str:
    """SubjectPublicKeyInfo PEM of a private key's public half."""
    from cryptography.hazmat.primitives import serialization

    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def load_or_create_dev_key(root: Path) -> Any:
    """The machine's dev signing key under .local/, created on first use (mode 0600)."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    path = root / DEV_KEY_FILE
    if path.exists():
        return load_pem_private_key(path.read_bytes(), password=None)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = generate_private_key()
    path.write_text(private_pem(key))
    path.chmod(0o600)
    return key


def sign(claims: dict[str, Any], key: Any, *, kid: str = DEV_KID, alg: str = "RS256") -> str:
    """A compact JWS over the claims, RS256 with the given key."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    header = {"alg": alg, "typ": "JWT", "kid": kid}
    signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64url(signature)}"


def session_claims(
    *,
    user_id: str,
    org_id: str | None,
    role: str | None,
    org_slug: str | None = None,
    ttl_seconds: int = 3600,
    issuer: str = DEV_ISSUER,
    azp: str | None = None,
    claims_version: int = 2,
    now: float | None = None,
) -> dict[str, Any]:
    """Claims shaped like a Clerk session token, in v2 (`o`) or v1 (`org_id`, `org_role`) form."""
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "sub": user_id,
        "iss": issuer,
        "iat": issued,
        "nbf": issued - 5,
        "exp": issued + ttl_seconds,
        "sid": f"sess_{uuid.uuid4().hex[:24]}",
        "jti": uuid.uuid4().hex,
    }
    if azp:
        claims["azp"] = azp
    if org_id:
        if claims_version == 2:
            claims["v"] = 2
            claims["o"] = {"id": org_id, "rol": role, "slg": org_slug or org_id}
        else:
            claims.update(org_id=org_id, org_role=f"org:{role}" if role else None, org_slug=org_slug or org_id)
    return claims


def dev_org_id(tenant_id: str) -> str:
    """The organization id dev tokens use for a tenant."""
    return f"org_dev_{tenant_id}"


class DevTokenError(RuntimeError):
    """A dev token cannot be minted (the local store is down, or the user is not a super-admin)."""


def trust_dev_signing_key(root: Path, settings_path: Path) -> None:
    """Make local.settings.json trust this machine's dev key when it trusts no Clerk key yet."""
    document = json.loads(settings_path.read_text(encoding="utf-8"))
    values = document.setdefault("Values", {})
    if values.get("CLERK_JWT_KEY") or values.get("CLERK_JWKS_URL"):
        return
    values["CLERK_JWT_KEY"] = public_pem(load_or_create_dev_key(root))
    values["CLERK_ISSUER"] = values.get("CLERK_ISSUER") or DEV_ISSUER
    settings_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def ensure_dev_webhook_secret(settings_path: Path) -> None:
    """Give local.settings.json a Clerk (Svix) webhook secret of its own when it has none yet.

    With no secret the webhook refuses every delivery (503); locally it verifies signatures made with
    this one instead, so signed test deliveries and bad signatures behave as they do in Azure.
    """
    import secrets

    document = json.loads(settings_path.read_text(encoding="utf-8"))
    values = document.setdefault("Values", {})
    if (values.get("CLERK_WEBHOOK_SIGNING_SECRET") or "").strip():
        return
    values["CLERK_WEBHOOK_SIGNING_SECRET"] = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")
    settings_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def mint_dev_token(
    root: Path, *, tenant_id: str, role: Any, super_admin: bool, user_id: str | None, ttl_seconds: int
) -> str:
    """A token for the local app, after making sure the tenant, its org link and the membership exist."""
    from shared.identity import service as identity
    from shared.platform.errors import ServiceUnavailable
    from shared.platform.settings import get_settings
    from shared.tenants import service as tenants
    from shared.tenants.ids import is_reserved

    settings = get_settings()
    if super_admin:
        admins = sorted(settings.super_admin_user_ids)
        if not admins:
            raise DevTokenError("SUPER_ADMIN_USER_IDS in local.settings.json is empty")
        user_id = user_id or admins[0]
        if user_id not in settings.super_admin_user_ids:
            raise DevTokenError(f"{user_id} is not in SUPER_ADMIN_USER_IDS (local.settings.json)")
    user_id = user_id or f"user_dev_{role.value}"
    org_id = dev_org_id(tenant_id)
    if is_reserved(tenant_id):
        raise DevTokenError(f"{tenant_id} belongs to the platform: no organization or member may be linked to it")
    try:
        tenants.ensure_tenant(tenant_id, org_id=org_id)
        identity.link_organization(org_id, tenant_id)
        identity.link_member(tenant_id, user_id, role, source="devhost")
    except ServiceUnavailable as exc:
        raise DevTokenError("the local Cosmos emulator is not reachable; start it with `make dev`") from exc
    claims = session_claims(
        user_id=user_id,
        org_id=org_id,
        org_slug=tenant_id,
        role=role.value,
        ttl_seconds=ttl_seconds,
        issuer=settings.clerk_issuer or DEV_ISSUER,
        azp=settings.frontend_urls[0] if settings.frontend_urls else None,
    )
    return sign(claims, load_or_create_dev_key(root))
