"""A tenant's general settings: a free-form object whose known keys are validated, stored on its directory entry.

Known keys:
- `publicDemo` `{enabled, allowedOrigins}`: whether anonymous visitors of the listed web origins may
  start demo sessions in this tenant by naming it (off by default);
- `salesNotificationEmail`: where lead notifications of this tenant go;
- `timezone` (an IANA zone) and `locale` (a BCP-47 tag).
Other keys are kept as given (names of letters, digits and `_`, at most 50 keys, 16 KiB in all).
A PATCH merges top-level keys; a key set to null is removed. Every change is audited.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from shared.audit import service as audit
from shared.platform import clock, lifecycle
from shared.platform.cache import TtlCache
from shared.platform.envelope import success
from shared.platform.errors import Forbidden, ValidationFailed
from shared.platform.principal import Principal
from shared.platform.store import metering
from shared.tenants.repository import TenantRepository

MAX_KEYS = 50
MAX_SERIALISED_BYTES = 16 * 1024
MAX_ORIGINS = 20
PUBLIC_DEMO_CACHE_SECONDS = 30
SALES_RECIPIENT_CACHE_SECONDS = 60
KEY_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
LOCALE_PATTERN = re.compile(r"[a-z]{2,3}(-[A-Z][a-z]{3})?(-[A-Z]{2}|-[0-9]{3})?")

tenants = TenantRepository()
_public_demo = TtlCache(PUBLIC_DEMO_CACHE_SECONDS)
_sales_recipient = TtlCache(SALES_RECIPIENT_CACHE_SECONDS)


def normalise_origin(value: Any) -> str | None:
    """`https://Clinic.example:8443/` → `https://clinic.example:8443`; None when it is not a web origin."""
    if not isinstance(value, str) or len(value) > 300:
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        return None
    if parts.query or parts.fragment or parts.username or parts.password:
        return None
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return None
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


def _validate_public_demo(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or set(value) - {"enabled", "allowedOrigins"}:
        raise ValidationFailed("settings.publicDemo: must be {enabled, allowedOrigins}")
    enabled = value.get("enabled", False)
    if not isinstance(enabled, bool):
        raise ValidationFailed("settings.publicDemo.enabled: must be true or false")
    origins = value.get("allowedOrigins", [])
    if not isinstance(origins, list) or len(origins) > MAX_ORIGINS:
        raise ValidationFailed(f"settings.publicDemo.allowedOrigins: must be a list of at most {MAX_ORIGINS} origins")
    normalised = []
    for index, origin in enumerate(origins):
        clean = normalise_origin(origin)
        if clean is None:
            raise ValidationFailed(f"settings.publicDemo.allowedOrigins[{index}]: must be an http(s) origin")
        normalised.append(clean)
    return {"enabled": enabled, "allowedOrigins": list(dict.fromkeys(normalised))}


def _validate_email(value: Any) -> str:
    from shared.email.models import is_address

    if not isinstance(value, str) or not is_address(value.strip()):
        raise ValidationFailed("settings.salesNotificationEmail: must be an email address")
    return value.strip()


def _validate_timezone(value: Any) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_+\-/]{1,64}", value) or ".." in value:
        raise ValidationFailed("settings.timezone: must be an IANA time zone")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed("settings.timezone: must be an IANA time zone") from exc
    return value


def _validate_locale(value: Any) -> str:
    if not isinstance(value, str) or not LOCALE_PATTERN.fullmatch(value):
        raise ValidationFailed("settings.locale: must be a BCP-47 tag such as en-US")
    return value


KNOWN_KEYS = {
    "publicDemo": _validate_public_demo,
    "salesNotificationEmail": _validate_email,
    "timezone": _validate_timezone,
    "locale": _validate_locale,
}


def read_settings(tenant_id: str) -> dict[str, Any]:
    """A tenant's settings (empty for a tenant that has none)."""
    entry = tenants.read_tenant(tenant_id) or {}
    stored = entry.get("settings")
    return dict(stored) if isinstance(stored, dict) else {}


def settings_view(tenant_id: str) -> dict[str, Any]:
    """The contract's tenant-settings answer."""
    return success(settings=read_settings(tenant_id))


def merged(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """The settings after a merge patch: known keys validated, null removes, bounds enforced."""
    result = dict(current)
    for key, value in patch.items():
        if not KEY_PATTERN.fullmatch(key):
            raise ValidationFailed("settings: keys are letters, digits and '_' (at most 64), starting with a letter")
        if value is None:
            result.pop(key, None)
            continue
        validate = KNOWN_KEYS.get(key)
        result[key] = validate(value) if validate else value
    if len(result) > MAX_KEYS:
        raise ValidationFailed(f"settings: at most {MAX_KEYS} keys")
    if len(json.dumps(result, ensure_ascii=False).encode()) > MAX_SERIALISED_BYTES:
        raise ValidationFailed(f"settings: at most {MAX_SERIALISED_BYTES} bytes in all")
    return result


def update_settings(actor: Principal, tenant_id: str, patch: dict[str, Any], *, ip: str | None) -> dict[str, Any]:
    """Merge a patch into the tenant's settings and audit what changed."""
    from shared.tenants import service as directory

    stored = directory.ensure_tenant(tenant_id).get("settings")
    current = dict(stored) if isinstance(stored, dict) else {}
    settings = merged(current, patch)
    if settings != current:
        audit.update_audited(
            tenants,
            tenant_id,
            tenant_id,
            {"settings": settings, "updatedAt": clock.now_iso()},
            actor=actor,
            action="tenant.settings_updated",
            target_type="tenant",
            tenant_id=tenant_id,
            ip=ip,
            what="Tenant",
        )
        _public_demo.forget(tenant_id)
        _sales_recipient.forget(tenant_id)
    return success(settings=settings)


def _public_demo_origins(tenant_id: str) -> frozenset[str]:
    cached = _public_demo.get(tenant_id)
    if cached is None:
        # One read per tenant per cache lifetime, not per request.
        with metering.amortized():
            public_demo = read_settings(tenant_id).get("publicDemo") or {}
        cached = frozenset(public_demo.get("allowedOrigins", [])) if public_demo.get("enabled") else frozenset()
        _public_demo.put(tenant_id, cached)
    return cached


def require_public_demo(tenant_id: str, origin: str | None) -> None:
    """Forbidden unless the tenant takes public demos from this Origin (the same answer for unknown tenants)."""
    clean = normalise_origin(origin)
    if clean is None or clean not in _public_demo_origins(tenant_id):
        raise Forbidden(
            "This tenant does not accept public demo sessions from this site; leave tenantId out to use the demo",
            code="public_demo_not_allowed",
        )


def sales_notification_email(tenant_id: str) -> str | None:
    """The tenant's `salesNotificationEmail` (None when unset), cached per process for a minute."""
    cached = _sales_recipient.get(tenant_id)
    if cached is None:
        # One read per tenant per cache lifetime (a settings change here forgets it at once).
        with metering.amortized():
            value = read_settings(tenant_id).get("salesNotificationEmail")
        cached = (value if isinstance(value, str) and value.strip() else None,)
        _sales_recipient.put(tenant_id, cached)
    return cached[0]


@lifecycle.on_reset
def clear_caches() -> None:
    """Forget cached public-demo settings and sales recipients (tests)."""
    _public_demo.clear()
    _sales_recipient.clear()
