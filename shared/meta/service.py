"""Meta: what the API is, which build runs, its contract and its documentation page."""

from __future__ import annotations

import hashlib
import html
import importlib.util
from functools import cache
from pathlib import Path

from shared.platform import clock
from shared.platform.settings import APP_NAME, get_settings

CONTRACT_PATH = Path(__file__).resolve().parent.parent / "openapi.json"
DOCS_PATH = "/api/doc"
OPENAPI_PATH = "/api/openapi.json"

API_LINKS = {
    "health": "/api/health",
    "liveness": "/api/health/live",
    "readiness": "/api/health/ready",
    "docs": DOCS_PATH,
    "openapi": OPENAPI_PATH,
    "buildInfo": "/api/build-info",
}

# The docs page may load nothing from anywhere: its script and styles are inlined and the
# contract is fetched from this origin.
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self' data:; base-uri 'none'; frame-ancestors 'none'"
)


def api_summary() -> dict:
    """The JSON root document: name, version and links to health and docs."""
    return {"name": APP_NAME, "version": get_settings().version, "links": dict(API_LINKS)}


def api_root_html() -> str:
    """The small HTML landing page served to browsers."""
    summary = api_summary()
    items = "".join(
        f'<li><a href="{html.escape(href)}">{html.escape(label)}</a> <code>{html.escape(href)}</code></li>'
        for label, href in summary["links"].items()
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(APP_NAME)}</title>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}"
        "code{color:#555}</style></head><body>"
        f"<h1>{html.escape(APP_NAME)}</h1><p>Version {html.escape(summary['version'])}</p>"
        f"<ul>{items}</ul></body></html>"
    )


def build_info() -> dict:
    """Build and deployment identity from BUILD_ID, DEPLOYMENT_TIME and the version."""
    settings = get_settings()
    info = {
        "buildId": settings.build_id,
        "deploymentTime": settings.deployment_time or _process_start_time(),
        "version": settings.version,
    }
    if settings.commit:
        info["commit"] = settings.commit
    info["environment"] = settings.app_env
    return info


@cache
def _process_start_time() -> str:
    # Without DEPLOYMENT_TIME the best truthful answer is when this process started serving.
    return clock.now_iso()


@cache
def contract_bytes() -> bytes:
    """The contract exactly as shipped (served byte for byte)."""
    return CONTRACT_PATH.read_bytes()


@cache
def contract_etag() -> str:
    """A strong ETag of the contract document."""
    return '"' + hashlib.sha256(contract_bytes()).hexdigest()[:32] + '"'


def _swagger_ui_dir() -> Path:
    spec = importlib.util.find_spec("swagger_ui_bundle")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-bundle-v2 is not installed")
    vendor = Path(next(iter(spec.submodule_search_locations))) / "vendor"
    return sorted(vendor.glob("swagger-ui-*"))[-1]


def _inline_script(source: str) -> str:
    return source.replace("</script", "<\\/script")


@cache
def docs_page() -> tuple[str, str]:
    """The Swagger UI page with its assets inlined, and its ETag."""
    assets = _swagger_ui_dir()
    css = (assets / "swagger-ui.css").read_text(encoding="utf-8").replace("</style", "<\\/style")
    bundle = _inline_script((assets / "swagger-ui-bundle.js").read_text(encoding="utf-8"))
    page = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(APP_NAME)} — API reference</title>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<style>{css}</style><style>body{{margin:0}}</style></head><body>"
        '<div id="swagger-ui"></div>'
        f"<script>{bundle}</script>"
        "<script>window.ui = SwaggerUIBundle({"
        f'url: "{OPENAPI_PATH}", dom_id: "#swagger-ui", deepLinking: true, '
        "persistAuthorization: true, validatorUrl: null, tryItOutEnabled: false"
        "});</script></body></html>"
    )
    etag = '"' + hashlib.sha256(page.encode("utf-8")).hexdigest()[:32] + '"'
    return page, etag
