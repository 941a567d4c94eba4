"""main.bicep deploys on Flex Consumption, supplies every setting the app reads, alerts, logs and is resilient in prod.

Read as text like test_infra_matches_registry.py (whose helpers this module reuses): no Bicep
compiler and no network. The Flex Consumption lists below are Microsoft's documented ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from pathlib import Path

import pytest

from shared.health import service as health
from shared.platform.settings import Settings
from tests.unit.infra.test_infra_matches_registry import (
    REPLACED_BY_IDENTITY,
    SECRETS_JSON,
    balanced_from,
    bicep,
    bicep_params,
    bicep_vars,
    derivation,
    env_names_read_by_app,
    fixed_app_settings,
    resources_of,
    secret_env_names,
    secrets_document,
    settings_sync,
    string_array,
)

# Site properties Flex Consumption deprecates or refuses ("Flex Consumption plan deprecations" in
# Microsoft's app settings reference): runtime, scale and deployment moved to functionAppConfig,
# and FTP(S), 32-bit workers, Always On and pre-warmed instances do not exist on Flex.
FLEX_REJECTED_SITE_PROPERTIES = {
    "ftpsState",
    "use32BitWorkerProcess",
    "isReserved",
    "IsXenon",
    "windowsFxVersion",
    "alwaysOn",
    "preWarmedInstanceCount",
    "functionAppScaleLimit",
    "containerSize",
    "javaVersion",
    "powerShellVersion",
    "netFrameworkVersion",
    "linuxFxVersion",
}
# The site-config properties this template may set on its Flex site.
FLEX_SITE_CONFIG_ALLOWED = {"minTlsVersion", "cors"}
# Defect 4 of the operability issue: settings the code needs that must be template parameters.
REQUIRED_PARAMETER_SETTINGS = {
    "EMAIL_PROVIDER",
    "EMAIL_FROM",
    "CLERK_ISSUER",
    "CLERK_JWKS_URL",
    "SUPER_ADMIN_USER_IDS",
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_DEPLOYMENT_REALTIME",
}


def site() -> dict:
    (found,) = resources_of("Microsoft.Web/sites")
    return found


def block(body: str, key: str) -> str:
    """The `{ ... }` value of `key:` inside a resource body."""
    match = re.search(rf"\b{key}:\s*(?=\{{)", body)
    assert match, f"no {key} block"
    return balanced_from(body, match.end())


def top_level_keys(object_text: str) -> set[str]:
    """The keys of a Bicep object literal, without those of nested objects."""
    keys, depth = set(), 0
    for line in object_text.splitlines():
        stripped = line.strip()
        if depth == 1 and (match := re.match(r"^([A-Za-z_]\w*)\s*:", stripped)):
            keys.add(match.group(1))
        depth += stripped.count("{") + stripped.count("[") - stripped.count("}") - stripped.count("]")
    return keys


# ---------------------------------------------------------------------------------------------
# Flex Consumption: only the site properties Flex accepts
# ---------------------------------------------------------------------------------------------


def test_the_flex_site_sets_only_allowed_site_config_properties() -> None:
    site_config = block(site()["body"], "siteConfig")
    assert top_level_keys(site_config) <= FLEX_SITE_CONFIG_ALLOWED, top_level_keys(site_config)


@pytest.mark.parametrize("name", sorted(FLEX_REJECTED_SITE_PROPERTIES))
def test_no_property_flex_rejects_is_set_anywhere(name: str) -> None:
    assert not re.search(rf"\b{name}\s*:", bicep(), re.I), f"Flex Consumption rejects {name}"


def test_always_ready_instances_are_a_flex_scale_setting() -> None:
    scale = block(site()["body"], "scaleAndConcurrency")
    assert re.search(r"alwaysReady:\s*alwaysReadyHttpInstances\s*>\s*0", scale)
    assert re.search(r"name:\s*'http'\s*instanceCount:\s*alwaysReadyHttpInstances", scale)


# ---------------------------------------------------------------------------------------------
# Settings: every setting the code reads is supplied, a secret, or documented as left out
# ---------------------------------------------------------------------------------------------


def categories() -> dict[str, set[str]]:
    return {
        "set by the appsettings resource": set(fixed_app_settings()),
        "a Key Vault secret (secret-settings.json)": set(secrets_document()["keyVaultSecretSettings"]),
        "replaced by the managed identity": set(secrets_document()["replacedByIdentity"]),
        "optional (var optionalSettingNames)": set(string_array("optionalSettingNames")),
        "never set in Azure (var notInAzureSettingNames)": set(string_array("notInAzureSettingNames")),
    }


def test_every_setting_the_code_reads_is_supplied_or_documented_as_left_out() -> None:
    read = env_names_read_by_app()
    assert {"COSMOS_ENDPOINT", "CLERK_ISSUER", "APPLICATIONINSIGHTS_CONNECTION_STRING"} <= read
    accounted = set().union(*categories().values())
    missing = sorted(read - accounted)
    assert not missing, (
        f"Settings reads {missing}, which infra/main.bicep neither sets nor documents: add a parameter and an "
        "appsettings entry, list it in optionalSettingNames (or notInAzureSettingNames with the reason), or, "
        "for a secret, run `.venv/bin/python infra/sync_settings.py`"
    )


def test_each_setting_has_exactly_one_category() -> None:
    seen: dict[str, str] = {}
    for category, names in categories().items():
        for name in names:
            assert name not in seen, f"{name} is both {seen[name]} and {category}"
            seen[name] = category


@pytest.mark.parametrize("var_name", ["optionalSettingNames", "notInAzureSettingNames"])
def test_documented_exceptions_are_settings_the_code_reads(var_name: str) -> None:
    stale = sorted(set(string_array(var_name)) - env_names_read_by_app())
    assert not stale, f"{var_name} lists {stale}, which Settings no longer reads"


def test_the_settings_the_issue_names_are_template_parameters() -> None:
    for name in sorted(REQUIRED_PARAMETER_SETTINGS):
        value = fixed_app_settings().get(name)
        assert value, f"the appsettings resource does not set {name}"
        used = {param for param in bicep_params() if re.search(rf"\b{param}\b", derivation(value))}
        assert used, f"{name} is not taken from a parameter"


def test_the_local_only_loopback_switch_never_reaches_azure() -> None:
    assert "OUTBOUND_ALLOW_LOOPBACK" in string_array("notInAzureSettingNames")
    assert "OUTBOUND_ALLOW_LOOPBACK" not in fixed_app_settings()


def test_secrets_can_only_become_key_vault_references() -> None:
    references = derivation("keyVaultReferenceSettings")
    assert "secretSettingNames" in references and "keyVaultSecretSettings" in references
    for name in secret_env_names():
        assert name not in fixed_app_settings(), f"{name} is a secret set as a plain app setting"
        assert name not in string_array("optionalSettingNames")
    for name in REPLACED_BY_IDENTITY:
        assert name not in secrets_document()["keyVaultSecretSettings"]


def test_ignored_settings_are_reported_in_outputs() -> None:
    outputs = dict(re.findall(r"^output\s+(\w+)\s+\w+\s*=\s*(.+)$", bicep(), re.M))
    assert derivation(outputs["ignoredAdditionalAppSettings"]).count("additionalAppSettings")
    assert "keyVaultSecretSettings" in derivation(outputs["ignoredKeyVaultSecretSettings"])


def test_telemetry_settings_reach_the_app_and_the_worker() -> None:
    settings = fixed_app_settings()
    assert settings["APPLICATIONINSIGHTS_CONNECTION_STRING"] == "appInsights.properties.ConnectionString"
    assert "Authorization=AAD" in settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]
    assert settings["PYTHON_ENABLE_OPENTELEMETRY"] == "'true'"


# ---------------------------------------------------------------------------------------------
# secret-settings.json follows Settings, including fields added later
# ---------------------------------------------------------------------------------------------


def test_secret_settings_json_matches_settings() -> None:
    sync = settings_sync()
    assert SECRETS_JSON.read_text(encoding="utf-8") == sync.render(sync.expected_document()), (
        "infra/secret-settings.json is stale: run `.venv/bin/python infra/sync_settings.py` and commit it"
    )


@dataclass(frozen=True, slots=True)
class SettingsWithANewSecret(Settings):
    """Settings as another feature might extend them: one more secret, read from its own variable."""

    connector_encryption_key: str = field(default="", repr=False)

    @classmethod
    def from_env(cls, env):
        base = Settings.from_env(env)
        values = {f.name: getattr(base, f.name) for f in fields(Settings)}
        return cls(**values, connector_encryption_key=env.get("CONNECTOR_ENCRYPTION_KEY") or "")


def test_a_new_secret_field_is_picked_up_without_editing_the_generator(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sync = settings_sync()
    monkeypatch.setattr(sync, "_settings_class", lambda: SettingsWithANewSecret)

    document = sync.expected_document()

    assert "CONNECTOR_ENCRYPTION_KEY" in document["keyVaultSecretSettings"]
    target = tmp_path / "secret-settings.json"
    target.write_text(SECRETS_JSON.read_text(encoding="utf-8"), encoding="utf-8")
    assert sync.main(["--check", "--output", str(target)]) == 1
    assert sync.main(["--output", str(target)]) == 0
    assert sync.main(["--check", "--output", str(target)]) == 0


@dataclass(frozen=True, slots=True)
class SettingsWithAStrictKey(Settings):
    """A secret whose parser refuses anything but a 32-byte base64 key, and one named by metadata only."""

    signing_key: bytes = field(default=b"", repr=False)
    webhook_secret: str = field(default="", repr=False, metadata={"env": "OUTBOUND_WEBHOOK_SECRET"})

    @classmethod
    def from_env(cls, env):
        import base64
        import binascii

        base = Settings.from_env(env)
        raw = env.get("STRICT_TEST_SIGNING_KEY") or ""
        try:
            key = base64.b64decode(raw, validate=True) if raw else b""
        except binascii.Error as exc:
            raise ValueError("STRICT_TEST_SIGNING_KEY must be base64") from exc
        if raw and len(key) != 32:
            raise ValueError("STRICT_TEST_SIGNING_KEY must hold 32 bytes")
        values = {f.name: getattr(base, f.name) for f in fields(Settings)}
        return cls(**values, signing_key=key)


def test_a_secret_with_a_strict_parser_or_a_named_variable_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    sync = settings_sync()
    monkeypatch.setattr(sync, "_settings_class", lambda: SettingsWithAStrictKey)

    secrets = sync.expected_document()["keyVaultSecretSettings"]

    assert {"STRICT_TEST_SIGNING_KEY", "OUTBOUND_WEBHOOK_SECRET"} <= set(secrets)


def test_a_secret_no_variable_feeds_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    @dataclass(frozen=True, slots=True)
    class Unreadable(Settings):
        orphan_secret: str = field(default="", repr=False)

    sync = settings_sync()
    monkeypatch.setattr(sync, "_settings_class", lambda: Unreadable)
    with pytest.raises(sync.SettingsProbeError, match="orphan_secret"):
        sync.expected_document()


# ---------------------------------------------------------------------------------------------
# Alerts and diagnostics
# ---------------------------------------------------------------------------------------------


def log_alerts() -> dict[str, str]:
    """Log alert name -> its KQL query, from `var logAlerts`."""
    definition = bicep_vars()["logAlerts"]
    names = re.findall(r"name:\s*'([\w-]+)'", definition)
    queries = re.findall(r"query:\s*'((?:[^'\\]|\\.)*)'", definition)
    assert len(names) == len(queries)
    return dict(zip(names, queries, strict=True))


def test_the_log_alerts_are_rules_on_application_insights() -> None:
    (rules,) = resources_of("Microsoft.Insights/scheduledQueryRules")
    assert rules["iterable"] == "logAlerts"
    assert re.search(r"scopes:\s*\[\s*appInsights\.id\s*\]", rules["body"])
    assert re.search(r"actionGroups:\s*\[\s*alertActionGroup\.id\s*\]", rules["body"])
    assert set(log_alerts()) == {"poison-queue", "http-5xx-rate", "readiness"}


def test_the_poison_and_readiness_alerts_query_the_gauges_the_probe_records() -> None:
    assert bicep_vars()["poisonDepthGauge"] == f"'{health.POISON_DEPTH_GAUGE}'"
    assert bicep_vars()["readinessGauge"] == f"'{health.READINESS_GAUGE}'"
    assert "${poisonDepthGauge}" in log_alerts()["poison-queue"] and "depth > 0" in log_alerts()["poison-queue"]
    assert "${readinessGauge}" in log_alerts()["readiness"] and "value == 0" in log_alerts()["readiness"]


def test_the_readiness_alert_also_sees_failed_readiness_requests() -> None:
    query = log_alerts()["readiness"].replace("\\'", "'")
    for operation_id in ("getRootReadiness", "getReadiness"):
        assert f"'{operation_id}'" in query
    assert "resultCode == '503'" in query


def test_the_5xx_alert_is_a_rate_over_api_requests() -> None:
    query = log_alerts()["http-5xx-rate"]
    assert "sumif(itemCount, toint(resultCode) >= 500)" in query and "sum(itemCount)" in query
    assert "${alertHttp5xxPercent}" in query and "${alertHttp5xxMinimumRequests}" in query
    assert "probeOperationIds" in query
    for operation_id in ("getRootReadiness", "getReadiness", "getHealth"):
        assert operation_id in bicep_vars()["probeOperationIds"]


def test_the_probe_runs_often_enough_for_the_alert_window() -> None:
    from blueprints.jobs import operability

    minutes = int(re.fullmatch(r"0 \*/(\d+) \* \* \* \*", operability.PROBE_SCHEDULE).group(1))
    (rules,) = resources_of("Microsoft.Insights/scheduledQueryRules")
    window = int(re.search(r"windowSize:\s*'PT(\d+)M'", rules["body"]).group(1))
    assert window >= 2 * minutes, "each alert window should see at least two probe runs"


def test_cosmos_throttling_alerts_on_status_429() -> None:
    (alert,) = resources_of("Microsoft.Insights/metricAlerts")
    body = alert["body"]
    assert re.search(r"scopes:\s*\[\s*cosmosAccount\.id\s*\]", body)
    assert "metricName: 'TotalRequests'" in body
    assert re.search(r"name:\s*'StatusCode'\s*operator:\s*'Include'\s*values:\s*\[\s*'429'\s*\]", body)
    assert "actionGroupId: alertActionGroup.id" in body


@pytest.mark.parametrize(
    ("scope", "categories"),
    [
        ("keyVault", {"AuditEvent"}),
        ("cosmosAccount", {"DataPlaneRequests", "ControlPlaneRequests"}),
        ("blobService", set()),
        ("queueService", set()),
        ("storageAccount", set()),
    ],
)
def test_diagnostic_settings_send_logs_to_log_analytics(scope: str, categories: set[str]) -> None:
    settings = [r for r in resources_of("Microsoft.Insights/diagnosticSettings") if f"scope: {scope}\n" in r["body"]]
    assert len(settings) == 1, f"no diagnostic setting for {scope}"
    body = settings[0]["body"]
    assert "workspaceId: logAnalytics.id" in body
    logged = set(re.findall(r"category:\s*'(\w+)'", body + derivation("storageServiceLogs")))
    assert categories <= logged


def test_storage_service_logs_cover_writes_and_deletes() -> None:
    logs = bicep_vars()["storageServiceLogs"]
    assert re.search(r"category:\s*'StorageWrite'\s*enabled:\s*true", logs)
    assert re.search(r"category:\s*'StorageDelete'\s*enabled:\s*true", logs)
    assert re.search(r"category:\s*'StorageRead'\s*enabled:\s*storageReadLogs", logs)


def test_application_insights_has_a_daily_cap_parameter() -> None:
    (plan,) = resources_of("Microsoft.Insights/components/pricingPlans")
    assert re.search(r"cap:\s*appInsightsDailyCapGb\b", plan["body"])
    assert bicep_params()["appInsightsDailyCapGb"] == ("int", True)


# ---------------------------------------------------------------------------------------------
# Resilience: on by default in prod
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "param", ["zoneRedundant", "alwaysReadyHttpInstances", "blobSoftDelete", "cosmosContinuousBackup"]
)
def test_resilience_defaults_follow_the_environment(param: str) -> None:
    default = re.search(rf"^param\s+{param}\s+\w+\s*=\s*(.+)$", bicep(), re.M).group(1)
    assert "appEnv == 'prod'" in default


def test_zone_redundancy_reaches_the_plan_storage_and_cosmos() -> None:
    (plan,) = resources_of("Microsoft.Web/serverfarms")
    assert re.search(r"zoneRedundant:\s*zoneRedundant\b", plan["body"])
    (cosmos,) = resources_of("Microsoft.DocumentDB/databaseAccounts")
    assert re.search(r"isZoneRedundant:\s*zoneRedundant\b", cosmos["body"])
    assert re.search(r"^param storageSku string = zoneRedundant \? 'Standard_ZRS' : 'Standard_LRS'$", bicep(), re.M)


def test_blob_soft_delete_covers_blobs_and_containers() -> None:
    blob_services = [r for r in resources_of("Microsoft.Storage/storageAccounts/blobServices")]
    (service,) = blob_services
    assert "deleteRetentionPolicy: softDeletePolicy" in service["body"]
    assert "containerDeleteRetentionPolicy: softDeletePolicy" in service["body"]
    assert re.search(r"days:\s*blobSoftDeleteDays", bicep_vars()["softDeletePolicy"])


def test_cosmos_continuous_backup_is_only_sent_when_asked_for() -> None:
    backup = bicep_vars()["cosmosBackup"]
    assert backup.startswith("cosmosContinuousBackup ?")
    assert "type: 'Continuous'" in backup and "Periodic" not in backup
    (cosmos,) = resources_of("Microsoft.DocumentDB/databaseAccounts")
    assert "cosmosBackup)" in cosmos["body"]
