"""Staff web pages under /staff: server-rendered, Japanese, on the referral service's rules.

install(app) adds the pages, their stylesheet and scripts, and HTML answers for errors on
/staff paths (the API keeps its JSON errors).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.staff import (
    pages_alerts,
    pages_auth,
    pages_cases,
    pages_conversations,
    pages_figures,
    pages_handovers,
    pages_outreach,
    pages_referrals,
)
from api.staff.render import render
from api.staff.session import LoginRequired

STATIC = Path(__file__).parent / "static"

HEADINGS = {
    400: ("入力を確認してください", "送られた内容を読み取れませんでした。"),
    403: ("このページは開けません", "この操作をする権限がないか、画面の有効期限が切れています。"),
    404: ("見つかりません", "このページはないか、あなたの担当ではありません。"),
}


def install(app: FastAPI) -> None:
    router = APIRouter(prefix="/staff", include_in_schema=False)
    for module in (
        pages_auth,
        pages_referrals,
        pages_cases,
        pages_conversations,
        pages_handovers,
        pages_alerts,
        pages_outreach,
        pages_figures,
    ):
        router.include_router(module.router)
    app.mount("/staff/static", StaticFiles(directory=STATIC), name="staff-static")
    app.include_router(router)

    api_http_error = app.exception_handlers[StarletteHTTPException]
    api_validation_error = app.exception_handlers[RequestValidationError]

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        if request.headers.get("content-type", "").startswith("application/json"):
            # The outreach queue's requests: a redirect to the login page would look like
            # success to the script, so it gets a plain 401 and keeps the entry.
            return JSONResponse({"code": "login_required"}, status_code=401)
        target = "/staff/login?expired=1" if exc.expired else "/staff/login"
        if request.method == "GET" and request.url.path.startswith("/staff/"):
            sep = "&" if "?" in target else "?"
            target += f"{sep}next={request.url.path}"
        return RedirectResponse(target, status_code=303)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if not request.url.path.startswith("/staff"):
            return await api_http_error(request, exc)
        heading, text = HEADINGS.get(exc.status_code, ("エラー", "もう一度お試しください。"))
        return render(
            request, "error.html", status_code=exc.status_code, heading=heading, text=text
        )

    async def validation_error(request: Request, exc: Exception) -> Response:
        if not request.url.path.startswith("/staff"):
            return await api_validation_error(request, exc)
        heading, text = HEADINGS[400]
        return render(request, "error.html", status_code=400, heading=heading, text=text)

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
