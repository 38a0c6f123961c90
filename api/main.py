"""The FastAPI application: create_app() builds it, `app` is what uvicorn serves."""

from fastapi import FastAPI

from api.errors import install_error_handlers
from api.routes import triage


def create_app() -> FastAPI:
    app = FastAPI(
        title="tsunagu",
        summary="Intake and referral routing for 重層的支援体制整備事業",
        version="0.1.0",
    )
    install_error_handlers(app)
    app.include_router(triage.router, prefix="/api/v1")

    @app.get("/health", tags=["ops"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


app = create_app()
