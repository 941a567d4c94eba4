"""The one id format every path, query and body id is checked against before any store call.

An id is 1–128 characters of ASCII letters, digits, `_`, `-`, `.` and `:`, starting with a letter or a
digit, with no `..`. That covers every id the API mints (session ids, lead ids, tenant ids, slugs,
tool ids, Clerk ids) and keeps out everything Cosmos forbids in ids (`/`, `\\`, `?`, `#`) and every
traversal trick. A malformed path id is a 404; a malformed query or body id is a 400.
"""

from __future__ import annotations

import re

ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}"
_ID = re.compile(ID_PATTERN)


def is_valid_id(value: object) -> bool:
    """Whether `value` is a well-formed id."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None and ".." not in value


def tenant_prefix(item_id: str) -> str | None:
    """The tenant a '<tenantId>:<rest>' item id names (both parts non-empty), else None."""
    tenant_id, sep, rest = item_id.partition(":")
    return tenant_id if sep and tenant_id and rest else None
