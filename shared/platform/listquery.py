"""Optional hints of the super-admin lists (filters, page size, a cursor) read from a query string leniently.

The contract gives these list operations no parameters, so nothing about a query string may turn into an
error the contract does not document: a filter is applied literally (a value nothing holds matches
nothing), a page size out of range falls back to its default or is capped, and a cursor is matched as text.
"""

from __future__ import annotations

from collections.abc import Mapping


def text(query: Mapping[str, str], name: str) -> str | None:
    """A filter's value as sent, or None when absent or blank."""
    value = (query.get(name) or "").strip()
    return value or None


def page_size(query: Mapping[str, str], *, default: int, maximum: int) -> int:
    """`limit` as a whole number capped at `maximum`; `default` when absent or not a positive whole number."""
    value = (query.get("limit") or "").strip()
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        return default
    return min(int(value), maximum)
