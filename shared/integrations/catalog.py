"""The integration provider catalog: versioned data in data/providers.json, loaded and checked once per process.

A provider has an id, a kind (ehr, calendar, webhook, erp, telephony, crm), a tier (demo / real / both),
the client that speaks its protocol, its auth kind with typed config fields (some secret), and its actions,
each with a JSON-Schema input. `public_providers()` is exactly the contract's provider object
(GET /api/cp/integrations); the field types, conditions and client names stay server-side.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from shared.platform.errors import NotFound

DATA_FILE = Path(__file__).resolve().parent / "data" / "providers.json"

TIERS = ("demo", "real", "both")
CONNECTOR_KINDS = ("ehr", "calendar", "webhook", "erp", "telephony")
PROVIDER_KINDS = (*CONNECTOR_KINDS, "crm")
CLIENTS = ("fhir", "graph", "webhook", "twilio", "acs", "erp", "demo")
FIELD_TYPES = ("string", "url", "enum", "phone", "base64", "rsa_private_key")
FIELD_KEYS = frozenset(
    {
        "key",
        "label",
        "type",
        "secret",
        "required",
        "requiredWhen",
        "usedWhen",
        "requiredWithout",
        "description",
        "enum",
        "pattern",
        "default",
        "minLength",
        "maxLength",
    }
)
DEFAULT_MAX_LENGTH = 2048


@dataclass(frozen=True)
class ConfigField:
    """One configuration field of a provider."""

    key: str
    label: str
    type: str = "string"
    secret: bool = False
    required: bool = False
    required_when: tuple[tuple[str, str], ...] = ()
    used_when: tuple[tuple[str, str], ...] = ()
    required_without: str | None = None
    description: str = ""
    enum: tuple[str, ...] = ()
    pattern: str | None = None
    default: str | None = None
    min_length: int = 0
    max_length: int = DEFAULT_MAX_LENGTH

    def applies(self, config: dict[str, Any]) -> bool:
        """Whether the field means anything under this config (its usedWhen / requiredWhen conditions hold)."""
        conditions = self.used_when or self.required_when
        return all(config.get(name) == value for name, value in conditions)

    def public(self) -> dict[str, Any]:
        """The contract's auth field: key, label, secret, description."""
        return {"key": self.key, "label": self.label, "secret": self.secret, "description": self.description}


@dataclass(frozen=True)
class Action:
    """One action a provider can run, with the JSON Schema its params must satisfy."""

    id: str
    label: str
    description: str
    input_schema: dict[str, Any] = field(hash=False, compare=False)

    def public(self) -> dict[str, Any]:
        """The contract's action object."""
        return {"id": self.id, "label": self.label, "description": self.description, "inputSchema": self.input_schema}


@dataclass(frozen=True)
class Provider:
    """A catalog provider."""

    id: str
    name: str
    kind: str
    tier: str
    client: str
    description: str
    auth_kind: str
    fields: tuple[ConfigField, ...]
    actions: tuple[Action, ...]

    @property
    def secret_keys(self) -> tuple[str, ...]:
        """The config fields stored encrypted and never returned."""
        return tuple(f.key for f in self.fields if f.secret)

    @property
    def is_demo(self) -> bool:
        """Whether the provider only simulates a system (tier demo)."""
        return self.tier == "demo"

    def field(self, key: str) -> ConfigField | None:
        """The config field with this key, if any."""
        return next((f for f in self.fields if f.key == key), None)

    def action(self, action_id: str) -> Action:
        """The action with this id; NotFound otherwise."""
        for action in self.actions:
            if action.id == action_id:
                return action
        raise NotFound(f"Provider {self.id} has no action {action_id}", code="action_not_found")

    def public(self) -> dict[str, Any]:
        """The contract's provider object (GET /api/cp/integrations)."""
        return {
            "id": self.id,
            "name": self.name,
            "tier": self.tier,
            "description": self.description,
            "auth": {"kind": self.auth_kind, "fields": [f.public() for f in self.fields]},
            "actions": [a.public() for a in self.actions],
        }


