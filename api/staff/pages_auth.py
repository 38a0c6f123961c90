"""Login, logout and each role's start page.

Sign-in follows POST /api/v1/auth/token: the same Argon2 check, the same throttling of
failed attempts per username and per client, the same audit events.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from api import audit
from api.db.models import utcnow
from api.db.session import get_db
from api.security import SignInRefused, authenticate
from api.settings import get_settings
from api.staff import csrf, session
from api.staff.render import render
from api.staff.session import LANDING, LoginRequired, StaffSession

router = APIRouter()
Db = Annotated[Session, Depends(get_db)]


def _safe_next(path: str | None) -> str | None:
    """Only a page of ours: never another site (//host, scheme:)."""
    if path and path.startswith("/staff/") and not path.startswith("//") and "\\" not in path:
        return path
    return None


def _login_page(
    request: Request,
    *,
    status_code: int = 200,
    message: str | None = None,
    username: str = "",
    next_path: str | None = None,
    expired: bool = False,
) -> HTMLResponse:
    token = csrf.new_login_token()
    response = render(
        request,
        "login.html",
        status_code=status_code,
        login_token=token,
        message=message,
        username=username,
        next_path=next_path or "",
        expired=expired,
    )
    response.set_cookie(
        csrf.LOGIN_COOKIE,
        token,
        path="/staff",
        httponly=True,
        samesite="lax",
        secure=get_settings().staff_cookie_secure,
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None, expired: bool = False) -> Response:
    return _login_page(request, next_path=_safe_next(next), expired=expired)


@router.post("/login")
def login(
    request: Request,
    db: Db,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    if not csrf.matches(request.cookies.get(csrf.LOGIN_COOKIE, ""), csrf_token):
        return _login_page(
            request, status_code=403, message="もう一度ログインしてください（画面の有効期限切れ）。"
        )
    client = request.client.host if request.client else "unknown"
    username = username.strip()
    try:
        user = authenticate(db, username, password, client)
    except SignInRefused as refused:
        if refused.wait:
            message = f"ログインの失敗が続いたため、{refused.wait}秒後にもう一度お試しください。"
            return _login_page(request, status_code=429, message=message, username=username)
        message = "ユーザー名またはパスワードが違います。"
        return _login_page(request, status_code=401, message=message, username=username)
    secret = session.start(db, user)
    actor = audit.Actor(user.id, user.role, user.municipality)
    audit.record(db, actor, "sign_in", "staff_user", user.id, basis=session.LABEL)
    db.commit()
    target = _safe_next(next) or LANDING.get(user.role, "/staff")
    response = RedirectResponse(target, status_code=303)
    session.set_cookie(response, secret)
    response.delete_cookie(csrf.LOGIN_COOKIE, path="/staff")
    return response


@router.post("/logout")
def logout(staff: Annotated[StaffSession, Depends(session.action_any)], db: Db) -> Response:
    """Ends the session server-side: the token is revoked, the cookie is worthless."""
    staff.token.revoked_at = utcnow()
    audit.record(db, staff.principal, "sign_out", "api_token", staff.token.id)
    db.commit()
    response = RedirectResponse("/staff/login", status_code=303)
    session.clear_cookie(response)
    return response


@router.get("/")  # GET /staff redirects here (Starlette adds the slash)
def start_page(request: Request, db: Db) -> Response:
    """Each role's start page; the login form when nobody is signed in."""
    try:
        staff = session.load(request, db)
    except LoginRequired:
        return RedirectResponse("/staff/login", status_code=303)
    return RedirectResponse(LANDING.get(staff.principal.role, "/staff/login"), status_code=303)
