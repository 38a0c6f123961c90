"""Staff accounts of the admin's own town, and the town's bodies (the directory).

Password hashes never leave the server. An admin cannot deactivate or demote themself
here: a town must not lock its last admin out (the command line can still do it).
"""

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import accounts, audit
from api.access import Principal, ensure_municipality, not_found, require
from api.db.models import Body, StaffUser
from api.db.session import get_db
from api.errors import ApiError

router = APIRouter(tags=["accounts"])

Role = Literal["admin", "coordinator", "body_staff", "outreach"]  # api.security.ROLES


class UserOut(BaseModel):
    id: str
    username: str
    display_name: str | None
    role: str
    municipality: str
    body_id: str | None
    active: bool
    created_at: datetime


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(
        min_length=accounts.MIN_PASSWORD_CHARS, max_length=accounts.MAX_PASSWORD_CHARS
    )
    role: Role
    municipality: str | None = Field(default=None, description="The admin's own (default).")
    body_id: str | None = Field(default=None, max_length=64, description="body_staff: required")
    display_name: str | None = Field(default=None, max_length=100)


class UserPatch(BaseModel):
    role: Role | None = None
    body_id: str | None = Field(default=None, max_length=64, description="null: no body")
    active: bool | None = None
    display_name: str | None = Field(default=None, max_length=100)


class BodyRecord(BaseModel):
    id: str
    municipality: str
    name: str
    kind: str
    areas: list[str]
    active: bool


def _out(user: StaffUser) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        municipality=user.municipality,
        body_id=user.body_id,
        active=user.active,
        created_at=user.created_at,
    )


def _api_error(exc: accounts.AccountError) -> ApiError:
    return ApiError(exc.status, exc.code, exc.message)


def _own_user(db: Session, principal: Principal, user_id: str) -> StaffUser:
    user = db.get(StaffUser, user_id)
    if user is None or user.municipality != principal.municipality:
        raise not_found("user")
    return user


def _not_self(principal: Principal, user: StaffUser) -> None:
    if user.id == principal.id:
        raise ApiError(
            409, "own_account", "Admins cannot deactivate or change the role of their own account."
        )


@router.get("/users", response_model=list[UserOut])
def list_users(
    principal: Annotated[Principal, Depends(require("users.manage"))],
    db: Annotated[Session, Depends(get_db)],
    active: Annotated[bool | None, Query(description="Only active (or inactive) users")] = None,
) -> list[UserOut]:
    query = select(StaffUser).where(StaffUser.municipality == principal.municipality)
    if active is not None:
        query = query.where(StaffUser.active == active)
    users = db.scalars(query.order_by(StaffUser.username)).all()
    audit.record(db, principal, "list", "staff_user", basis="users.manage")
    db.commit()
    return [_out(u) for u in users]


@router.post("/users", status_code=201, response_model=UserOut)
def create_user(
    body: UserIn,
    principal: Annotated[Principal, Depends(require("users.manage"))],
    db: Annotated[Session, Depends(get_db)],
) -> UserOut:
    municipality = body.municipality or principal.municipality
    ensure_municipality(principal, municipality)
    try:
        user = accounts.create_user(
            db,
            principal,
            username=body.username,
            password=body.password,
            role=body.role,
            municipality=municipality,
            body_id=body.body_id,
            display_name=body.display_name,
        )
    except accounts.AccountError as exc:
        raise _api_error(exc) from None
    db.commit()
    return _out(user)


@router.patch("/users/{user_id}", response_model=UserOut)
def update_user(
    user_id: str,
    patch: UserPatch,
    principal: Annotated[Principal, Depends(require("users.manage"))],
    db: Annotated[Session, Depends(get_db)],
) -> UserOut:
    """Change role, body, active or display name; a new role ends the old role's tokens."""
    user = _own_user(db, principal, user_id)
    given = patch.model_fields_set
    if (patch.role not in (None, user.role)) or patch.active is False:
        _not_self(principal, user)
    try:
        accounts.update_user(
            db,
            principal,
            user,
            role=patch.role,
            body_id=patch.body_id if "body_id" in given else accounts.KEEP,
            active=patch.active,
            display_name=patch.display_name if "display_name" in given else accounts.KEEP,
        )
    except accounts.AccountError as exc:
        raise _api_error(exc) from None
    db.commit()
    return _out(user)


@router.delete("/users/{user_id}", status_code=204)
def deactivate_user(
    user_id: str,
    principal: Annotated[Principal, Depends(require("users.manage"))],
    db: Annotated[Session, Depends(get_db)],
) -> None:
    """Deactivate the user and revoke their tokens; the record stays for the audit log."""
    user = _own_user(db, principal, user_id)
    _not_self(principal, user)
    accounts.deactivate_user(db, principal, user)
    db.commit()


@router.get("/bodies", response_model=list[BodyRecord])
def list_bodies(
    principal: Annotated[Principal, Depends(require("directory.read"))],
    db: Annotated[Session, Depends(get_db)],
    include_inactive: Annotated[bool, Query(description="Also bodies no longer listed")] = False,
) -> list[BodyRecord]:
    """The consultation bodies of the principal's town (public directory data, not audited)."""
    query = select(Body).where(Body.municipality == principal.municipality)
    if not include_inactive:
        query = query.where(Body.active)
    bodies = db.scalars(query.order_by(Body.id)).all()
    return [
        BodyRecord(
            id=b.id,
            municipality=b.municipality,
            name=b.name,
            kind=b.kind,
            areas=[str(a) for a in b.areas or []],
            active=b.active,
        )
        for b in bodies
    ]
