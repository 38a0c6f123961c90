"""Staff sessions for the web pages, on the API's own tokens (no new table).

Signing in issues an ordinary staff token (api/security.py) labelled "staff-web" whose
expiry slides: each request moves it to now + staff_idle_minutes, never past
token_minutes after sign-in. The cookie holds the token (HttpOnly, SameSite=Lax, Secure
when configured). So logout revokes it server-side, and deactivating a user or changing
their role ends their page sessions on the next request, exactly as for API tokens.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.access import PERMISSIONS, Principal, principal_of
from api.db.models import ApiToken, StaffUser, utcnow
from api.db.session import get_db
from api.security import issue_token, lookup_token
from api.settings import get_settings
from api.staff import csrf

COOKIE = "tsunagu_staff"
LABEL = "staff-web"  # marks page-session tokens, whose expiry slides
# The expiry is written when it moves by at least this much: page views in the same minute
# write nothing (SQLite has one writer), and an idle session ends at most this much early.
SLIDE_STEP = timedelta(minutes=1)
# Each role's start page.
LANDING = {
    "body_staff": "/staff/referrals",
    "coordinator": "/staff/cases",
    "outreach": "/staff/outreach",
    "admin": "/staff/figures",
}


class LoginRequired(Exception):
    """No live session: the page answers with a redirect to the login form."""

    def __init__(self, expired: bool) -> None:
        super().__init__("login required")
        self.expired = expired


@dataclass(frozen=True, slots=True)
class StaffSession:
    principal: Principal
    user: StaffUser
    token: ApiToken
    secret: str  # the cookie's value

    @property
    def csrf_token(self) -> str:
        return csrf.token_for(self.secret)

    @property
    def name(self) -> str:
        return self.user.display_name or self.user.username


def idle() -> timedelta:
    return timedelta(minutes=get_settings().staff_idle_minutes)


def start(db: Session, user: StaffUser) -> str:
    """A new page session for this user (the caller commits); returns the cookie value."""
    lifetime = min(idle(), timedelta(minutes=get_settings().token_minutes))
    secret, _ = issue_token(
        db,
        role=user.role,
        municipality=user.municipality,
        user=user,
        lifetime=lifetime,
        label=LABEL,
    )
    return secret


def set_cookie(response: Response, secret: str) -> None:
    response.set_cookie(
        COOKIE,
        secret,
        path="/staff",
        httponly=True,
        samesite="lax",
        secure=get_settings().staff_cookie_secure,
    )


def clear_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/staff", httponly=True, samesite="lax")


def load(request: Request, db: Session) -> StaffSession:
    """The live session of this request, its expiry moved on; else LoginRequired."""
    secret = request.cookies.get(COOKIE)
    if not secret:
        raise LoginRequired(expired=False)
    found = lookup_token(db, secret)
    if found is None or found[1] is None or found[0].label != LABEL:
        raise LoginRequired(expired=True)
    token, user = found
    cap = token.created_at + timedelta(minutes=get_settings().token_minutes)
    slid = min(utcnow() + idle(), cap)
    if slid - token.expires_at >= SLIDE_STEP:
        token.expires_at = slid
        db.commit()
    principal = principal_of(token, user)
    request.state.principal = principal
    return StaffSession(principal=principal, user=user, token=token, secret=secret)


def _allowed(session: StaffSession, permission: str) -> StaffSession:
    if session.principal.role not in PERMISSIONS[permission]:
        raise HTTPException(403, "This page is not for your role.")
    return session


def page(permission: str) -> Callable[..., StaffSession]:
    """Dependency of a page (GET): a live session whose role holds the permission."""

    def dependency(request: Request, db: Annotated[Session, Depends(get_db)]) -> StaffSession:
        return _allowed(load(request, db), permission)

    return dependency


def action(permission: str) -> Callable[..., Coroutine[Any, Any, StaffSession]]:
    """Dependency of a POST: as page(), and the CSRF token must match the session."""

    async def dependency(request: Request, db: Annotated[Session, Depends(get_db)]) -> StaffSession:
        session = await run_in_threadpool(load, request, db)  # DB work off the event loop
        await csrf.check(request, session.secret)
        return _allowed(session, permission)

    return dependency


async def action_any(request: Request, db: Annotated[Session, Depends(get_db)]) -> StaffSession:
    """Dependency of a POST any signed-in role may make (logout): session and CSRF."""
    session = await run_in_threadpool(load, request, db)
    await csrf.check(request, session.secret)
    return session
