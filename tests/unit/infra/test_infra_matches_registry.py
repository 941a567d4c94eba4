"""infra/ follows shared.platform.store.registry and shared.platform.settings; no key or literal secret reaches Azure.

No network and no Bicep compiler: main.bicep is read as text, which is enough to hold it to the
rules that matter — storage resources only come from infra/storage.json (generated from the
registry), every app setting is one the app or the Functions host reads, and secrets are Key
Vault references.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

from shared.platform.settings import Settings
from shared.platform.store.registry import ContainerSpec
from tests.unit.infra.scripts import infra_script

ROOT = Path(__file__).resolve().parents[3]
INFRA = ROOT / "infra"
BICEP_FILE = INFRA / "main.bicep"
STORAGE_JSON = INFRA / "storage.json"
SECRETS_JSON = INFRA / "secret-settings.json"
PARAMETERS_FILE = INFRA / "main.parameters.json"
SYNC_COMMAND = ".venv/bin/python infra/sync_storage.py"

COSMOS_CONTAINER_TYPE = "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers"
COSMOS_DATABASE_TYPE = "Microsoft.DocumentDB/databaseAccounts/sqlDatabases"
BLOB_CONTAINER_TYPE = "Microsoft.Storage/storageAccounts/blobServices/containers"
QUEUE_TYPE = "Microsoft.Storage/storageAccounts/queueServices/queues"
APP_SETTINGS_TYPE = "Microsoft.Web/sites/config"

# Secrets that Azure gets no value for at all: the managed identity replaces them.
REPLACED_BY_IDENTITY = {
    "COSMOS_KEY": "Cosmos DB is reached with the managed identity (Cosmos DB Built-in Data Contributor)",
    "AzureWebJobsStorage": "host storage uses the identity-based AzureWebJobsStorage__* settings",
}
# Read by azure-identity's DefaultAzureCredential (selects the user-assigned identity), not by Settings.
AZURE_SDK_SETTINGS = {"AZURE_CLIENT_ID"}
# Read by the Functions Python worker: with it, the worker attaches each invocation's trace context.
WORKER_SETTINGS = {"PYTHON_ENABLE_OPENTELEMETRY"}
# App settings Flex Consumption rejects or ignores (runtime and deployment live in functionAppConfig).
FLEX_DEPRECATED_SETTINGS = {
    "FUNCTIONS_EXTENSION_VERSION",
    "FUNCTIONS_WORKER_RUNTIME",
    "FUNCTIONS_WORKER_RUNTIME_VERSION",
    "FUNCTIONS_MAX_HTTP_CONCURRENCY",
    "FUNCTIONS_WORKER_PROCESS_COUNT",
    "WEBSITE_RUN_FROM_PACKAGE",
    "WEBSITE_CONTENTSHARE",
    "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
    "WEBSITE_CONTENTOVERVNET",
    "WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT",
    "SCM_DO_BUILD_DURING_DEPLOYMENT",
    "ENABLE_ORYX_BUILD",
}
# Upper-case tokens in main.bicep that are property values, not app setting names.
NOT_SETTING_NAMES = {"TLS1_2"}
STORAGE_ACCOUNT_CONTRIBUTOR_ROLE = "17d1049b-9a84-46fb-8f53-869881c3d3ab"

ENV_TOKEN = re.compile(r"\b(?:AzureWebJobs\w*|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\b")


def is_secret_name(name: str) -> bool:
    """The naming rule for secret settings, on top of Settings' repr=False fields."""
    upper = name.upper()
    return "SECRET" in upper or "_KEY" in upper or "PASSWORD" in upper or name in secret_env_names()


# ---------------------------------------------------------------------------------------------
# What the app reads: Settings.from_env, probed by infra/sync_settings.py (one variable at a time)
# ---------------------------------------------------------------------------------------------


def settings_sync() -> ModuleType:
    """infra/sync_settings.py, imported as a module."""
    return infra_script("sync_settings")


@cache
def env_names_read_by_app() -> frozenset[str]:
    """Every environment variable Settings.from_env reads."""
    return frozenset(settings_sync().env_names_read())


@cache
def secret_env_names() -> frozenset[str]:
    """Environment variables behind the secret (repr=False) fields of Settings."""
    return frozenset(settings_sync().secret_env_names())


