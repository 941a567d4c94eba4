"""The deployment package: .funcignore is the one list of what stays out, for Core Tools and infra/package.py alike."""

from __future__ import annotations

import zipfile
from pathlib import Path
from types import ModuleType

from tests.unit.infra.scripts import infra_script

ROOT = Path(__file__).resolve().parents[3]
# Everything the Functions host and the worker need; nothing else belongs in the package.
PACKAGE_TOP_LEVEL = {"function_app.py", "host.json", "requirements.txt", "blueprints", "shared"}


def package() -> ModuleType:
    return infra_script("package")


def test_the_package_holds_only_the_app() -> None:
    files = package().package_files()
    top_level = {path.split("/")[0] for path in files}
    assert top_level == PACKAGE_TOP_LEVEL, (
        f"the package would ship {sorted(top_level - PACKAGE_TOP_LEVEL)}: add them to .funcignore "
        "(or, if the app needs them at run time, to PACKAGE_TOP_LEVEL here)"
    )


def test_the_package_holds_what_the_app_needs() -> None:
    files = set(package().package_files())
    for needed in ("function_app.py", "host.json", "requirements.txt", "blueprints/__init__.py", "shared/openapi.json"):
        assert needed in files
    assert "shared/platform/telemetry.py" in files and "blueprints/jobs/operability.py" in files


def test_caches_and_dev_only_files_stay_out() -> None:
    for path in package().package_files():
        parts = path.split("/")
        assert "__pycache__" not in parts and not path.endswith(".pyc"), path
        assert parts[0] not in {"tests", "docs", ".ci", "infra", "devhost", "bench", ".pytest_cache", ".ruff_cache"}


def test_the_zip_is_the_file_list_and_reproducible(tmp_path: Path) -> None:
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"

    files = package().build(first)
    package().build(second)

    with zipfile.ZipFile(first) as archive:
        assert archive.namelist() == files == package().package_files()
    assert first.read_bytes() == second.read_bytes()


def test_the_readme_publishes_with_the_packager_not_a_hand_written_exclude_list() -> None:
    readme = (ROOT / "infra" / "README.md").read_text(encoding="utf-8")
    assert "infra/package.py" in readme
    assert "zip -r" not in readme
