"""One shape for every 4xx answer: {"code", "message", ...}, never echoing the text.

FastAPI's default validation answer repeats the request body under "input"; a
consultation text is personal data, so these handlers report where and what, not the value.
"""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.schemas import ErrorOut
from routing_rules import UnknownMunicipality, municipality_ids


class ApiError(Exception):
    """An answer to the client that the request cannot be served as sent."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.extra = extra


def error_response(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    body = ErrorOut(code=code, message=message, **extra)
    return JSONResponse(status_code=status, content=body.model_dump(exclude_none=True))


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    response = error_response(exc.status, exc.code, exc.message, **exc.extra)
    response.headers.update(exc.headers or {})
    return response


async def _database_down(_: Request, exc: Exception) -> JSONResponse:
    # Nothing was stored: the client (the bot, a page) must keep the data and retry.
    return error_response(
        503,
        "database_unavailable",
        "The database cannot be reached; nothing was stored. Try again shortly.",
    )


def _where(loc: tuple[Any, ...] | list[Any]) -> str:
    # ("body", "text") -> "text"; the "body" prefix says nothing to a client.
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) or "body"


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    for err in errors:
        if err.get("type") == "json_invalid":
            reason = (err.get("ctx") or {}).get("error", "JSON decode error")
            position = err["loc"][-1] if err.get("loc") else "?"
            return error_response(
                422,
                "malformed_json",
                f"Request body is not valid JSON: {reason} at character {position}.",
            )
    if all(tuple(e.get("loc", ())) == ("body",) for e in errors):
        # No body, a JSON array, or a form or text/plain body instead of a JSON object.
        return error_response(
            422,
            "invalid_request",
            'Request body must be a JSON object like {"text": ..., "municipality": ...}, '
            "sent as application/json.",
        )
    problems = [
        {"field": _where(e.get("loc", ())), "problem": str(e.get("msg", ""))} for e in errors
    ]
    summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
    return error_response(
        422,
        "invalid_request",
        f"Request body does not match the expected schema ({summary}).",
        errors=problems,
    )


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    # FastAPI turns a body it cannot decode into a bare 400; say why.
    if isinstance(exc.__cause__, UnicodeDecodeError):
        return error_response(
            400, "invalid_encoding", "Request body is not valid UTF-8; send UTF-8 encoded JSON."
        )
    code = {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        409: "conflict",
        413: "payload_too_large",
        429: "too_many_requests",
    }.get(exc.status_code, f"http_{exc.status_code}")
    response = error_response(exc.status_code, code, str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _unstorable_value(_: Request, exc: Exception) -> JSONResponse:
    # The database refused a value (PostgreSQL: a NUL character in text, a number out of
    # range). The request is wrong, not the server; nothing was stored.
    return error_response(
        422, "invalid_value", "A value cannot be stored (e.g. a NUL character); nothing was stored."
    )


async def _unknown_municipality(_: Request, exc: Exception) -> JSONResponse:
    # Whichever route names a town the directories do not have (a request's id, or a
    # token's town whose directory was removed since).
    assert isinstance(exc, UnknownMunicipality)
    known = sorted(municipality_ids())
    return error_response(
        404,
        "unknown_municipality",
        f"Unknown municipality {exc.municipality!r}; known ids: {', '.join(known)}.",
        known_municipalities=known,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(DataError, _unstorable_value)
    app.add_exception_handler(UnknownMunicipality, _unknown_municipality)
