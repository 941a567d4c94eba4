"""Conditional GET: ETag validators and 304 answers for cacheable documents."""

from __future__ import annotations

import hashlib
from typing import Any

from shared.platform.http.request import Reply, Request


def etag_matches(request: Request, etag: str) -> bool:
    """Whether If-None-Match names this ETag (weak comparison, `*` included)."""
    header = request.header("if-none-match")
    if not header:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in candidates or etag.removeprefix("W/") in candidates


def cacheable(
    request: Request, body: Any, *, etag: str, max_age: int, media_type: str | None = None, public: bool = True
) -> Reply:
    """A 200 with ETag and Cache-Control, or a bodiless 304 when the client's copy is current."""
    headers = {"ETag": etag, "Cache-Control": f"{'public' if public else 'private'}, max-age={max_age}"}
    if etag_matches(request, etag):
        return Reply(status=304, headers=headers)
    return Reply(body=body, headers=headers, media_type=media_type)


def cacheable_json(request: Request, body: Any, *, max_age: int, public: bool = True) -> Reply:
    """`cacheable` for a JSON body, its ETag derived from the serialised body."""
    from shared.platform.http.adapter import dump_json

    serialised = dump_json(body)
    etag = '"' + hashlib.sha256(serialised.encode("utf-8")).hexdigest()[:32] + '"'
    return cacheable(
        request, serialised, etag=etag, max_age=max_age, media_type="application/json; charset=utf-8", public=public
    )
