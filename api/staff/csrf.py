"""CSRF protection for the staff pages: every POST carries a token another site cannot know.

Signed-in pages: the token is an HMAC of the session's secret (the cookie's token, which
is HttpOnly), so it needs no storage and ends with the session. The login form, before any
session exists, uses a double-submit cookie: a random value in a cookie and in the form.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import HTTPException, Request

FIELD = "csrf_token"  # the hidden form field
HEADER = "X-CSRF-Token"  # the same token for script requests (the outreach queue)
LOGIN_COOKIE = "tsunagu_login_csrf"


def token_for(session_secret: str) -> str:
    return hmac.new(session_secret.encode(), b"tsunagu-staff-csrf", hashlib.sha256).hexdigest()


def matches(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


async def submitted_token(request: Request) -> str | None:
    """The token of a POST: the header (scripts) or the form field (forms)."""
    header = request.headers.get(HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(FIELD)
        return value if isinstance(value, str) else None
    return None


async def check(request: Request, session_secret: str) -> None:
    if not matches(token_for(session_secret), await submitted_token(request)):
        raise HTTPException(403, "CSRF token missing or wrong.")


def new_login_token() -> str:
    return secrets.token_urlsafe(24)
