"""Sign in for a bearer token (OAuth2 password form); sign out revokes it at once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import audit
from api.access import Principal, current_principal
from api.db.models import ApiToken, utcnow
from api.db.session import get_db
from api.errors import ApiError
from api.security import SignInRefused, authenticate, issue_token, token_digest

router = APIRouter(prefix="/auth", tags=["auth"])


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int  # seconds
    role: str
    municipality: str


@router.post("/token", response_model=TokenOut)
def sign_in(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    db: Annotated[Session, Depends(get_db)],
) -> TokenOut:
    client = request.client.host if request.client else "unknown"
    try:
        user = authenticate(db, form.username.strip(), form.password, client)
    except SignInRefused as refused:
        if refused.wait:
            raise ApiError(
                429,
                "too_many_attempts",
                f"Too many failed sign-ins; try again in {refused.wait} seconds.",
                headers={"Retry-After": str(refused.wait)},
            ) from None
        raise ApiError(
            401,
            "invalid_credentials",
            "Wrong username or password.",
            headers={"WWW-Authenticate": "Bearer"},
        ) from None
    token, record = issue_token(db, role=user.role, municipality=user.municipality, user=user)
    actor = audit.Actor(user.id, user.role, user.municipality)
    audit.record(db, actor, "sign_in", "staff_user", user.id)
    db.commit()
    return TokenOut(
        access_token=token,
        expires_in=int((record.expires_at - utcnow()).total_seconds()),
        role=user.role,
        municipality=user.municipality,
    )


@router.post("/logout", status_code=204)
def sign_out(
    request: Request,
    principal: Annotated[Principal, Depends(current_principal)],
    db: Annotated[Session, Depends(get_db)],
) -> None:
    token = request.headers["authorization"].partition(" ")[2].strip()
    record = db.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
    if record is not None:
        record.revoked_at = utcnow()
        audit.record(db, principal, "sign_out", "api_token", record.id)
        db.commit()
