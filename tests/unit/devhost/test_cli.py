"""`python -m devhost`: commands, loopback-only serving, emulator ports from the settings."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from devhost.__main__ import COMMANDS, build_parser, emulator_ports, is_loopback_host, run_serve

SAMPLE = Path(__file__).resolve().parents[3] / "local.settings.sample.json"


def test_every_command_has_a_subparser():
    parser = build_parser()
    assert set(COMMANDS) == {"serve", "provision", "dev", "token"}
    args = parser.parse_args(["serve", "--port", "7072"])
    assert (args.command, args.host, args.port) == ("serve", "127.0.0.1", 7072)
    assert parser.parse_args(["dev"]).port == 7071
    assert parser.parse_args(["provision"]).command == "provision"


def test_serve_refuses_a_non_loopback_address(capsys):
    assert run_serve(argparse.Namespace(host="0.0.0.0", port=7071)) == 2
    assert "loopback only" in capsys.readouterr().err


def test_loopback_hosts():
    assert is_loopback_host("127.0.0.1")
    assert is_loopback_host("::1")
    assert is_loopback_host("localhost")
    assert not is_loopback_host("0.0.0.0")
    assert not is_loopback_host("192.168.1.10")
    assert not is_loopback_host("example.com")


def test_emulator_ports_come_from_the_sample_settings():
    values = json.loads(SAMPLE.read_text())["Values"]
    assert emulator_ports(values) == {
        "BlobEndpoint": 10000,
        "QueueEndpoint": 10001,
        "TableEndpoint": 10002,
        "CosmosEndpoint": 8081,
    }


def test_emulator_ports_follow_custom_endpoints_and_default_otherwise():
    environ = {
        "AzureWebJobsStorage": "AccountName=devstoreaccount1;QueueEndpoint=http://127.0.0.1:20001/devstoreaccount1",
        "COSMOS_ENDPOINT": "https://127.0.0.1:28081",
    }
    assert emulator_ports(environ) == {
        "BlobEndpoint": 10000,
        "QueueEndpoint": 20001,
        "TableEndpoint": 10002,
        "CosmosEndpoint": 28081,
    }
    assert emulator_ports({})["CosmosEndpoint"] == 8081


def test_make_dev_creates_the_local_evidence_key_once_and_names_it(tmp_path, monkeypatch):
    from devhost.__main__ import _evidence_signing_key_line
    from shared.evidence import keys
    from shared.platform.lifecycle import reset_process_state

    monkeypatch.setattr(keys, "PROJECT_ROOT", tmp_path)
    monkeypatch.setenv("APP_ENV", "local")
    monkeypatch.setenv("EVIDENCE_SIGNING_KEY", "")
    reset_process_state()
    try:
        line = _evidence_signing_key_line()
        key_file = tmp_path / keys.DEV_KEY_FILE
        assert key_file.exists() and key_file.stat().st_mode & 0o777 == 0o600
        key = keys.signing_key_from_pem(key_file.read_text())
        assert line.startswith(".local/evidence-signing-key.pem (key id ") and key.public_key_id in line
        assert _evidence_signing_key_line() == line  # the same key on the next start

        configured = keys.generate_private_key_pem()
        monkeypatch.setenv("EVIDENCE_SIGNING_KEY", configured)
        reset_process_state()
        assert _evidence_signing_key_line().startswith(
            f"EVIDENCE_SIGNING_KEY (key id {keys.signing_key_from_pem(configured).public_key_id}"
        )
    finally:
        monkeypatch.undo()
        reset_process_state()
