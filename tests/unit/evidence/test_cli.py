"""The offline verifier, run as a compliance user would: a subprocess with only the pack and a key file.

Also runs the OpenSSL steps of docs/EVIDENCE.md as written, as an independent ed25519 verifier.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shared.evidence import bundle as evidence
from shared.evidence import keys
from tests.unit.evidence.conftest import APPROVALS, TOOL_EXECUTIONS, stored_session

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "EVIDENCE.md"
TRANSCRIPT = [
    {"role": "assistant", "text": "¿En qué le puedo ayudar, señora Núñez?", "timestamp": 0},
    {"role": "user", "text": "مجھے ڈاکٹر سے ملاقات چاہیے۔", "timestamp": 3.5},
]


@pytest.fixture
def pack(key: keys.SigningKey) -> dict[str, Any]:
    doc = stored_session(transcript=TRANSCRIPT)
    return evidence.build_pack(doc, key, tool_executions=TOOL_EXECUTIONS, approvals=APPROVALS)


def clean_environment() -> dict[str, str]:
    """No settings, no storage endpoints: the verifier must not need any."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env["PYTHONPATH"] = str(ROOT)
    return env


def run_cli(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shared.evidence", "verify", *args],
        cwd=cwd,
        env=clean_environment(),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def write(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def test_a_valid_pack_with_our_key_exits_0_with_one_line(pack, key, tmp_path: Path) -> None:
    pack_file = write(tmp_path / "pack.json", pack)
    key_file = tmp_path / "tellgence.pem"
    key_file.write_text(key.public_key_pem)
    result = run_cli(str(pack_file), "--public-key", str(key_file), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        f"VALID: pack of session {pack['sessionId']} is signed by Tellgence key {key.public_key_id} and unchanged"
    ]
    assert result.stderr == ""


def test_without_a_key_it_checks_integrity_only_and_says_so(pack, key, tmp_path: Path) -> None:
    result = run_cli(str(write(tmp_path / "pack.json", pack)), cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("VALID (integrity only):")
    assert key.public_key_id in result.stdout and "--public-key" in result.stdout
    assert len(result.stdout.splitlines()) == 1


def test_a_key_file_with_the_retired_and_current_keys_verifies_old_packs(pack, key, other_key, tmp_path: Path):
    key_file = tmp_path / "keys.pem"
    key_file.write_text(other_key.public_key_pem + key.public_key_pem)
    result = run_cli(str(write(tmp_path / "pack.json", pack)), "--public-key", str(key_file), cwd=tmp_path)
    assert result.returncode == 0, result.stdout


def test_one_changed_character_in_the_file_exits_1(pack, key, tmp_path: Path) -> None:
    text = json.dumps(pack, ensure_ascii=False)
    assert text.count("Núñez") == 2  # once in bundle, once in canonicalJson
    tampered = tmp_path / "pack.json"
    tampered.write_text(text.replace("Núñez", "Nuñez", 1), encoding="utf-8")
    key_file = tmp_path / "tellgence.pem"
    key_file.write_text(key.public_key_pem)
    result = run_cli(str(tampered), "--public-key", str(key_file), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("INVALID: the signature does not match the bundle")


def test_swapped_transcript_turns_exit_1(pack, tmp_path: Path) -> None:
    pack["bundle"]["transcript"].reverse()
    result = run_cli(str(write(tmp_path / "pack.json", pack)), cwd=tmp_path)
    assert result.returncode == 1 and result.stdout.startswith("INVALID:")


def test_a_pack_signed_by_another_key_exits_1_naming_the_key(pack, other_key, tmp_path: Path) -> None:
    key_file = tmp_path / "other.pem"
    key_file.write_text(other_key.public_key_pem)
    result = run_cli(str(write(tmp_path / "pack.json", pack)), "--public-key", str(key_file), cwd=tmp_path)
    assert result.returncode == 1
    assert f"signed by key '{pack['signature']['publicKeyId']}'" in result.stdout


@pytest.mark.parametrize(
    ("content", "expected"),
    [("{not json", "INVALID: cannot read the pack"), ("[]", "INVALID: the pack must be a JSON object")],
)
def test_an_unreadable_pack_exits_1(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "pack.json"
    path.write_text(content)
    result = run_cli(str(path), cwd=tmp_path)
    assert result.returncode == 1 and result.stdout.startswith(expected)
    missing = run_cli(str(tmp_path / "missing.json"), cwd=tmp_path)
    assert missing.returncode == 1 and missing.stdout.startswith("INVALID: cannot read the pack")


def test_a_malformed_key_file_exits_1(pack, tmp_path: Path) -> None:
    key_file = tmp_path / "bad.pem"
    key_file.write_text("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    result = run_cli(str(write(tmp_path / "pack.json", pack)), "--public-key", str(key_file), cwd=tmp_path)
    assert result.returncode == 1 and "a given public key is not a well-formed" in result.stdout


def test_the_pack_can_come_from_standard_input(pack, tmp_path: Path) -> None:
    result = run_cli("-", cwd=tmp_path, stdin=json.dumps(pack))
    assert result.returncode == 0 and result.stdout.startswith("VALID")


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "shared.evidence"], cwd=tmp_path, env=clean_environment(), capture_output=True
    )
    assert result.returncode == 2


def test_the_verifier_loads_no_settings_storage_or_network_client(pack, tmp_path: Path) -> None:
    pack_file = write(tmp_path / "pack.json", pack)
    probe = (
        "import sys\n"
        "from shared.evidence.__main__ import run\n"
        f"status = run(['verify', {str(pack_file)!r}])\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('azure', 'httpx', 'pydantic', 'fpdf')\n"
        "    or m in ('shared.platform.settings', 'shared.platform.store', 'socket', 'ssl'))\n"
        "print(status, loaded)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=clean_environment(), capture_output=True, text=True
    )
    assert result.stdout.splitlines()[-1] == "0 []", result.stdout + result.stderr


def openssl_steps() -> str:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(r"<!-- evidence-openssl-steps[^>]*-->\s*```sh\n(.*?)```", text, re.S)
    assert match, "docs/EVIDENCE.md lost its OpenSSL steps"
    return match.group(1)


def openssl_3() -> bool:
    if not shutil.which("openssl") or not shutil.which("jq"):
        return False
    version = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout
    found = re.match(r"OpenSSL (\d+)\.", version)
    return bool(found and int(found.group(1)) >= 3)


@pytest.mark.skipif(not openssl_3(), reason="needs OpenSSL 3 and jq")
def test_the_documented_openssl_steps_verify_a_pack_and_catch_a_changed_byte(pack, key, tmp_path: Path) -> None:
    write(tmp_path / "pack.json", pack)
    (tmp_path / "tellgence-evidence.pem").write_text(key.public_key_pem)
    script = "set -euo pipefail\n" + openssl_steps()
    result = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "Signature Verified Successfully" in lines
    signed = pack["canonicalJson"].encode("utf-8")
    assert (tmp_path / "bundle.json").read_bytes() == signed
    digest = pack["manifest"]["bundleSha256"]
    assert f"{digest}  bundle.json" in lines and lines.count(digest) == 1
    assert lines.count(str(len(signed))) == 2
    assert lines.count(key.public_key_id) == 2

    # One changed character in canonicalJson: OpenSSL refuses it.
    tampered = dict(pack, canonicalJson=pack["canonicalJson"].replace("Núñez", "Nuñez"))
    write(tmp_path / "pack.json", tampered)
    failed = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert failed.returncode != 0
    assert "Signature Verification Failure" in failed.stdout + failed.stderr
