"""Who may do what: authentication and least privilege, enforced in one place.

Every route depends on `require(<permission>)`. The permission table says which roles may
use a route at all; the scope helpers below say which records of theirs a role may see.
Records outside a principal's scope are answered 404, so ids reveal nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from api.audit import Actor
from api.db.models import ApiToken, StaffUser
from api.db.session import get_db
from api.security import lookup_token
from routing_rules.directory import load_municipality

# permission -> roles that hold it. Object scope is applied on top (see below).
PERMISSIONS: dict[str, frozenset[str]] = {
    "consultation.create": frozenset({"bot", "outreach", "coordinator", "body_staff"}),
    "referral.read": frozenset({"coordinator", "body_staff", "admin"}),
    "referral.handle": frozenset({"body_staff"}),  # receive, accept, reject, complete
    "referral.withdraw": frozenset({"coordinator"}),
    "case.read": frozenset({"coordinator", "admin"}),
    "case.write": frozenset({"coordinator"}),
    "alert.read": frozenset({"coordinator"}),
    "handover.request": frozenset({"bot"}),  # a resident asked the bot for a person
    "handover.read": frozenset({"coordinator"}),
    "handover.answer": frozenset({"coordinator"}),
    # Duty staff read a resident's chat and answer it on the resident's channel.
    "conversation.read": frozenset({"coordinator"}),
    "conversation.answer": frozenset({"coordinator"}),
    "contact.write": frozenset({"outreach", "coordinator"}),
    "contact.read": frozenset({"outreach", "coordinator"}),
    "person.read": frozenset({"outreach", "coordinator"}),  # outreach: assigned people only
    "person.assign": frozenset({"coordinator"}),
    "stats.read": frozenset({"coordinator", "admin"}),
    "audit.read": frozenset({"admin"}),
    "users.manage": frozenset({"admin"}),
    "directory.read": frozenset({"admin", "coordinator", "body_staff", "outreach", "bot"}),
    "directory.manage": frozenset({"admin"}),
}

# Admins manage accounts and the directory; they read case content only when they state
# why in this header, and that reason goes into the audit event (break-glass).
ADMIN_PURPOSE_HEADER = "X-Tsunagu-Purpose"


@dataclass(frozen=True, slots=True)
class Principal(Actor):
    username: str | None
    body_id: str | None
    purpose: str | None = None  # an admin's stated reason for reading case content

    @property
    def unit_body_id(self) -> str | None:
        """The body whose disclosures this principal receives (coordinators: 多機関協働)."""
        if self.role == "coordinator" and self.body_id is None and self.municipality:
            return coordinator_body_id(self.municipality)
        return self.body_id


def coordinator_body_id(municipality: str) -> str:
    return next(b.id for b in load_municipality(municipality).bodies if b.kind == "coordinator")


_bearer = HTTPBearer(auto_error=False, description="A token from /api/v1/auth/token")


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def current_principal(
    db: Annotated[Session, Depends(get_db)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    purpose: Annotated[str | None, Header(alias=ADMIN_PURPOSE_HEADER, max_length=200)] = None,
) -> Principal:
    if credentials is None:
        raise _unauthorized("Sign in: a bearer token is required.")
    found = lookup_token(db, credentials.credentials)
    if found is None:
        raise _unauthorized("The token is unknown, expired or revoked.")
    return principal_of(*found, purpose=(purpose or "").strip() or None)


def principal_of(token: ApiToken, user: StaffUser | None, purpose: str | None = None) -> Principal:
    """Who a live token acts for: its user, or the service it was issued to. lookup_token
    has checked that the user's role and municipality are still the token's."""
    return Principal(
        id=user.id if user else f"token:{token.id}",
        role=token.role,
        municipality=token.municipality,
        username=user.username if user else token.label,
        body_id=user.body_id if user else None,
        purpose=purpose,
    )


def require(permission: str):
    """Dependency: the signed-in principal, if their role holds the permission; else 403."""
    roles = PERMISSIONS[permission]

    def dependency(
        request: Request, principal: Annotated[Principal, Depends(current_principal)]
    ) -> Principal:
        if principal.role not in roles:
            raise HTTPException(403, f"The role {principal.role!r} may not do this.")
        request.state.principal = principal
        return principal

    return dependency


def ensure_municipality(principal: Principal, municipality: str) -> None:
    """Cross-municipality access is always refused."""
    if principal.municipality != municipality:
        raise HTTPException(403, "This belongs to another municipality.")


def admin_basis(principal: Principal) -> str | None:
    """An admin reads case content only with a stated purpose (break-glass): the audit
    basis that records it; None for anyone else or without a purpose."""
    if principal.role == "admin" and principal.purpose:
        return f"admin_review: {principal.purpose}"
    return None


def not_found(kind: str) -> HTTPException:
    return HTTPException(404, f"No such {kind}.")
