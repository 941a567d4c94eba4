"""The infra/ scripts imported as modules, so the tests call their functions instead of running them."""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

INFRA = Path(__file__).resolve().parents[3] / "infra"


@cache
def infra_script(name: str) -> ModuleType:
    """infra/<name>.py, imported once as the module infra_<name>."""
    spec = importlib.util.spec_from_file_location(f"infra_{name}", INFRA / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs, as an ordinary import would be: one module of that name for the whole run.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