# ---------------------------------------------------------------------------------------------
# main.bicep as text
# ---------------------------------------------------------------------------------------------


def strip_comments(text: str) -> str:
    """Drop // comments, leaving strings (including ''' multi-line strings) intact."""
    out: list[str] = []
    i, n = 0, len(text)
    in_string = in_multiline = False
    while i < n:
        if in_multiline:
            if text.startswith("'''", i):
                in_multiline = False
                out.append("'''")
                i += 3
                continue
        elif in_string:
            if text[i] == "\\" and i + 1 < n:
                out.append(text[i : i + 2])
                i += 2
                continue
            if text[i] == "'":
                in_string = False
        elif text.startswith("'''", i):
            in_multiline = True
            out.append("'''")
            i += 3
            continue
        elif text[i] == "'":
            in_string = True
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


@cache
def bicep() -> str:
    return strip_comments(BICEP_FILE.read_text(encoding="utf-8"))


def balanced_from(text: str, start: int) -> str:
    """The text from `start` up to the end of the bracketed expression that begins there."""
    depth = 0
    for index in range(start, len(text)):
        char = text[index]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return text[start : index + 1]
        elif char == "\n" and depth == 0 and index > start:
            return text[start:index]
    return text[start:]


@cache
def bicep_vars() -> dict[str, str]:
    """var name -> its defining expression (multi-line literals included)."""
    found: dict[str, str] = {}
    for match in re.finditer(r"^var\s+(\w+)\s*=\s*", bicep(), re.M):
        found[match.group(1)] = balanced_from(bicep(), match.end())
    return found


@cache
def bicep_params() -> dict[str, tuple[str, bool]]:
    """param name -> (type, has a default)."""
    return {
        m.group(1): (m.group(2), m.group(3) is not None)
        for m in re.finditer(r"^param\s+(\w+)\s+(\w+)(\s*=.*)?$", bicep(), re.M)
    }


@cache
def bicep_resources() -> list[dict]:
    """Every resource: symbol, type, the loop (variable, iterable) if any, and its body text."""
    resources = []
    header = re.compile(r"^resource\s+(\w+)\s+'([^'@]+)@([^']+)'\s*(?:existing\s*)?=\s*", re.M)
    for match in header.finditer(bicep()):
        body = balanced_from(bicep(), match.end())
        loop = re.match(
            r"\[\s*for\s+\(?\s*(\w+)(?:\s*,\s*\w+)?\s*\)?\s+in\s+(.+?):\s*(?:if\s*\(.*?\)\s*)?\{", body, re.S
        )
        resources.append(
            {
                "symbol": match.group(1),
                "type": match.group(2),
                "api": match.group(3),
                "loop_var": loop.group(1) if loop else None,
                "iterable": loop.group(2).strip() if loop else None,
                "body": body,
            }
        )
    return resources


def resources_of(resource_type: str) -> list[dict]:
    return [r for r in bicep_resources() if r["type"] == resource_type]


@cache
def storage_var() -> str:
    match = re.search(r"^var\s+(\w+)\s*=\s*loadJsonContent\(\s*'storage\.json'\s*\)", bicep(), re.M)
    assert match, "main.bicep must read the storage declarations with `var <name> = loadJsonContent('storage.json')`"
    return match.group(1)


def derivation(expression: str, _seen: frozenset[str] = frozenset()) -> str:
    """The expression with the definitions of every variable it uses, transitively, appended."""
    parts = [expression]
    for name, definition in bicep_vars().items():
        if name not in _seen and re.search(rf"(?<![\w.]){name}\b", expression):
            parts.append(derivation(definition, _seen | {name}))
    return "\n".join(parts)


def derives_from(expression: str, key: str) -> bool:
    """Whether the expression's value comes from <storage.json>.<key>."""
    return re.search(rf"(?<![\w.']){storage_var()}\.{key}\b", derivation(expression)) is not None


@cache
def app_settings_block() -> str:
    blocks = [r["body"] for r in resources_of(APP_SETTINGS_TYPE) if re.search(r"name:\s*'appsettings'", r["body"])]
    assert len(blocks) == 1, "main.bicep should set app settings in exactly one sites/config 'appsettings' resource"
    return blocks[0]


