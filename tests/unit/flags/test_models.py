"""Flag bodies: strict, bounded, refused rather than trimmed."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.flags.models import FlagOverridePatch, FlagPatch


@pytest.mark.parametrize(
    "body",
    [
        {"rolloutPct": 101},
        {"rolloutPct": -1},
        {"rolloutPct": 30.123},
        {"rolloutPct": "30"},
        {"rolloutPct": True},
        {"enabled": "yes"},
        {"enabled": None},
        {"name": "renamed"},
    ],
)
def test_bad_flag_patches_are_refused(body):
    with pytest.raises(ValidationError):
        FlagPatch.model_validate(body)


def test_good_flag_patches():
    assert FlagPatch.model_validate({"rolloutPct": 30.25}).rolloutPct == 30.25
    assert FlagPatch.model_validate({"enabled": False, "rolloutPct": 0}).enabled is False


@pytest.mark.parametrize(
    "body",
    [{}, {"reason": "pilot"}, {"enabled": True, "remove": True}, {"enabled": True, "reason": "x" * 501}, {"remove": 1}],
)
def test_bad_override_patches_are_refused(body):
    with pytest.raises(ValidationError):
        FlagOverridePatch.model_validate(body)


def test_good_override_patches():
    assert FlagOverridePatch.model_validate({"enabled": True, "reason": "pilot"}).enabled is True
    assert FlagOverridePatch.model_validate({"remove": True}).remove is True
