"""Pilot ids as the contract shows them: `PILOT-` and eight characters of an unambiguous alphabet.

The alphabet (30 symbols) has no 0/O, 1/I/L or U, so an id read aloud or copied from an email survives. Eight
random characters (secrets) give about 6.6e11 ids, so one id says nothing about another. The contract's example
`PILOT-AB12CDEF` uses a 1; ids are only ever minted here, so the narrower alphabet is what is validated.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
ID_LENGTH = 8
PILOT_ID_PATTERN = re.compile(rf"PILOT-[{ALPHABET}]{{{ID_LENGTH}}}")


def new_pilot_id() -> str:
    """A fresh random pilot id."""
    return "PILOT-" + "".join(secrets.choice(ALPHABET) for _ in range(ID_LENGTH))


def is_pilot_id(value: object) -> bool:
    """Whether a value is a well-formed pilot id (checked before any store call)."""
    return isinstance(value, str) and PILOT_ID_PATTERN.fullmatch(value) is not None
