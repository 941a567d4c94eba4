"""The role table of docs/ARCHITECTURE.md, generated from the code: `python -m tests.support.roletable --write`."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "ARCHITECTURE.md"
TABLE = re.compile(r"(<!-- role-table:start -->\n)(.*?)(<!-- role-table:end -->)", re.S)


def rows() -> list[str]:
    """One markdown row per routed contract operation, sorted by path then method."""
    import function_app  # noqa: F401  (registers every operation)
    from shared.platform.http.adapter import OPERATION_AUTH
    from shared.platform.http.contract import snake_case
    from tests.support.contract import contract_operations

    routed = [op for op in contract_operations() if snake_case(op.operation_id) in OPERATION_AUTH]
    routed.sort(key=lambda op: (op.template, op.method))
    return [
        f"| {op.operation_id} | {op.method} | {op.template} | {OPERATION_AUTH[snake_case(op.operation_id)].name} |"
        for op in routed
    ]


def render() -> str:
    """The table's markdown."""
    return "\n".join(["| operationId | method | path | auth |", "| --- | --- | --- | --- |", *rows()]) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite the table in docs/ARCHITECTURE.md")
    args = parser.parse_args()
    table = render()
    if not args.write:
        sys.stdout.write(table)
        return 0
    text = DOC.read_text(encoding="utf-8")
    DOC.write_text(TABLE.sub(lambda m: m.group(1) + table + m.group(3), text), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