@cache
def fixed_app_settings() -> dict[str, str]:
    """The literal `NAME: value` entries of the appsettings resource."""
    structural = {"parent", "name", "properties", "dependsOn"}
    return {
        m.group(1): m.group(2).strip()
        for m in re.finditer(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.+)$", app_settings_block(), re.M)
        if m.group(1) not in structural
    }


def string_array(var_name: str) -> list[str]:
    definition = bicep_vars().get(var_name)
    assert definition is not None, f"main.bicep has no `var {var_name}`"
    return re.findall(r"'([^']*)'", definition)


@cache
def storage_document() -> dict:
    return json.loads(STORAGE_JSON.read_text(encoding="utf-8"))


@cache
def secrets_document() -> dict:
    return json.loads(SECRETS_JSON.read_text(encoding="utf-8"))


@cache
def parameters() -> dict:
    return json.loads(PARAMETERS_FILE.read_text(encoding="utf-8"))["parameters"]


# ---------------------------------------------------------------------------------------------
# sync_storage.py and storage.json
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sync() -> ModuleType:
    return infra_script("sync_storage")


def test_storage_json_matches_the_registry(sync: ModuleType) -> None:
    wanted = sync.render(sync.expected_document())
    current = STORAGE_JSON.read_text(encoding="utf-8") if STORAGE_JSON.exists() else ""
    assert current == wanted, (
        f"infra/storage.json is stale: shared.platform.store.registry changed. Run `{SYNC_COMMAND}` "
        "from the project root and commit infra/storage.json."
    )


