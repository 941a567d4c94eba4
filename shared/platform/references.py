"""References of the form "module:attribute", imported on first use so a cold start imports none of them."""

from __future__ import annotations

import functools
import importlib
from typing import Any

# A pydantic model given as the class itself or as a "module:Class" reference.
ModelRef = type | str


@functools.cache
def resolve(reference: str) -> Any:
    """The attribute a "module:attribute" reference names (its module imported once, on the first call)."""
    module_name, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def resolve_model(reference: ModelRef) -> Any:
    """The model class a ModelRef stands for."""
    return resolve(reference) if isinstance(reference, str) else reference
