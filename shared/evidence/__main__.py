"""Offline verifier: `python -m shared.evidence verify pack.json [--public-key key.pem]`.

Needs only the pack and (optionally) a public key file: no network, no database, no settings. Prints one line
and exits 0 when the pack is valid, 1 when it is not (or cannot be read); 2 is a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from shared.evidence.verify import verify_pack

EXIT_VALID, EXIT_INVALID = 0, 1


def _read_pack(path: Path) -> object:
    if str(path) == "-":
        return json.load(sys.stdin)
    with path.open("r", encoding="utf-8") as handle:
        return json.load(handle)


def _split_pems(text: str) -> list[str]:
    """Every PEM block of a key file (one file may list the current and the retired public keys)."""
    marker = "-----END PUBLIC KEY-----"
    return [part.strip() + "\n" + marker + "\n" for part in text.split(marker)[:-1]] or [text]


def run(argv: list[str] | None = None) -> int:
    """Parse arguments, verify, print one line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m shared.evidence", description="Verify Tellgence evidence packs.")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("verify", help="verify a pack (JSON as downloaded from the evidence-packs endpoint)")
    check.add_argument("pack", type=Path, help="the pack JSON file, or - for standard input")
    check.add_argument(
        "--public-key",
        type=Path,
        action="append",
        default=[],
        help="Tellgence's published ed25519 public key PEM (repeatable; a file may hold several keys)",
    )
    args = parser.parse_args(argv)

    try:
        pack = _read_pack(args.pack)
    except (OSError, ValueError, RecursionError) as exc:
        print(f"INVALID: cannot read the pack {args.pack}: {type(exc).__name__}: {exc}"[:400])
        return EXIT_INVALID
    pems: list[str] = []
    for key_file in args.public_key:
        try:
            pems.extend(_split_pems(key_file.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            print(f"INVALID: cannot read the public key {key_file}: {type(exc).__name__}")
            return EXIT_INVALID

    result = verify_pack(pack, pems or None)
    session = pack.get("sessionId") if isinstance(pack, dict) else None
    if not result["valid"]:
        print(f"INVALID: {result['reason']}")
        return EXIT_INVALID
    key_id = result.get("publicKeyId")
    if result.get("keyFromPack"):
        print(
            f"VALID (integrity only): pack of session {session} is intact and signed by the key it embeds, id {key_id};"
            " pass --public-key with Tellgence's published key to prove who signed it"
        )
    else:
        print(f"VALID: pack of session {session} is signed by Tellgence key {key_id} and unchanged")
    return EXIT_VALID


if __name__ == "__main__":
    sys.exit(run())
