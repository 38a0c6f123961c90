"""The FastAPI application: create_app() builds it, `app` is what uvicorn serves."""

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request

from api import staff
from api.audit import request_id
from api.channels import line, sms, web
from api.errors import error_response, install_error_handlers
from api.routes import (
    alerts,
    audit,
    auth,
    cases,
    consultations,
    contacts,
    conversations,
    handovers,
    persons,
    referrals,
    stats,
    triage,
    users,
)

# A consultation is at most 20,000 characters (4 bytes each at worst in UTF-8, escapes
# aside); a body far larger is refused before it is read, so it cannot tie up a worker.
MAX_BODY_BYTES = 256 * 1024
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    # Each API process runs the channel worker and outbox delivery as its own child process
    # unless switched off (TSUNAGU_CHANNEL_WORKER=false, then run `tsunagu worker` beside it).
    from api.channels import runtime
    from api.settings import get_settings

    stop = runtime.spawn() if get_settings().channel_worker else None
    try:
        yield
    finally:
        if stop is not None:
            stop()


def create_app() -> FastAPI:
    app = FastAPI(
        title="tsunagu",
        summary="Intake and referral routing for 重層的支援体制整備事業",
        version="0.1.0",
        lifespan=lifespan,
    )
    install_error_handlers(app)

    @app.middleware("http")
    async def refuse_oversized_bodies(request: Request, call_next):
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            return error_response(
                413, "payload_too_large", f"Request body over {MAX_BODY_BYTES:,} bytes."
            )
        return await call_next(request)

    @app.middleware("http")
    async def tag_request(request: Request, call_next):
        # The id ties audit events to one request; a proxy's id is kept if it looks sane.
        given = request.headers.get("x-request-id", "")
        rid = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        try:
            response = await call_next(request)
        finally:
            request_id.reset(token)
        response.headers["X-Request-ID"] = rid
        return response

    for router in (
        triage.router,
        auth.router,
        consultations.router,
        referrals.router,
        contacts.router,
        persons.router,
        cases.router,
        cases.consents_router,
        alerts.router,
        handovers.router,
        users.router,
        audit.router,
        stats.router,
        conversations.router,
    ):
        app.include_router(router, prefix="/api/v1")
    for router in (line.router, sms.router, web.router):
        app.include_router(router)

    staff.install(app)  # the staff web pages under /staff

    @app.get("/health", tags=["ops"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


app = create_app()
