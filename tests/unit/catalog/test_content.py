"""The demo catalog content (shared/catalog/data/*.json) against the contract and against itself.

Every file is plain JSON read here without the serving code, so the content can be checked on its own:
each item validates against the contract schema of the response that serves it, every cross-reference
(tools, voices, personas, beats, workflows, packs) resolves, and the catalog covers every industry.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "shared" / "catalog" / "data"
CONTRACT = ROOT / "shared" / "openapi.json"
FILES = ("voices", "tools", "personas", "scenarios", "verticals")
VERSION = "2026-11-28"

INDUSTRIES = ("insurance", "sales", "healthcare", "legal", "accounting", "banking", "dental", "veterinary")
PACKS = ("accounting", "healthcare", "legal", "insurance", "service", "platform")
REQUIRED_SLUGS = ("insurance-fnol", "healthcare-intake", "pulm-cpap-day7-adherence")
PARAMETERIZATION_KEYS = {"practiceBrand", "specialty", "practiceSize", "stateProfile"}
PRACTICE_SIZES = {"solo", "small_group", "multi_site"}
RUNTIME_KEYS = {
    "instructionsCore",
    "brandLiteral",
    "greeting",
    "personaCoreSummary",
    "integrationHints",
    "tools",
    "workflowProfileId",
    "capabilities",
    "behaviorProfile",
    "temperature",
    "maxOutputTokens",
    "turnDetection",
    "languagePolicy",
    "recommendedLanguages",
    "transcriptionPrompt",
    "voicePipeline",
}
PIPELINE_BY_PROVIDER = {"openai": "azure-openai-realtime", "azure": "azure-voice-live"}


# --------------------------------------------------------------------------- loading


@cache
def _load(name: str) -> dict:
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


def load_catalog() -> dict:
    """A fresh deep copy of every catalog file, keyed by file stem (safe to mutate)."""
    return {name: copy.deepcopy(_load(name)) for name in FILES}


@cache
def _contract() -> dict:
    return json.loads(CONTRACT.read_text(encoding="utf-8"))


def response_schema(path: str, method: str = "get") -> dict:
    return _contract()["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]


def voice_item_schema() -> dict:
    return response_schema("/api/voices")["properties"]["items"]["items"]


def persona_item_schema() -> dict:
    return response_schema("/api/personas")["properties"]["items"]["items"]


def scenario_schema() -> dict:
    return response_schema("/api/scenarios/{slug}")


def pack_item_schema() -> dict:
    return response_schema("/api/cp/verticals/packs")["properties"]["packs"]["items"]


def tool_rule_schema() -> dict:
    return response_schema("/api/cp/tool-policy")["properties"]["rules"]["items"]


def runtime_schema() -> dict:
    return response_schema("/api/personas/{personaId}/runtime")


def public_persona(persona: dict) -> dict:
    """The persona as the list endpoint serves it: the server-only runtime block stripped."""
    return {key: value for key, value in persona.items() if key != "runtime"}


def runtime_payload(persona: dict, tools_by_id: dict) -> dict:
    """The runtime response the serving code builds from a persona (the fields this content supplies)."""
    runtime = persona["runtime"]
    payload = {
        "instructions": runtime["instructionsCore"],
        "temperature": runtime["temperature"],
        "maxOutputTokens": runtime["maxOutputTokens"],
        "defaultVoice": persona["defaultVoice"],
        "behaviorProfile": runtime["behaviorProfile"],
        "turnDetection": runtime["turnDetection"],
        "tools": [
            {"type": "function", "name": tid, **{k: tools_by_id[tid][k] for k in ("description", "parameters")}}
            for tid in runtime["tools"]
            if tid in tools_by_id
        ],
        "capabilities": runtime["capabilities"],
        "workflowProfileId": runtime["workflowProfileId"],
        "contextEnvelope": {
            "schemaVersion": "v1",
            "layers": {
                "globalVoiceContract": "global",
                "personaId": persona["id"],
                "personaCoreSummary": runtime["personaCoreSummary"],
                "integrationHints": runtime["integrationHints"],
            },
        },
        "languagePolicy": runtime["languagePolicy"],
        "recommendedLanguages": runtime["recommendedLanguages"],
        "greetingInstruction": runtime["greeting"],
        "transcriptionPrompt": runtime["transcriptionPrompt"],
        "voicePipeline": runtime["voicePipeline"],
    }
    if runtime["brandLiteral"] is not None:  # the contract has no null: an unbranded persona omits the key
        payload["brandLiteral"] = runtime["brandLiteral"]
    return payload


# --------------------------------------------------------------------------- checkers


def _errors(schema: dict, instance: object, where: str) -> list[str]:
    validator = Draft202012Validator(schema)
    return [
        f"{where}: {'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    ]


def contract_problems(catalog: dict) -> list[str]:
    """Every item checked against the contract schema of the response that serves it."""
    problems: list[str] = []
    voices = catalog["voices"]["voices"]
    tools = catalog["tools"]["tools"]
    personas = catalog["personas"]["personas"]
    tools_by_id = {tool["id"]: tool for tool in tools}
    problems += _errors(
        response_schema("/api/voices"), {"items": voices, "count": len(voices)}, "GET /api/voices response"
    )
    problems += _errors(
        response_schema("/api/personas"),
        {"items": [public_persona(p) for p in personas], "count": len(personas), "version": VERSION},
        "GET /api/personas response",
    )
    for persona in personas:
        problems += _errors(runtime_schema(), runtime_payload(persona, tools_by_id), f"runtime {persona['id']}")
    for scenario in catalog["scenarios"]["scenarios"]:
        problems += _errors(scenario_schema(), scenario, f"scenario {scenario.get('slug')}")
    for pack in catalog["verticals"]["packs"]:
        problems += _errors(pack_item_schema(), pack, f"pack {pack.get('verticalPack')}")
    for tool in tools:
        rule = {
            "toolId": tool["id"],
            "category": tool["category"],
            "description": tool["description"],
            "access": tool["defaultAccess"],
            "hipaaImpact": tool["hipaaImpact"],
            "updatedAt": "2026-11-28T00:00:00Z",
        }
        problems += _errors(tool_rule_schema(), rule, f"tool-policy rule {tool['id']}")
    return problems


def _check_voices(catalog: dict) -> list[str]:
    problems = []
    for voice in catalog["voices"]["voices"]:
        if voice["provider"] == "azure" and not voice["id"].endswith("Neural"):
            problems.append(f"voice {voice['id']}: Azure voice ids end in Neural")
        if voice["provider"] == "openai" and voice["id"] != voice["id"].lower():
            problems.append(f"voice {voice['id']}: OpenAI voice ids are lower case")
    return problems


def _check_tools(catalog: dict) -> list[str]:
    problems = []
    for tool in catalog["tools"]["tools"]:
        where = f"tool {tool['id']}"
        params = tool["parameters"]
        try:
            Draft202012Validator.check_schema(params)
        except Exception as exc:  # SchemaError; anything else is as bad
            problems.append(f"{where}: parameters are not a valid JSON Schema: {exc}")
            continue
        if params.get("type") != "object" or params.get("additionalProperties") is not False:
            problems.append(f"{where}: parameters must be a closed object schema")
        missing = set(params.get("required", [])) - set(params.get("properties", {}))
        if missing:
            problems.append(f"{where}: required names no property: {sorted(missing)}")
        if tool["risk"] not in {"low", "medium", "high"}:
            problems.append(f"{where}: risk {tool['risk']!r}")
        if tool["defaultAccess"] not in {"global", "tenant_optin", "blocked"}:
            problems.append(f"{where}: defaultAccess {tool['defaultAccess']!r}")
        if not isinstance(tool["hipaaImpact"], bool) or not isinstance(tool["requiresApproval"], bool):
            problems.append(f"{where}: hipaaImpact and requiresApproval are booleans")
        if tool["id"] != tool["id"].lower() or " " in tool["id"]:
            problems.append(f"{where}: ids are snake_case function names")
    return problems


def _check_personas(catalog: dict, ids: dict) -> list[str]:
    problems = []
    voices = {v["id"]: v for v in catalog["voices"]["voices"]}
    for persona in catalog["personas"]["personas"]:
        where = f"persona {persona['id']}"
        runtime = persona.get("runtime", {})
        if set(runtime) != RUNTIME_KEYS:
            problems.append(f"{where}: runtime keys differ: {sorted(set(runtime) ^ RUNTIME_KEYS)}")
            continue
        for voice_id in [persona["defaultVoice"], *persona["allowedVoices"]]:
            if voice_id not in voices:
                problems.append(f"{where}: unknown voice {voice_id}")
        if persona["defaultVoice"] not in persona["allowedVoices"]:
            problems.append(f"{where}: defaultVoice not among allowedVoices")
        default_voice = voices.get(persona["defaultVoice"])
        if default_voice:
            expected = PIPELINE_BY_PROVIDER[default_voice["provider"]]
            if runtime["voicePipeline"] != expected:
                problems.append(f"{where}: voicePipeline {runtime['voicePipeline']} but default voice needs {expected}")
            providers = {voices[v]["provider"] for v in persona["allowedVoices"] if v in voices}
            if providers != {default_voice["provider"]}:
                problems.append(f"{where}: allowedVoices mix providers {sorted(providers)}")
        for tool_id in runtime["tools"]:
            if tool_id not in ids["tools"]:
                problems.append(f"{where}: unknown tool {tool_id}")
            elif ids["tools"][tool_id]["defaultAccess"] == "blocked":
                problems.append(f"{where}: blocked tool {tool_id}")
        if not 3 <= len(runtime["tools"]) <= 8:
            problems.append(f"{where}: {len(runtime['tools'])} tools, expected 3-8")
        workflow = ids["workflows"].get(runtime["workflowProfileId"])
        if workflow is None:
            problems.append(f"{where}: unknown workflowProfileId {runtime['workflowProfileId']}")
        else:
            outside = [t for t in runtime["tools"] if t not in workflow["allowedToolIds"]]
            if outside:
                problems.append(f"{where}: tools not allowed by {workflow['workflowId']}: {outside}")
        policy = runtime["languagePolicy"]
        if policy["primary"] not in policy["supported"]:
            problems.append(f"{where}: languagePolicy.supported lacks primary {policy['primary']}")
        if policy["locked"] and not policy.get("lockReason"):
            problems.append(f"{where}: locked languagePolicy without lockReason")
        if set(policy.get("labels", {})) != set(policy["supported"]):
            problems.append(f"{where}: languagePolicy.labels must cover exactly the supported codes")
        if persona.get("locale") != policy["primary"]:
            problems.append(f"{where}: locale {persona.get('locale')} differs from languagePolicy.primary")
        brand = runtime["brandLiteral"]
        if brand is not None:
            for field in ("instructionsCore", "greeting"):
                if brand not in runtime[field]:
                    problems.append(f"{where}: brand literal {brand!r} missing from {field}")
            # A partial mention ("Harborline" for "Harborline Mutual Insurance") would survive a rebrand.
            rest = json.dumps({**runtime, "brandLiteral": None}, ensure_ascii=False).replace(brand, "")
            if brand.split()[0] in rest:
                problems.append(f"{where}: partial mention of brand literal {brand!r}")
        words = len(runtime["instructionsCore"].split())
        if not 120 <= words <= 300:
            problems.append(f"{where}: instructionsCore has {words} words, expected 120-300")
        if not 0.6 <= runtime["temperature"] <= 0.9:
            problems.append(f"{where}: temperature {runtime['temperature']} outside 0.6-0.9")
    return problems


def _check_scenarios(catalog: dict, ids: dict) -> list[str]:
    problems = []
    personas = ids["personas"]
    for scenario in catalog["scenarios"]["scenarios"]:
        slug = scenario.get("slug")
        where = f"scenario {slug}"
        if scenario.get("id") != slug:
            problems.append(f"{where}: id differs from slug")
        tool_names = [tool["name"] for tool in scenario["tools"]]
        beat_ids = [beat["id"] for beat in scenario["scriptedBeats"]]
        if len(set(beat_ids)) != len(beat_ids):
            problems.append(f"{where}: duplicate beat ids")
        if len(set(tool_names)) != len(tool_names):
            problems.append(f"{where}: duplicate tools")
        for tool in scenario["tools"]:
            registered = ids["tools"].get(tool["name"])
            if registered is None:
                problems.append(f"{where}: unknown tool {tool['name']}")
                continue
            if registered["defaultAccess"] == "blocked":
                problems.append(f"{where}: blocked tool {tool['name']}")
            if (
                tool.get("description") != registered["description"]
                or tool.get("parameters") != registered["parameters"]
            ):
                problems.append(f"{where}: tool {tool['name']} differs from the registry entry")
        for tool_name, beat_id in scenario.get("toolBeatMap", {}).items():
            if tool_name not in ids["tools"]:
                problems.append(f"{where}: toolBeatMap names unknown tool {tool_name}")
            elif tool_name not in tool_names:
                problems.append(f"{where}: toolBeatMap names tool {tool_name} the scenario does not expose")
            if beat_id not in beat_ids:
                problems.append(f"{where}: toolBeatMap points {tool_name} at unknown beat {beat_id}")
        if scenario.get("agentVoice") not in ids["voices"]:
            problems.append(f"{where}: unknown agentVoice {scenario.get('agentVoice')}")
        allowed = scenario.get("allowedPersonaIds", [])
        unknown = [pid for pid in allowed if pid not in personas]
        if not allowed or unknown:
            problems.append(f"{where}: allowedPersonaIds empty or unknown: {unknown}")
        for pack in scenario.get("verticalPacks", []):
            if pack not in ids["packs"]:
                problems.append(f"{where}: unknown vertical pack {pack}")
        visibility = scenario.get("visibility")
        if (visibility == "hidden-lab") != (scenario.get("hidden") is True):
            problems.append(f"{where}: hidden must be true exactly for hidden-lab scenarios")
        if visibility == "exception" and not scenario.get("exceptionRationale"):
            problems.append(f"{where}: exception scenario without exceptionRationale")
        if unknown or not allowed:
            continue
        default = personas[allowed[0]]
        if default["domain"] != scenario["industry"]:
            problems.append(f"{where}: default persona {default['id']} is a {default['domain']} persona")
        if scenario.get("agentVoice") not in default["allowedVoices"]:
            problems.append(f"{where}: agentVoice is not a voice of the default persona")
        workflow = ids["workflows"].get(default.get("runtime", {}).get("workflowProfileId"))
        if workflow:
            outside = [t for t in tool_names if t not in workflow["allowedToolIds"]]
            if outside:
                problems.append(f"{where}: tools outside the default persona's workflow: {outside}")
        param = scenario.get("parameterization")
        if param is not None:
            brand = default.get("runtime", {}).get("brandLiteral")
            if set(param) != PARAMETERIZATION_KEYS:
                problems.append(f"{where}: parameterization keys {sorted(param)}")
            if param.get("practiceSize") not in PRACTICE_SIZES:
                problems.append(f"{where}: practiceSize {param.get('practiceSize')!r}")
            state = param.get("stateProfile", "")
            if not (isinstance(state, str) and len(state) == 2 and state.isupper()):
                problems.append(f"{where}: stateProfile {state!r} is not a two-letter state")
            if not brand:
                problems.append(f"{where}: rebranded scenario needs a default persona with a brand literal")
            else:
                if brand == param.get("practiceBrand"):
                    problems.append(f"{where}: practiceBrand equals the persona's brand literal")
                runtime = default["runtime"]
                if brand not in runtime["instructionsCore"] or brand not in runtime["greeting"]:
                    problems.append(f"{where}: brand literal {brand!r} not in the persona's instructions and greeting")
            if scenario.get("companyName") != param.get("practiceBrand"):
                problems.append(f"{where}: companyName should be the practiceBrand")
    return problems


def _check_verticals(catalog: dict, ids: dict) -> list[str]:
    problems = []
    for pack in catalog["verticals"]["packs"]:
        if not 3 <= len(pack["workflows"]) <= 5:
            problems.append(f"pack {pack['verticalPack']}: {len(pack['workflows'])} workflows, expected 3-5")
        if pack["defaultLocale"] not in pack["supportedLocales"]:
            problems.append(f"pack {pack['verticalPack']}: defaultLocale not supported")
        for workflow in pack["workflows"]:
            where = f"workflow {workflow['workflowId']}"
            if workflow["verticalPack"] != pack["verticalPack"]:
                problems.append(f"{where}: verticalPack differs from its pack")
            allowed, blocked = workflow["allowedToolIds"], workflow.get("blockedToolIds", [])
            for tool_id in [*allowed, *blocked]:
                if tool_id not in ids["tools"]:
                    problems.append(f"{where}: unknown tool {tool_id}")
            for tool_id in allowed:
                if ids["tools"].get(tool_id, {}).get("defaultAccess") == "blocked":
                    problems.append(f"{where}: allows blocked tool {tool_id}")
            if set(allowed) & set(blocked):
                problems.append(f"{where}: tools both allowed and blocked: {sorted(set(allowed) & set(blocked))}")
    return problems


def _duplicates(values: list[str]) -> list[str]:
    return sorted(value for value, count in Counter(values).items() if count > 1)


def reference_problems(catalog: dict) -> list[str]:
    """Cross-file references and internal consistency; an empty list means the catalog holds together."""
    voices = catalog["voices"]["voices"]
    tools = catalog["tools"]["tools"]
    personas = catalog["personas"]["personas"]
    scenarios = catalog["scenarios"]["scenarios"]
    packs = catalog["verticals"]["packs"]
    workflows = [wf for pack in packs for wf in pack["workflows"]]
    problems = []
    for label, values in (
        ("voice", [v["id"] for v in voices]),
        ("tool", [t["id"] for t in tools]),
        ("persona", [p["id"] for p in personas]),
        ("scenario", [s.get("slug") for s in scenarios]),
        ("pack", [p["verticalPack"] for p in packs]),
        ("workflow", [w["workflowId"] for w in workflows]),
    ):
        problems += [f"duplicate {label} id {value}" for value in _duplicates(values)]
    ids = {
        "voices": {v["id"]: v for v in voices},
        "tools": {t["id"]: t for t in tools},
        "personas": {p["id"]: p for p in personas},
        "packs": {p["verticalPack"]: p for p in packs},
        "workflows": {w["workflowId"]: w for w in workflows},
    }
    for name in FILES:
        if catalog[name].get("version") != VERSION:
            problems.append(f"{name}.json: version {catalog[name].get('version')!r}")
    problems += _check_voices(catalog)
    problems += _check_tools(catalog)
    problems += _check_personas(catalog, ids)
    problems += _check_scenarios(catalog, ids)
    problems += _check_verticals(catalog, ids)
    return problems


# --------------------------------------------------------------------------- tests


@pytest.fixture
def catalog() -> dict:
    return load_catalog()


def test_every_item_validates_against_the_contract(catalog):
    assert contract_problems(catalog) == []


def test_tool_parameters_are_valid_json_schemas(catalog):
    for tool in catalog["tools"]["tools"]:
        Draft202012Validator.check_schema(tool["parameters"])


def test_every_reference_resolves_and_the_catalog_is_consistent(catalog):
    assert reference_problems(catalog) == []


def test_coverage(catalog):
    scenarios = catalog["scenarios"]["scenarios"]
    personas = catalog["personas"]["personas"]
    tools = catalog["tools"]["tools"]
    by_industry = Counter(s["industry"] for s in scenarios)
    assert len(scenarios) >= 18
    assert {industry: by_industry[industry] for industry in INDUSTRIES if by_industry[industry] < 2} == {}
    assert set(REQUIRED_SLUGS) <= {s["slug"] for s in scenarios}

    assert len(personas) >= 12
    locales = {p["locale"] for p in personas}
    assert {"en-US", "es-MX", "en-IN"} <= locales
    assert locales - {"en-US", "es-MX", "en-IN"}, "at least one more locale"
    assert {p["domain"] for p in personas} >= set(INDUSTRIES)

    assert 35 <= len(tools) <= 50
    access = Counter(t["defaultAccess"] for t in tools)
    assert access["tenant_optin"] >= 2
    assert 1 <= access["blocked"] <= 2
    assert any(t["hipaaImpact"] for t in tools)
    assert any(t["requiresApproval"] for t in tools)

    assert sorted(p["verticalPack"] for p in catalog["verticals"]["packs"]) == sorted(PACKS)


def test_visibility_mix(catalog):
    scenarios = catalog["scenarios"]["scenarios"]
    visibility = Counter(s["visibility"] for s in scenarios)
    assert visibility["exception"] >= 1
    assert visibility["hidden-lab"] >= 1
    assert visibility["core"] + visibility["proof"] > len(scenarios) / 2
    for slug in REQUIRED_SLUGS:
        assert next(s for s in scenarios if s["slug"] == slug)["visibility"] in {"core", "proof"}


def test_rebranded_scenarios(catalog):
    scenarios = {s["slug"]: s for s in catalog["scenarios"]["scenarios"]}
    rebranded = [s for s in scenarios.values() if "parameterization" in s]
    assert len(rebranded) >= 3
    pulm = scenarios["pulm-cpap-day7-adherence"]
    assert pulm["parameterization"]["specialty"].startswith("pulmonology")
    personas = {p["id"]: p for p in catalog["personas"]["personas"]}
    for scenario in rebranded:
        brand = personas[scenario["allowedPersonaIds"][0]]["runtime"]["brandLiteral"]
        assert brand and brand != scenario["parameterization"]["practiceBrand"], scenario["slug"]


CLINICAL_TOOLS = (
    "lookup_patient_record",
    "create_patient_intake",
    "verify_insurance_eligibility",
    "request_prescription_refill",
    "cpap_adherence_check",
    "order_dme_supplies",
    "dental_recall_booking",
    "escalate_clinical_concern",
)
MUTATIONS = (
    "create_fnol_claim",
    "create_patient_intake",
    "schedule_appointment",
    "create_matter_intake",
    "report_lost_card",
    "request_policy_change",
    "dispute_card_transaction",
)


def test_clinical_tools_carry_hipaa_impact_and_mutations_are_not_low_risk(catalog):
    tools = {t["id"]: t for t in catalog["tools"]["tools"]}
    assert [tool_id for tool_id in CLINICAL_TOOLS if not tools[tool_id]["hipaaImpact"]] == []
    assert [tool_id for tool_id in MUTATIONS if tools[tool_id]["risk"] == "low"] == []
    assert all(t["requiresApproval"] for t in tools.values() if t["defaultAccess"] == "blocked")


BREAKAGES = [
    (
        "scenario tool",
        lambda c: c["scenarios"]["scenarios"][0]["tools"][0].update(name="no_such_tool"),
        "unknown tool no_such_tool",
    ),
    (
        "toolBeatMap key",
        lambda c: c["scenarios"]["scenarios"][0]["toolBeatMap"].update(ghost_tool="verify_policy"),
        "toolBeatMap names unknown tool ghost_tool",
    ),
    (
        "toolBeatMap value",
        lambda c: c["scenarios"]["scenarios"][0]["toolBeatMap"].update(lookup_policy="no_such_beat"),
        "unknown beat no_such_beat",
    ),
    (
        "persona runtime tool",
        lambda c: c["personas"]["personas"][0]["runtime"]["tools"].append("ghost_tool"),
        "unknown tool ghost_tool",
    ),
    (
        "persona voice",
        lambda c: c["personas"]["personas"][0]["allowedVoices"].append("xx-XX-NobodyNeural"),
        "unknown voice xx-XX-NobodyNeural",
    ),
    (
        "allowedPersonaIds",
        lambda c: c["scenarios"]["scenarios"][0]["allowedPersonaIds"].append("ghost_persona"),
        "ghost_persona",
    ),
    (
        "agentVoice",
        lambda c: c["scenarios"]["scenarios"][0].update(agentVoice="nobody"),
        "unknown agentVoice nobody",
    ),
    (
        "workflowProfileId",
        lambda c: c["personas"]["personas"][0]["runtime"].update(workflowProfileId="ghost_workflow"),
        "unknown workflowProfileId ghost_workflow",
    ),
    (
        "workflow blocked tool",
        lambda c: c["verticals"]["packs"][0]["workflows"][0]["blockedToolIds"].append("ghost_tool"),
        "unknown tool ghost_tool",
    ),
    (
        "voice pipeline",
        lambda c: c["personas"]["personas"][0]["runtime"].update(voicePipeline="azure-voice-live"),
        "voicePipeline azure-voice-live but default voice needs azure-openai-realtime",
    ),
    (
        "language policy",
        lambda c: c["personas"]["personas"][0]["runtime"]["languagePolicy"].update(supported=["fr-CA"]),
        "languagePolicy.supported lacks primary",
    ),
    (
        "partial brand mention",
        lambda c: c["personas"]["personas"][0]["runtime"].update(personaCoreSummary="Maya works for Harborline."),
        "partial mention of brand literal",
    ),
    (
        "duplicate scenario",
        lambda c: c["scenarios"]["scenarios"].append(copy.deepcopy(c["scenarios"]["scenarios"][0])),
        "duplicate scenario id insurance-fnol",
    ),
]


@pytest.mark.parametrize(("label", "breakage", "expected"), BREAKAGES, ids=[b[0] for b in BREAKAGES])
def test_the_checker_reports_a_broken_reference(catalog, label, breakage, expected):
    assert reference_problems(catalog) == []
    breakage(catalog)
    problems = reference_problems(catalog)
    assert any(expected in problem for problem in problems), (label, problems)


def test_the_checker_reports_a_rebrand_that_loses_its_brand_literal(catalog):
    scenario = next(s for s in catalog["scenarios"]["scenarios"] if s["slug"] == "pulm-cpap-day7-adherence")
    persona = next(p for p in catalog["personas"]["personas"] if p["id"] == scenario["allowedPersonaIds"][0])
    brand = persona["runtime"]["brandLiteral"]
    persona["runtime"]["greeting"] = persona["runtime"]["greeting"].replace(brand, "our clinic")
    problems = reference_problems(catalog)
    assert any("pulm-cpap-day7-adherence" in p and "brand literal" in p for p in problems), problems
    assert any(f"persona {persona['id']}: brand literal" in p for p in problems), problems


def test_the_contract_check_reports_an_invalid_item(catalog):
    catalog["scenarios"]["scenarios"][0]["unexpected"] = True
    catalog["personas"]["personas"][0]["ageBand"] = "teen"
    catalog["verticals"]["packs"][0]["workflows"][0]["riskLevel"] = "extreme"
    problems = contract_problems(catalog)
    assert any("scenario insurance-fnol" in p and "unexpected" in p for p in problems), problems
    assert any("GET /api/personas response" in p and "teen" in p for p in problems), problems
    assert any("pack accounting" in p and "extreme" in p for p in problems), problems