def test_check_mode_exits_1_on_a_stale_file_and_0_on_a_current_one(
    sync: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "storage.json"
    document = sync.expected_document()
    document["containers"] = [*document["containers"], {"name": "typed-by-hand", "partitionKey": "/id"}]
    target.write_text(sync.render(document), encoding="utf-8")

    assert sync.main(["--check", "--output", str(target)]) == 1
    assert "typed-by-hand" in capsys.readouterr().out

    assert sync.main(["--output", str(target)]) == 0
    assert sync.main(["--check", "--output", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == sync.render(sync.expected_document())


def test_check_mode_reports_a_missing_file(sync: ModuleType, tmp_path: Path) -> None:
    assert sync.main(["--check", "--output", str(tmp_path / "absent.json")]) == 1


def test_rendering_is_sorted_and_deterministic(sync: ModuleType) -> None:
    document = sync.build(
        [ContainerSpec("zeta", "/tenantId"), ContainerSpec("alpha", "/id", default_ttl=-1)],
        ["pdfs", "exports"],
        ["reminders", "emails"],
        "tellgence",
    )
    text = sync.render(document)
    assert text.endswith("}\n") and '\n  "' in text
    assert [c["name"] for c in document["containers"]] == ["alpha", "zeta"]
    assert document["containers"][0] == {"name": "alpha", "partitionKey": "/id", "defaultTtl": -1}
    assert document["containers"][1]["defaultTtl"] is None
    assert document["blobContainers"] == ["exports", "pdfs"]
    assert document["queues"] == ["emails", "reminders"]
    assert sync.render(json.loads(text)) == text


@pytest.mark.parametrize(
    ("containers", "blobs", "queues", "problem"),
    [
        ([ContainerSpec("users", "tenantId")], [], [], "partition key"),
        ([ContainerSpec("users", "/tenantId", default_ttl=0)], [], [], "default TTL"),
        ([ContainerSpec("users", "/tenantId"), ContainerSpec("users", "/userId")], [], [], "more than once"),
        ([ContainerSpec("bad/name", "/id")], [], [], "not a valid Cosmos DB id"),
        ([], ["Evidence_Packs"], [], "blob container 'Evidence_Packs'"),
        ([], [], ["emails", "emails"], "more than once"),
        ([], [], ["q" * 60], "poison queue"),
    ],
)
def test_undeployable_declarations_are_refused(
    sync: ModuleType, containers: list, blobs: list, queues: list, problem: str
) -> None:
    with pytest.raises(sync.RegistryError, match=re.escape(problem)):
        sync.build(containers, blobs, queues, "tellgence")


def test_storage_json_keys_are_the_ones_main_bicep_reads(sync: ModuleType) -> None:
    sample = sync.build([ContainerSpec("items", "/id", 60)], ["exports"], ["emails"], "tellgence")
    used_top = set(re.findall(rf"(?<![\w.']){storage_var()}\.(\w+)", bicep()))
    assert used_top, "main.bicep reads nothing from storage.json"
    assert used_top <= set(sample), f"main.bicep reads keys storage.json does not have: {used_top - set(sample)}"
    (loop,) = [r for r in resources_of(COSMOS_CONTAINER_TYPE) if r["iterable"]]
    used_item = set(re.findall(rf"\b{loop['loop_var']}\.(\w+)", loop["body"]))
    item_keys = sorted(sample["containers"][0])
    assert used_item == set(item_keys), (
        f"the Cosmos loop reads {sorted(used_item)}; storage.json items have {item_keys}"
    )


# ---------------------------------------------------------------------------------------------
# Storage resources come only from storage.json
# ---------------------------------------------------------------------------------------------


def test_main_bicep_loads_storage_json() -> None:
    assert storage_var()
    assert STORAGE_JSON.exists(), f"infra/storage.json is missing: run `{SYNC_COMMAND}`"


@pytest.mark.parametrize(
    ("resource_type", "key"),
    [(COSMOS_CONTAINER_TYPE, "containers"), (BLOB_CONTAINER_TYPE, "blobContainers"), (QUEUE_TYPE, "queues")],
)
def test_each_storage_collection_is_a_loop_over_storage_json(resource_type: str, key: str) -> None:
    loops = [r for r in resources_of(resource_type) if r["iterable"] and derives_from(r["iterable"], key)]
    assert loops, f"main.bicep must create its {resource_type} resources with a for-loop over storage.json {key}"


@pytest.mark.parametrize(
    ("resource_type", "key"),
    [(COSMOS_CONTAINER_TYPE, "containers"), (BLOB_CONTAINER_TYPE, "blobContainers"), (QUEUE_TYPE, "queues")],
)
def test_storage_loops_add_no_names_of_their_own(resource_type: str, key: str) -> None:
    for resource in resources_of(resource_type):
        if not resource["iterable"]:
            continue
        literals = set(re.findall(r"'([^']*)'", derivation(resource["iterable"])))
        own = sorted(
            literal
            for literal in literals
            if literal not in {"storage.json", "-poison"} and not re.fullmatch(r"\$\{\s*\w+\s*\}-poison", literal)
        )
        assert not own, (
            f"the {key} loop of main.bicep adds names by hand ({own}): declare them in "
            f"shared/platform/store/registry.py and run `{SYNC_COMMAND}`"
        )


@pytest.mark.parametrize("resource_type", [COSMOS_CONTAINER_TYPE, QUEUE_TYPE])
def test_no_cosmos_container_or_queue_is_typed_by_hand(resource_type: str) -> None:
    for resource in resources_of(resource_type):
        assert resource["iterable"], (
            f"resource {resource['symbol']} ({resource_type}) is declared by hand: add it to "
            f"shared/platform/store/registry.py and run `{SYNC_COMMAND}` instead"
        )


def test_the_only_hand_written_blob_container_is_the_deployment_package() -> None:
    for resource in resources_of(BLOB_CONTAINER_TYPE):
        if resource["iterable"]:
            continue
        assert re.search(r"^\s*name:\s*deploymentContainerName\s*$", resource["body"], re.M), (
            f"blob container {resource['symbol']} is declared by hand: add it to shared/platform/store/registry.py "
            f"and run `{SYNC_COMMAND}` instead"
        )


def test_no_registry_name_is_written_into_main_bicep() -> None:
    document = storage_document()
    names = {c["name"] for c in document["containers"]} | set(document["blobContainers"]) | set(document["queues"])
    names |= {f"{queue}-poison" for queue in document["queues"]}
    literals = set(re.findall(r"'([^'$]*)'", bicep()))
    typed = sorted(names & literals - {"default"})
    assert not typed, f"main.bicep names registry resources by hand ({typed}); they must come from storage.json"


def test_every_queue_gets_its_poison_queue() -> None:
    (queues,) = resources_of(QUEUE_TYPE)
    chain = derivation(queues["iterable"])
    assert re.search(r"'\$\{\s*\w+\s*\}-poison'", chain), (
        "the queue loop must create <queue>-poison for every registry queue "
        "(the host moves messages there after maxDequeueCount)"
    )
    assert derives_from(queues["iterable"], "queues")


def test_the_cosmos_database_and_its_setting_come_from_storage_json() -> None:
    (database,) = resources_of(COSMOS_DATABASE_TYPE)
    name = re.search(r"^\s*name:\s*(.+)$", database["body"], re.M)
    assert name and derives_from(name.group(1), "database")
    assert derives_from(fixed_app_settings()["COSMOS_DATABASE"], "database")
    assert storage_document()["database"] == Settings().cosmos_database


def test_cosmos_containers_carry_partition_key_and_default_ttl() -> None:
    (loop,) = resources_of(COSMOS_CONTAINER_TYPE)
    var = loop["loop_var"]
    assert re.search(rf"paths:\s*\[\s*{var}\.partitionKey\s*\]", loop["body"])
    assert re.search(rf"defaultTtl:\s*{var}\.defaultTtl", loop["body"])


# ---------------------------------------------------------------------------------------------
# App settings: only names the app or the host reads; secrets only as Key Vault references
# ---------------------------------------------------------------------------------------------


def _known_setting(name: str) -> bool:
    return (
        name in env_names_read_by_app()
        or name.startswith(("AzureWebJobs", "FUNCTIONS_", "APPLICATIONINSIGHTS_"))
        or name in AZURE_SDK_SETTINGS
        or name in WORKER_SETTINGS
    )


def test_every_setting_name_in_main_bicep_is_read_by_the_app_or_the_host() -> None:
    referenced = set(ENV_TOKEN.findall(bicep())) - NOT_SETTING_NAMES
    assert "COSMOS_ENDPOINT" in referenced, "the token scan found no app settings at all"
    unknown = sorted(name for name in referenced if not _known_setting(name))
    assert not unknown, (
        f"main.bicep sets {unknown}, which neither Settings.from_env nor the Functions host reads "
        "(add the field to shared/platform/settings.py first, or fix the name)"
    )


def test_the_settings_the_app_needs_in_azure_are_set() -> None:
    required = {
        "AzureWebJobsStorage__accountName",
        "AzureWebJobsStorage__blobServiceUri",
        "AzureWebJobsStorage__queueServiceUri",
        "AzureWebJobsDisableHomepage",
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
        "APP_ENV",
        "COSMOS_ENDPOINT",
        "COSMOS_DATABASE",
        "FRONTEND_URLS",
        "API_PUBLIC_BASE_URL",
        "WEB_PUBLIC_BASE_URL",
        "BUILD_ID",
        "DEPLOYMENT_TIME",
        "GIT_COMMIT",
        "AZURE_OPENAI_ENDPOINT",
        "AZURE_OPENAI_DEPLOYMENT_REALTIME",
        "AZURE_OPENAI_TRANSCRIPTION_MODEL",
    }
    missing = sorted(required - set(fixed_app_settings()))
    assert not missing, f"the appsettings resource lacks {missing}"
    assert fixed_app_settings()["AzureWebJobsDisableHomepage"] == "'true'"
    # A user-assigned identity must be named for the host and for DefaultAzureCredential alike.
    if "'UserAssigned'" in bicep():
        assert fixed_app_settings().get("AzureWebJobsStorage__credential") == "'managedidentity'"
        client_id = fixed_app_settings().get("AzureWebJobsStorage__clientId")
        assert client_id and client_id == fixed_app_settings().get("AZURE_CLIENT_ID")


def test_no_secret_setting_gets_a_literal_value() -> None:
    literal = sorted(name for name in fixed_app_settings() if is_secret_name(name))
    assert not literal, f"{literal} are set directly in the appsettings resource: secrets must be Key Vault references"
    for name in REPLACED_BY_IDENTITY:
        assert name not in fixed_app_settings(), f"{name} must not be set in Azure: {REPLACED_BY_IDENTITY[name]}"
        assert not re.search(rf"\b{name}\b(?!__)", bicep()), f"main.bicep mentions {name}: {REPLACED_BY_IDENTITY[name]}"


def test_secret_settings_are_key_vault_references_only() -> None:
    body = app_settings_block()
    properties = re.search(r"properties:\s*union\((.*)\)\s*dependsOn", body, re.S) or re.search(
        r"properties:\s*union\((.*)", body, re.S
    )
    assert properties, "app settings should be union(extra settings, Key Vault references, fixed settings)"
    sources = re.findall(r"(?<![\w.])(\w+)\s*,", properties.group(1))
    reference_vars = [name for name in sources if "@Microsoft.KeyVault(SecretUri=" in derivation(name)]
    assert reference_vars, "no Key Vault reference settings reach the appsettings resource"
    for name in reference_vars:
        chain = derivation(name)
        assert "secretSettingNames" in chain
        assert re.search(r"'@Microsoft\.KeyVault\(SecretUri=\$\{keyVaultUri\}secrets/", chain)
    assert bicep_vars()["keyVaultUri"].startswith("'https://${keyVaultName}")


def test_the_secret_settings_come_from_secret_settings_json() -> None:
    assert re.search(r"^var\s+secretSettings\s*=\s*loadJsonContent\('secret-settings\.json'\)", bicep(), re.M)
    assert bicep_vars()["secretSettingNames"].strip() == "array(secretSettings.keyVaultSecretSettings)"


def test_every_secret_the_app_reads_is_offered_as_a_key_vault_reference() -> None:
    offered = set(secrets_document()["keyVaultSecretSettings"])
    expected = set(secret_env_names()) - set(REPLACED_BY_IDENTITY)
    assert {"AZURE_OPENAI_API_KEY", "INTERNAL_WORKFLOW_CALLBACK_SECRET", "SMTP_PASSWORD"} <= expected
    assert offered == expected, "infra/secret-settings.json is stale: run `.venv/bin/python infra/sync_settings.py`"
    assert set(secrets_document()["replacedByIdentity"]) == set(REPLACED_BY_IDENTITY)


def test_additional_settings_accept_only_the_documented_optional_names() -> None:
    definition = derivation("extraAppSettings")
    assert "additionalAppSettings" in definition
    assert re.search(
        r"filter\(items\(additionalAppSettings\),\s*setting\s*=>\s*contains\(optionalSettingNames", definition
    )
    optional = set(string_array("optionalSettingNames"))
    assert not optional & secret_env_names(), "a secret can never be an optional plain setting"
    assert not optional & set(fixed_app_settings()), "a setting the template sets is not optional"


def test_no_flex_deprecated_setting_is_used() -> None:
    used = sorted(set(ENV_TOKEN.findall(bicep())) & FLEX_DEPRECATED_SETTINGS)
    assert not used, f"Flex Consumption does not take {used} (runtime and deployment live in functionAppConfig)"
    assert "linuxFxVersion" not in bicep() and "alwaysOn" not in bicep()


def test_no_key_or_connection_string_is_read_from_any_resource() -> None:
    for forbidden in ("listKeys(", "listConnectionStrings(", "primaryMasterKey", "AccountKey=", "InstrumentationKey"):
        assert forbidden not in bicep(), f"main.bicep reads a key ({forbidden}); use the managed identity"


# ---------------------------------------------------------------------------------------------
# Parameters file
# ---------------------------------------------------------------------------------------------


def test_parameters_file_matches_the_declared_parameters() -> None:
    declared = bicep_params()
    unknown = sorted(set(parameters()) - set(declared))
    assert not unknown, f"main.parameters.json sets parameters main.bicep does not declare: {unknown}"
    required = sorted(name for name, (_, has_default) in declared.items() if not has_default)
    missing = sorted(set(required) - set(parameters()))
    assert not missing, f"main.parameters.json lacks required parameters {missing}"
    python_types = {"string": str, "int": int, "bool": bool, "array": list, "object": dict}
    for name, entry in parameters().items():
        assert isinstance(entry["value"], python_types[declared[name][0]]), f"parameter {name} has the wrong type"
    assert parameters()["appEnv"]["value"] in {"dev", "staging", "prod"}


def test_parameters_file_holds_no_secret() -> None:
    extra = parameters().get("additionalAppSettings", {}).get("value", {})
    secret = sorted(name for name in extra if is_secret_name(name))
    assert not secret, f"additionalAppSettings must not carry secrets ({secret}): use keyVaultSecretSettings"
    unknown = sorted(name for name in extra if not _known_setting(name))
    assert not unknown, f"additionalAppSettings sets {unknown}, which the app does not read"
    enabled = parameters().get("keyVaultSecretSettings", {}).get("value", [])
    assert set(enabled) <= set(secrets_document()["keyVaultSecretSettings"])
    assert set(extra) <= set(string_array("optionalSettingNames")), "additionalAppSettings only takes optional names"


# ---------------------------------------------------------------------------------------------
# Hosting and security posture
# ---------------------------------------------------------------------------------------------


def _has(pattern: str) -> bool:
    return re.search(pattern, bicep(), re.S) is not None


def test_flex_consumption_hosting() -> None:
    assert _has(r"sku:\s*\{\s*name:\s*'FC1'\s*tier:\s*'FlexConsumption'\s*\}")
    (site,) = resources_of("Microsoft.Web/sites")
    assert site["api"] >= "2023-12-01", "functionAppConfig needs Microsoft.Web 2023-12-01 or later"
    body = site["body"]
    assert re.search(r"runtime:\s*\{\s*name:\s*'python'\s*version:\s*'3\.11'\s*\}", body)
    assert re.search(r"instanceMemoryMB:\s*2048\b", body)
    assert (
        re.search(r"maximumInstanceCount:\s*maximumInstanceCount\b", body) and "maximumInstanceCount" in bicep_params()
    )
    assert re.search(r"type:\s*'blobContainer'", body)
    assert re.search(r"authentication:\s*\{\s*type:\s*'(?:User|System)AssignedIdentity'", body)
    assert re.search(r"httpsOnly:\s*true", body)
    assert re.search(r"minTlsVersion:\s*'1\.2'", body)
    assert re.search(r"cors:\s*\{\s*allowedOrigins:\s*frontendUrls\s*supportCredentials:\s*true\s*\}", body)
    assert fixed_app_settings()["FRONTEND_URLS"] == "join(frontendUrls, ',')"


def test_storage_account_is_identity_only() -> None:
    (account,) = resources_of("Microsoft.Storage/storageAccounts")
    for rule in (
        r"allowSharedKeyAccess:\s*false",
        r"allowBlobPublicAccess:\s*false",
        r"minimumTlsVersion:\s*'TLS1_2'",
        r"supportsHttpsTrafficOnly:\s*true",
    ):
        assert re.search(rule, account["body"]), rule
    for container in resources_of(BLOB_CONTAINER_TYPE):
        assert re.search(r"publicAccess:\s*'None'", container["body"])


def test_cosmos_is_serverless_and_entra_only() -> None:
    (account,) = resources_of("Microsoft.DocumentDB/databaseAccounts")
    assert re.search(r"name:\s*'EnableServerless'", account["body"])
    assert re.search(r"disableLocalAuth:\s*true", account["body"])
    (assignment,) = resources_of("Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments")
    assert "sqlRoleDefinitions/${cosmosDataContributorRoleId}" in assignment["body"]
    assert bicep_vars()["cosmosDataContributorRoleId"] == "'00000000-0000-0000-0000-000000000002'"


def test_key_vault_uses_rbac_and_the_app_can_read_secrets() -> None:
    (vault,) = resources_of("Microsoft.KeyVault/vaults")
    assert re.search(r"enableRbacAuthorization:\s*true", vault["body"])
    assert re.search(r"keyVaultReferenceIdentity:\s*appIdentity\.id", bicep()) or "'SystemAssigned'" in bicep()


def test_the_app_identity_gets_exactly_the_data_roles_it_needs() -> None:
    assignments = "\n".join(r["body"] for r in resources_of("Microsoft.Authorization/roleAssignments"))
    chain = derivation(assignments)
    for role, role_id in {
        "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
        "Storage Queue Data Contributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
        "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    }.items():
        assert role_id in chain, f"the app identity lacks {role}"
    assert STORAGE_ACCOUNT_CONTRIBUTOR_ROLE not in bicep(), "Storage Account Contributor is not needed: do not grant it"


def test_get_root_is_served_by_the_app() -> None:
    host = json.loads((ROOT / "host.json").read_text(encoding="utf-8"))
    assert host["extensions"]["http"]["routePrefix"] == "", 'GET / needs routePrefix "" (see infra/README.md)'
    assert fixed_app_settings()["AzureWebJobsDisableHomepage"] == "'true'"
