"""Meta: API root, docs, build identity, the contract and CSRF tokens."""

from __future__ import annotations

import azure.functions as func

from shared.meta import service as meta
from shared.platform.http import csrf
from shared.platform.http.adapter import operation
from shared.platform.http.caching import cacheable
from shared.platform.http.request import Reply, Request
from shared.sessions.access import ACCESS_COOKIE

bp = func.Blueprint()

DOCS_MAX_AGE = 300


# The empty route is the site root; in Azure it needs AzureWebJobsDisableHomepage=true
# (see docs/ARCHITECTURE.md).
@operation(bp, "")
def get_api_root(request: Request) -> Reply | dict:
    """HTML for browsers asking for it, else the JSON summary."""
    if request.accepts("text/html"):
        return Reply(meta.api_root_html(), media_type="text/html; charset=utf-8")
    return meta.api_summary()


@operation(bp, "api/doc")
def get_api_docs_ui(request: Request) -> Reply:
    """Swagger UI with every asset inlined: the page requests nothing but the contract."""
    page, etag = meta.docs_page()
    reply = cacheable(request, page, etag=etag, max_age=DOCS_MAX_AGE, media_type="text/html; charset=utf-8")
    reply.headers["Content-Security-Policy"] = meta.DOCS_CONTENT_SECURITY_POLICY
    return reply


@operation(bp, "api/docs")
def redirect_api_docs(request: Request) -> Reply:
    """Redirect the docs entry point to the Swagger UI."""
    return Reply(status=302, headers={"Location": meta.DOCS_PATH})


@operation(bp, "api/docs/ui")
def redirect_api_docs_ui(request: Request) -> Reply:
    """Redirect the docs UI alias to the Swagger UI."""
    return Reply(status=302, headers={"Location": meta.DOCS_PATH})


@operation(bp, "api/build-info")
def get_build_info(request: Request) -> dict:
    """Build and deployment identity."""
    return meta.build_info()


@operation(bp, "api/openapi.json")
def get_open_api_document(request: Request) -> Reply:
    """The contract, byte for byte."""
    return cacheable(
        request,
        meta.contract_bytes(),
        etag=meta.contract_etag(),
        max_age=DOCS_MAX_AGE,
        media_type="application/json; charset=utf-8",
    )


@operation(bp, "api/csrf")
def get_csrf_token(request: Request) -> dict:
    """The CSRF token bound to the caller's session cookie (cookie-authenticated writes must echo it)."""
    return {"csrfToken": csrf.issue_token(request.cookies.get(ACCESS_COOKIE))}
