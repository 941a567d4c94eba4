"""Clerk webhooks: Svix-verified deliveries that keep users, tenants and memberships in sync."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from shared.identity import service as identity
from shared.identity.roles import role_from_clerk
from shared.platform import clock
from shared.platform.errors import BadRequest, Conflict, ServiceUnavailable
from shared.platform.jsonbody import parse_json
from shared.platform.principal import Role
from shared.platform.settings import get_settings
from shared.platform.store.repository import Document, Repository
from shared.tenants import service as tenants

logger = logging.getLogger("tellgence.webhooks.clerk")

SVIX_HEADERS = ("svix-id", "svix-timestamp", "svix-signature")


class WebhookReceiptRepository(Repository):
    """Delivery ids already processed (partition = id); they expire after a week."""

    container_name = "webhook_receipts"
    doc_type = "webhookReceipt"


receipts = WebhookReceiptRepository()


def verify_clerk_delivery(raw_body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
    """The event of a delivery whose Svix signature and timestamp check out."""
    secret = get_settings().clerk_webhook_signing_secret
    if not secret:
        raise ServiceUnavailable("Clerk webhooks are not configured", code="webhook_not_configured")
    from svix.webhooks import Webhook, WebhookVerificationError

    svix_headers = {name: headers.get(name, "") for name in SVIX_HEADERS}
    if not all(svix_headers.values()):
        raise BadRequest("The Svix signature headers are missing", code="missing_signature")
    try:
        Webhook(secret).verify(raw_body, svix_headers)
    except WebhookVerificationError as exc:
        raise BadRequest("The webhook signature is not valid or too old", code="invalid_signature") from exc
    event = parse_json(raw_body)
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise BadRequest("The webhook body is not a Clerk event", code="invalid_event")
    return event


def handle_clerk_delivery(raw_body: bytes, headers: Mapping[str, str]) -> bool:
    """Verify and apply one delivery once; False when this svix-id was already processed."""
    event = verify_clerk_delivery(raw_body, headers)
    receipt_id = f"clerk-{headers['svix-id']}"
    try:
        receipts.create({"id": receipt_id, "eventType": event["type"], "receivedAt": clock.now_iso()})
    except Conflict:
        return False
    try:
        apply_event(event)
    except Exception:
        # Forget the receipt so Svix's retry of this delivery is processed instead of skipped.
        receipts.delete(receipt_id, receipt_id)
        raise
    return True


def apply_event(event: dict[str, Any]) -> None:
    """Apply a user.*, organization.* or organizationMembership.* event; ignore the rest."""
    kind = event["type"]
    data = event.get("data") or {}
    if not isinstance(data, dict):
        raise BadRequest("The event carries no data object", code="invalid_event")
    family, _, action = kind.partition(".")
    handler = _HANDLERS.get(family)
    if handler is None:
        logger.info("ignoring Clerk event %s", kind)
        return
    handler(action, data)


def _require(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"The event lacks data.{key}", code="invalid_event")
    return value


def _apply_user(action: str, data: dict[str, Any]) -> None:
    user_id = _require(data, "id")
    if action == "deleted":
        identity.users.upsert({"id": user_id, "userId": user_id, "deleted": True, "updatedAt": clock.now_iso()})
        return
    primary = data.get("primary_email_address_id")
    emails = [e for e in data.get("email_addresses") or [] if isinstance(e, dict)]
    email = next((e.get("email_address") for e in emails if e.get("id") == primary), None)
    if email is None and emails:
        email = emails[0].get("email_address")
    doc: Document = {
        "id": user_id,
        "userId": user_id,
        "email": email,
        "firstName": data.get("first_name"),
        "lastName": data.get("last_name"),
        "deleted": False,
        "updatedAt": clock.now_iso(),
    }
    identity.users.upsert({key: value for key, value in doc.items() if value is not None})


def _apply_organization(action: str, data: dict[str, Any]) -> None:
    org_id = _require(data, "id")
    name = data.get("name") if isinstance(data.get("name"), str) else None
    slug = data.get("slug") if isinstance(data.get("slug"), str) else None
    tenant_id = identity.tenant_for_org(org_id, slug=slug, display_name=name)
    tenants.sync_from_organization(tenant_id, org_id=org_id, name=name, archived=action == "deleted")


def _apply_membership(action: str, data: dict[str, Any]) -> None:
    organization = data.get("organization") or {}
    user_data = data.get("public_user_data") or {}
    if not isinstance(organization, dict) or not isinstance(user_data, dict):
        raise BadRequest("The membership event is malformed", code="invalid_event")
    org_id = _require(organization, "id")
    user_id = _require(user_data, "user_id")
    tenant_id = identity.tenant_for_org(org_id, slug=organization.get("slug"), display_name=organization.get("name"))
    if action == "deleted":
        identity.remove_member(tenant_id, user_id)
        return
    identity.link_member(tenant_id, user_id, role_from_clerk(data.get("role")) or Role.VIEWER, source="clerk")


_HANDLERS = {
    "user": _apply_user,
    "organization": _apply_organization,
    "organizationMembership": _apply_membership,
}
