"""local.settings.json as Core Tools reads it: its Values become environment variables."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import MutableMapping
from pathlib import Path

LOCAL_SETTINGS = "local.settings.json"
SAMPLE_SETTINGS = "local.settings.sample.json"


def ensure_local_settings(root: Path | str) -> Path:
    """Copy local.settings.sample.json to local.settings.json when the latter is missing; return its path."""
    root = Path(root)
    target = root / LOCAL_SETTINGS
    if not target.exists():
        shutil.copyfile(root / SAMPLE_SETTINGS, target)
    return target


def load_local_settings(path: Path | str, environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """Apply the file's Values to the environment without overriding variables already set; return those applied."""
    environ = os.environ if environ is None else environ
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    values = document.get("Values") or {}
    if not isinstance(values, dict):
        raise ValueError(f"{path}: 'Values' must be an object")
    applied: dict[str, str] = {}
    for name, value in values.items():
        if name in environ:
            continue
        text = _as_setting(value)
        environ[name] = text
        applied[name] = text
    return applied


def _as_setting(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)
