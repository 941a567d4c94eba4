"""Lead and feedback ids: `LEAD-` / `FB-` plus 8 random characters of an alphabet no one misreads.

The alphabet is the digits 2-9 and the capital letters without I, L and O (31 symbols): no 0/O or 1/I/L pairs
to confuse when an operator reads an id over the phone or types it from a screenshot. 31^8 (about 8.5e11)
ids per prefix. Feedback ids come from `secrets`. A lead's id is derived (SHA-256) from its tenant, its email
key and the lead it follows for that address: every writer that saw the same latest lead derives the same
id, so of two simultaneous first submissions of one address the store creates one lead and the other writer
finds it and merges. Knowing an address and a tenant is enough to compute such an id, which gives nothing
away: a lead is read only with an operator token of its tenant. Uniqueness is the store's job: the creator
writes with create-if-absent.

An id is checked against its pattern before any store call (`is_lead_id`), so a malformed one is a 404
without a round trip. Lower-case input is not accepted: ids are shown and copied in capitals.
"""

from __future__ import annotations

import hashlib
import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
SUFFIX_LENGTH = 8
LEAD_PREFIX = "LEAD-"
FEEDBACK_PREFIX = "FB-"

_SUFFIX = f"[{ALPHABET}]{{{SUFFIX_LENGTH}}}"
LEAD_ID_PATTERN = re.compile(re.escape(LEAD_PREFIX) + _SUFFIX)
FEEDBACK_ID_PATTERN = re.compile(re.escape(FEEDBACK_PREFIX) + _SUFFIX)


def random_suffix() -> str:
    """Eight characters drawn uniformly from ALPHABET with a cryptographic generator."""
    return "".join(secrets.choice(ALPHABET) for _ in range(SUFFIX_LENGTH))


def new_lead_id() -> str:
    """A fresh lead id, e.g. `LEAD-7KQ2MX9D`."""
    return LEAD_PREFIX + random_suffix()


def successor_lead_id(tenant_id: str, email_key: str, previous_lead_id: str | None) -> str:
    """The id of the lead that follows `previous_lead_id` for this address (the address's first: None)."""
    digest = hashlib.sha256("\x1f".join((tenant_id, email_key, previous_lead_id or "")).encode()).digest()
    number = int.from_bytes(digest[:8], "big")
    suffix = []
    for _ in range(SUFFIX_LENGTH):
        number, index = divmod(number, len(ALPHABET))
        suffix.append(ALPHABET[index])
    return LEAD_PREFIX + "".join(suffix)


def new_feedback_id() -> str:
    """A fresh feedback id, e.g. `FB-H4TZ8N2C`."""
    return FEEDBACK_PREFIX + random_suffix()


def is_lead_id(value: object) -> bool:
    """Whether `value` is a well-formed lead id."""
    return isinstance(value, str) and LEAD_ID_PATTERN.fullmatch(value) is not None


def is_feedback_id(value: object) -> bool:
    """Whether `value` is a well-formed feedback id."""
    return isinstance(value, str) and FEEDBACK_ID_PATTERN.fullmatch(value) is not None
