"""local.settings.json Values applied to the environment as Core Tools does."""

from __future__ import annotations

import json
import os
from pathlib import Path

from devhost.settings_loader import ensure_local_settings, load_local_settings


def write_settings(path: Path, values: dict) -> Path:
    path.write_text(json.dumps({"IsEncrypted": False, "Values": values}), encoding="utf-8")
    return path


def test_values_fill_the_environment_without_overriding_what_is_set(tmp_path: Path):
    settings = write_settings(tmp_path / "local.settings.json", {"APP_ENV": "local", "COSMOS_DATABASE": "tellgence"})
    environ = {"APP_ENV": "test"}
    applied = load_local_settings(settings, environ)
    assert applied == {"COSMOS_DATABASE": "tellgence"}
    assert environ == {"APP_ENV": "test", "COSMOS_DATABASE": "tellgence"}


def test_values_become_strings(tmp_path: Path):
    settings = write_settings(tmp_path / "local.settings.json", {"FLAG": True, "COUNT": 3, "EMPTY": None, "BLANK": ""})
    environ: dict[str, str] = {}
    load_local_settings(settings, environ)
    assert environ == {"FLAG": "true", "COUNT": "3", "EMPTY": "", "BLANK": ""}


def test_os_environ_is_the_default_target(tmp_path: Path, monkeypatch):
    # Recorded first, so monkeypatch removes the variable again whatever the loader did.
    monkeypatch.setenv("DEVHOST_TEST_ONLY_SETTING", "placeholder")
    monkeypatch.delenv("DEVHOST_TEST_ONLY_SETTING")
    settings = write_settings(tmp_path / "local.settings.json", {"DEVHOST_TEST_ONLY_SETTING": "yes"})
    assert load_local_settings(settings) == {"DEVHOST_TEST_ONLY_SETTING": "yes"}
    assert os.environ["DEVHOST_TEST_ONLY_SETTING"] == "yes"


def test_ensure_copies_the_sample_only_when_missing(tmp_path: Path):
    write_settings(tmp_path / "local.settings.sample.json", {"A": "sample"})
    created = ensure_local_settings(tmp_path)
    assert created == tmp_path / "local.settings.json"
    assert json.loads(created.read_text())["Values"] == {"A": "sample"}
    write_settings(created, {"A": "mine"})
    ensure_local_settings(tmp_path)
    assert json.loads(created.read_text())["Values"] == {"A": "mine"}


def test_the_project_sample_loads(tmp_path: Path):
    sample = Path(__file__).resolve().parents[3] / "local.settings.sample.json"
    environ: dict[str, str] = {}
    applied = load_local_settings(sample, environ)
    assert applied["FUNCTIONS_WORKER_RUNTIME"] == "python"
    assert "AzureWebJobsStorage" in environ
