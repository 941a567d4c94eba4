"""Build the deployment package: a zip of the project folder without what .funcignore lists.

Run from the project root:

    .venv/bin/python infra/package.py                  # writes .local/tellgence-api.zip
    .venv/bin/python infra/package.py --list           # prints the files it would pack

Core Tools (`func azure functionapp publish`) honours the same .funcignore, so both ways of
publishing ship the same files. The zip holds the sources only: Azure installs requirements.txt
with a remote build (`--build-remote true`).
"""

from __future__ import annotations

import argparse
import os
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pathspec

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / ".local" / "tellgence-api.zip"
# A fixed timestamp keeps the zip identical for identical sources.
ZIP_TIMESTAMP = (2020, 1, 1, 0, 0, 0)


def ignore_spec(root: Path = ROOT) -> pathspec.GitIgnoreSpec:
    """The .funcignore patterns (gitignore syntax, as Core Tools reads them)."""
    import pathspec

    lines = (root / ".funcignore").read_text(encoding="utf-8").splitlines()
    return pathspec.GitIgnoreSpec.from_lines(lines)


def package_files(root: Path = ROOT) -> list[str]:
    """The project-relative POSIX paths of every file the package holds, sorted."""
    spec = ignore_spec(root)
    files: list[str] = []
    for directory, subdirectories, names in os.walk(root):
        relative = Path(directory).relative_to(root)
        # Prune ignored folders before descending (.venv and node_modules are large).
        subdirectories[:] = sorted(
            name for name in subdirectories if not spec.match_file(f"{(relative / name).as_posix()}/")
        )
        for name in names:
            path = (relative / name).as_posix()
            if not spec.match_file(path):
                files.append(path)
    return sorted(files)


def build(output: Path = DEFAULT_OUTPUT, root: Path = ROOT) -> list[str]:
    """Write the zip; returns the paths it holds."""
    files = package_files(root)
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            info = zipfile.ZipInfo(path, date_time=ZIP_TIMESTAMP)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, (root / path).read_bytes())
    return files


def main(argv: Sequence[str] | None = None) -> int:
    """Build the package (or list its files); 0 on success."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the zip")
    parser.add_argument("--list", action="store_true", help="print the files instead of writing the zip")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(package_files()))
        return 0
    files = build(args.output)
    print(f"wrote {args.output} ({len(files)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