def _conditions(raw: Any, where: str) -> tuple[tuple[str, str], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise ValueError(f"{where}: conditions must map field keys to values")
    return tuple(sorted(raw.items()))


def _field(raw: dict[str, Any], where: str) -> ConfigField:
    unknown = set(raw) - FIELD_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    kind = raw.get("type", "string")
    if kind not in FIELD_TYPES:
        raise ValueError(f"{where}: unknown type {kind!r}")
    if kind == "enum" and not raw.get("enum"):
        raise ValueError(f"{where}: an enum field lists its values")
    if raw.get("secret") and raw.get("default") is not None:
        raise ValueError(f"{where}: a secret field has no default")
    return ConfigField(
        key=raw["key"],
        label=raw["label"],
        type=kind,
        secret=bool(raw.get("secret", False)),
        required=bool(raw.get("required", False)),
        required_when=_conditions(raw.get("requiredWhen"), where),
        used_when=_conditions(raw.get("usedWhen"), where),
        required_without=raw.get("requiredWithout"),
        description=raw.get("description", ""),
        enum=tuple(raw.get("enum", ())),
        pattern=raw.get("pattern"),
        default=raw.get("default"),
        min_length=int(raw.get("minLength", 0)),
        max_length=int(raw.get("maxLength", DEFAULT_MAX_LENGTH)),
    )


def _provider(raw: dict[str, Any], schemas: dict[str, Any]) -> Provider:
    where = f"provider {raw.get('id')!r}"
    if raw.get("tier") not in TIERS:
        raise ValueError(f"{where}: tier must be one of {TIERS}")
    if raw.get("kind") not in PROVIDER_KINDS:
        raise ValueError(f"{where}: kind must be one of {PROVIDER_KINDS}")
    if raw.get("client") not in CLIENTS:
        raise ValueError(f"{where}: client must be one of {CLIENTS}")
    if (raw["client"] == "demo") != (raw["tier"] == "demo"):
        raise ValueError(f"{where}: demo-tier providers, and only they, use the demo client")
    fields = tuple(_field(f, f"{where} field {f.get('key')!r}") for f in raw["auth"]["fields"])
    keys = [f.key for f in fields]
    if len(set(keys)) != len(keys):
        raise ValueError(f"{where}: duplicate field keys")
    for f in fields:
        for name, _ in (*f.required_when, *f.used_when):
            if name not in keys:
                raise ValueError(f"{where} field {f.key!r}: condition on unknown field {name!r}")
        if f.required_without and f.required_without not in keys:
            raise ValueError(f"{where} field {f.key!r}: requiredWithout names unknown field")
    actions = []
    for action in raw["actions"]:
        schema_name = action["schema"]
        if schema_name not in schemas:
            raise ValueError(f"{where} action {action['id']!r}: unknown schema {schema_name!r}")
        actions.append(Action(action["id"], action["label"], action["description"], schemas[schema_name]))
    if len({a.id for a in actions}) != len(actions):
        raise ValueError(f"{where}: duplicate action ids")
    return Provider(
        id=raw["id"],
        name=raw["name"],
        kind=raw["kind"],
        tier=raw["tier"],
        client=raw["client"],
        description=raw["description"],
        auth_kind=raw["auth"]["kind"],
        fields=fields,
        actions=tuple(actions),
    )


@cache
def _document() -> dict[str, Any]:
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


def version() -> str:
    """The catalog's version stamp."""
    return str(_document()["version"])


@cache
def providers() -> dict[str, Provider]:
    """Every provider by id, in catalog order (checked on first load; a malformed file raises ValueError)."""
    document = _document()
    loaded: dict[str, Provider] = {}
    for raw in document["providers"]:
        provider = _provider(raw, document["schemas"])
        if provider.id in loaded:
            raise ValueError(f"provider {provider.id!r} appears twice")
        loaded[provider.id] = provider
    return loaded


def provider(provider_id: str) -> Provider:
    """The provider with this id; NotFound otherwise."""
    found = providers().get(provider_id)
    if found is None:
        raise NotFound(f"Unknown integration provider {provider_id}", code="provider_not_found")
    return found


def providers_for_kind(kind: str) -> tuple[Provider, ...]:
    """The providers a practice connector of this kind may use."""
    return tuple(p for p in providers().values() if p.kind == kind)


@cache
def public_providers() -> tuple[dict[str, Any], ...]:
    """Every provider as the contract's provider object, in catalog order."""
    return tuple(p.public() for p in providers().values())


def registry_counts() -> dict[str, int]:
    """releaseSafety.registry: how many providers of each tier the catalog holds."""
    tiers = [p.tier for p in providers().values()]
    return {
        "totalProviders": len(tiers),
        "demoProviders": tiers.count("demo"),
        "realProviders": tiers.count("real"),
        "dualModeProviders": tiers.count("both"),
    }
