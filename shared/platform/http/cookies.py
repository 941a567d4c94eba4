"""Cookie parsing and Set-Cookie building with safe defaults."""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie


def parse_cookies(header: str | None) -> dict[str, str]:
    """The cookies of a Cookie request header; a malformed header yields what could be parsed."""
    if not header:
        return {}
    jar = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


def build_cookie(
    name: str,
    value: str,
    *,
    max_age: int,
    http_only: bool = True,
    same_site: str = "None",
    secure: bool = True,
    path: str = "/",
) -> str:
    """A Set-Cookie value; SameSite=None requires Secure, which browsers grant to localhost too."""
    parts = [f"{name}={value}", f"Path={path}", f"Max-Age={int(max_age)}", f"SameSite={same_site}"]
    if secure or same_site == "None":
        parts.append("Secure")
    if http_only:
        parts.append("HttpOnly")
    return "; ".join(parts)


def expire_cookie(name: str, *, path: str = "/") -> str:
    """A Set-Cookie value that removes the cookie."""
    return build_cookie(name, "", max_age=0, path=path)
