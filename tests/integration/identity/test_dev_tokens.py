"""`python -m devhost token`: tokens the local app accepts, with tenant and membership created."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from devhost.__main__ import build_parser
from devhost.tokens import (
    DEV_ISSUER,
    ensure_dev_webhook_secret,
    load_or_create_dev_key,
    mint_dev_token,
    public_pem,
    trust_dev_signing_key,
)
from shared.platform.principal import Role
from tests.conftest import reset_clients
from tests.support.identity import new_tenant_id


def test_the_command_line_is_exactly_the_documented_interface():
    args = build_parser().parse_args(
        ["token", "--tenant", "acme", "--role", "viewer", "--super-admin", "--user", "u1", "--ttl", "60"]
    )
    assert (args.tenant, args.role, args.super_admin, args.user, args.ttl) == ("acme", "viewer", True, "u1", 60)
    defaults = build_parser().parse_args(["token", "--tenant", "acme", "--role", "owner"])
    assert (defaults.super_admin, defaults.user, defaults.ttl) == (False, None, 3600)


def test_local_settings_learn_to_trust_the_machines_dev_key(tmp_path):
    settings_file = tmp_path / "local.settings.json"
    settings_file.write_text(json.dumps({"Values": {"CLERK_JWT_KEY": "", "CLERK_ISSUER": ""}}))
    trust_dev_signing_key(tmp_path, settings_file)
    values = json.loads(settings_file.read_text())["Values"]
    assert values["CLERK_JWT_KEY"] == public_pem(load_or_create_dev_key(tmp_path))
    assert values["CLERK_ISSUER"] == DEV_ISSUER
    assert (tmp_path / ".local" / "dev-jwt-key.pem").stat().st_mode & 0o077 == 0


def test_a_key_already_trusted_is_left_alone(tmp_path):
    settings_file = tmp_path / "local.settings.json"
    settings_file.write_text(
        json.dumps({"Values": {"CLERK_JWT_KEY": "", "CLERK_JWKS_URL": "https://clerk.example/jwks"}})
    )
    trust_dev_signing_key(tmp_path, settings_file)
    assert json.loads(settings_file.read_text())["Values"]["CLERK_JWT_KEY"] == ""


def test_local_settings_get_a_webhook_secret_that_svix_signs_and_verifies_with(tmp_path):
    from svix.webhooks import Webhook, WebhookVerificationError

    settings_file = tmp_path / "local.settings.json"
    settings_file.write_text(json.dumps({"Values": {"CLERK_WEBHOOK_SIGNING_SECRET": ""}}))
    ensure_dev_webhook_secret(settings_file)
    secret = json.loads(settings_file.read_text())["Values"]["CLERK_WEBHOOK_SIGNING_SECRET"]
    assert secret.startswith("whsec_")

    webhook, body, moment = Webhook(secret), b'{"type": "user.created"}', datetime.now(UTC)
    headers = {"svix-id": "msg_1", "svix-timestamp": str(int(moment.timestamp()))}
    headers["svix-signature"] = webhook.sign("msg_1", moment, body.decode())
    webhook.verify(body, headers)  # raises unless the signature matches
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "QQ==" * 8).verify(body, headers)

    ensure_dev_webhook_secret(settings_file)
    assert json.loads(settings_file.read_text())["Values"]["CLERK_WEBHOOK_SIGNING_SECRET"] == secret


def test_a_configured_webhook_secret_is_left_alone(tmp_path):
    settings_file = tmp_path / "local.settings.json"
    settings_file.write_text(json.dumps({"Values": {"CLERK_WEBHOOK_SIGNING_SECRET": "whsec_configured"}}))
    ensure_dev_webhook_secret(settings_file)
    assert json.loads(settings_file.read_text())["Values"]["CLERK_WEBHOOK_SIGNING_SECRET"] == "whsec_configured"


def test_a_minted_token_opens_the_tenant_with_its_role(client, tmp_path, settings_env):
    settings_env.setenv("CLERK_JWT_KEY", public_pem(load_or_create_dev_key(tmp_path)))
    settings_env.setenv("CLERK_ISSUER", DEV_ISSUER)
    reset_clients()
    tenant = new_tenant_id("dev")
    token = mint_dev_token(
        tmp_path, tenant_id=tenant, role=Role.OPERATOR, super_admin=False, user_id=None, ttl_seconds=120
    )
    session = client.get("/api/cp/auth/session", headers={"Authorization": f"Bearer {token}"}).json()["session"]
    assert (session["tenantId"], session["role"], session["userId"]) == (tenant, "operator", "user_dev_operator")


def test_a_super_admin_token_uses_a_configured_super_admin(client, tmp_path, settings_env):
    settings_env.setenv("CLERK_JWT_KEY", public_pem(load_or_create_dev_key(tmp_path)))
    settings_env.setenv("CLERK_ISSUER", DEV_ISSUER)
    reset_clients()
    token = mint_dev_token(
        tmp_path, tenant_id=new_tenant_id("dev"), role=Role.OWNER, super_admin=True, user_id=None, ttl_seconds=120
    )
    tenants = client.get("/api/cp/tenants", headers={"Authorization": f"Bearer {token}"})
    assert tenants.status_code == 200
