"""What the infra/sync_*.py scripts share: deterministic JSON text and the write-or-check command line."""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path


def render(document: dict) -> str:
    """Deterministic text: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_or_check(
    argv: Sequence[str] | None,
    *,
    description: str,
    default_output: Path,
    script: str,
    source: str,
    compared_with: str,
    expected: Callable[[], dict],
    error: type[Exception],
) -> int:
    """Write or check a generated file; 0 when it is (now) current, 1 when --check finds it stale, 2 on `error`."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help=f"exit 1 if the file differs from {compared_with}")
    parser.add_argument("--output", type=Path, default=default_output, help=f"where {default_output.name} lives")
    args = parser.parse_args(argv)

    try:
        wanted = render(expected())
    except error as exc:
        print(exc, file=sys.stderr)
        return 2
    current = args.output.read_text(encoding="utf-8") if args.output.exists() else None

    if args.check:
        if current == wanted:
            print(f"{args.output.name} is up to date with {source}")
            return 0
        diff = difflib.unified_diff(
            (current or "").splitlines(keepends=True),
            wanted.splitlines(keepends=True),
            fromfile=f"{args.output.name} (on disk)" if current is not None else f"{args.output.name} (missing)",
            tofile=f"{args.output.name} (from {source})",
        )
        sys.stdout.writelines(diff)
        print(f"\n{args.output.name} is stale: run `.venv/bin/python infra/{script}` and commit the result.")
        return 1

    if current == wanted:
        print(f"{args.output.name} unchanged")
    else:
        args.output.write_text(wanted, encoding="utf-8")
        print(f"wrote {args.output}")
    return 0
