"""Flag evaluation: a deterministic per-tenant rollout, overrides winning, global flags, the registry."""

from __future__ import annotations

import pytest

from shared.flags import registry
from shared.flags import service as flags
from shared.flags.registry import FlagSpec
from shared.platform.settings import Settings

PER_TENANT = FlagSpec(
    "booking_temporal_orchestration", "test flag", "per_tenant", "FEATURE_BOOKING_TEMPORAL_ORCHESTRATION"
)
GLOBAL = FlagSpec("tool_execution_persistence", "test flag", "global", "FEATURE_TOOL_EXECUTION_PERSISTENCE")
TENANTS = [f"synthetic-tenant-{n:04d}" for n in range(1000)]


def state(enabled: bool = True, rollout: float = 100) -> dict:
    return {"enabled": enabled, "rolloutPct": rollout}


def enabled_tenants(rollout: float) -> set[str]:
    return {t for t in TENANTS if flags.decide(PER_TENANT, state(rollout=rollout), None, t)}


def test_a_30_percent_rollout_enables_close_to_30_percent_the_same_ones_every_time():
    first = enabled_tenants(30)
    assert 260 <= len(first) <= 340, len(first)
    assert enabled_tenants(30) == first
    # Stable across processes: the bucket is a hash of flag and tenant, not Python's salted hash().
    assert flags.bucket(PER_TENANT.name, TENANTS[0]) == flags.bucket(PER_TENANT.name, TENANTS[0])
    assert (
        flags.bucket("booking_temporal_orchestration", "acme-dental") == 8925
    )  # sha256 of "booking_temporal_orchestration:acme-dental", first 8 bytes, mod 10,000


def test_raising_a_rollout_only_adds_tenants_and_the_ends_are_exact():
    assert enabled_tenants(10) <= enabled_tenants(30) <= enabled_tenants(75)
    assert enabled_tenants(0) == set()
    assert enabled_tenants(100) == set(TENANTS)


def test_another_flag_picks_other_tenants():
    other = FlagSpec("another_flag", "", "per_tenant", "FEATURE_X")
    mine = enabled_tenants(30)
    theirs = {t for t in TENANTS if flags.decide(other, state(rollout=30), None, t)}
    assert mine != theirs


def test_an_override_wins_over_rollout_and_over_a_disabled_flag():
    outside = next(t for t in TENANTS if not flags.in_rollout(PER_TENANT.name, t, 30))
    inside = next(t for t in TENANTS if flags.in_rollout(PER_TENANT.name, t, 30))
    assert flags.decide(PER_TENANT, state(rollout=30), True, outside) is True
    assert flags.decide(PER_TENANT, state(rollout=30), False, inside) is False
    assert flags.decide(PER_TENANT, state(enabled=False), True, outside) is True
    assert flags.decide(PER_TENANT, state(enabled=False), None, inside) is False


def test_without_a_tenant_only_a_full_rollout_is_on():
    assert flags.decide(PER_TENANT, state(rollout=100), None, None) is True
    assert flags.decide(PER_TENANT, state(rollout=99.99), None, None) is False


def test_a_global_flag_ignores_tenants():
    assert flags.decide(GLOBAL, state(enabled=True, rollout=0), False, "acme") is True
    assert flags.decide(GLOBAL, state(enabled=False), True, "acme") is False


def test_the_registry_names_flags_the_code_reads_with_boolean_setting_defaults():
    names = set(registry.flags())
    assert {registry.BOOKING_TEMPORAL_ORCHESTRATION, registry.TOOL_EXECUTION_PERSISTENCE} <= names
    fields = Settings.__dataclass_fields__
    for flag in registry.flags().values():
        assert flag.scope in ("global", "per_tenant")
        assert flag.description
        assert fields[registry.setting_field(flag)].type in ("bool", bool), flag.name
        assert flag.name.replace("_", "").isalnum() and flag.name.islower()
    on = Settings.from_env({"FEATURE_BOOKING_TEMPORAL_ORCHESTRATION": "true"})
    assert on.booking_temporal_orchestration is True


def test_an_unknown_flag_is_refused_loudly():
    with pytest.raises(registry.UnknownFlag):
        flags.is_enabled("no_such_flag", "acme")
    assert registry.UnknownFlag().status == 404
