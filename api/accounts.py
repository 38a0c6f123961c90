"""Staff accounts and service tokens: the rules shared by the command line and the admin API.

Every change is audited in the caller's transaction; the caller commits. A deactivated
user or a changed role loses its tokens at once (they are revoked, and lookup_token
refuses a token whose role no longer matches its user's).
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api import audit
from api.db.models import ApiToken, Body, StaffUser, utcnow
from api.security import ROLES, SERVICE_ROLES, hash_password, issue_token, revoke_user_tokens
from routing_rules.directory import municipality_ids

MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024  # Argon2 takes any length; this only bounds the work per sign-in
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
# Roles that belong to a body: body staff must have one; outreach workers may.
BODY_ROLES = ("body_staff", "outreach")


class AccountError(Exception):
    """A request about accounts that cannot be done as asked; status is the HTTP answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def check_municipality(municipality: str) -> None:
    if municipality not in municipality_ids():
        known = ", ".join(sorted(municipality_ids()))
        raise AccountError(
            422, "unknown_municipality", f"Unknown municipality {municipality!r}; known: {known}."
        )


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(
            422,
            "password_too_short",
            f"The password needs {MIN_PASSWORD_CHARS} characters or more.",
        )
    if len(password) > MAX_PASSWORD_CHARS:
        raise AccountError(
            422,
            "password_too_long",
            f"The password may have {MAX_PASSWORD_CHARS} characters at most.",
        )


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError(
            422, "unknown_role", f"Unknown role {role!r}; one of {', '.join(ROLES)}."
        )


def _check_body(db: Session, role: str, municipality: str, body_id: str | None) -> None:
    """body_staff need a body of their own town; admins and coordinators have none."""
    if body_id is None:
        if role == "body_staff":
            raise AccountError(422, "body_required", "The role body_staff needs a body (--body).")
        return
    if role not in BODY_ROLES:
        raise AccountError(
            422, "body_not_allowed", f"The role {role} belongs to no body; leave the body out."
        )
    body = db.get(Body, body_id)
    if body is None or not body.active:
        raise AccountError(422, "unknown_body", f"No active body {body_id!r}.")
    if body.municipality != municipality:
        raise AccountError(
            422,
            "body_not_in_municipality",
            f"The body {body_id!r} belongs to {body.municipality}, not {municipality}.",
        )


def find_user(db: Session, username: str) -> StaffUser:
    user = db.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None:
        raise AccountError(404, "unknown_user", f"No user {username!r}.")
    return user


def display_names(db: Session, user_ids: set[str]) -> dict[str, str]:
    """Staff members' names by id (display name, else username), for pages that say who
    acted; an id that is not a staff user's (a service token's) is left out."""
    if not user_ids:
        return {}
    users = db.scalars(select(StaffUser).where(StaffUser.id.in_(user_ids))).all()
    return {u.id: u.display_name or u.username for u in users}


def create_user(
    db: Session,
    actor: audit.Actor,
    *,
    username: str,
    password: str,
    role: str,
    municipality: str,
    body_id: str | None = None,
    display_name: str | None = None,
) -> StaffUser:
    if not USERNAME.fullmatch(username):
        raise AccountError(
            422,
            "invalid_username",
            "A username is 1 to 64 letters, digits or . _ @ - and starts with a letter or digit.",
        )
    _check_role(role)
    check_municipality(municipality)
    _check_body(db, role, municipality, body_id)
    check_password(password)
    if db.scalar(select(StaffUser.id).where(StaffUser.username == username)):
        raise AccountError(409, "username_taken", f"The username {username!r} is taken.")
    user = StaffUser(
        username=username,
        password_hash=hash_password(password),
        role=role,
        municipality=municipality,
        body_id=body_id,
        display_name=display_name,
    )
    try:
        with db.begin_nested():  # two creations at once: one wins, the other gets the 409
            db.add(user)
    except IntegrityError:
        raise AccountError(409, "username_taken", f"The username {username!r} is taken.") from None
    audit.record(db, actor, "create", "staff_user", user.id, basis=role, municipality=municipality)
    return user


KEEP = object()  # "not given", as distinct from None (clear the body)


def update_user(
    db: Session,
    actor: audit.Actor,
    user: StaffUser,
    *,
    role: str | None = None,
    body_id: str | None | object = KEEP,
    active: bool | None = None,
    display_name: str | None | object = KEEP,
) -> StaffUser:
    """Change role, body, active or display name; tokens end when role or access changes."""
    new_role = role if role is not None else user.role
    _check_role(new_role)
    # Body not given: a role without a body drops the old one; body roles keep theirs.
    kept = user.body_id if new_role in BODY_ROLES else None
    new_body = kept if body_id is KEEP else body_id
    _check_body(db, new_role, user.municipality, new_body)  # type: ignore[arg-type]
    changed = []
    if new_role != user.role:
        changed.append("role")
    if new_body != user.body_id:
        changed.append("body")
    if active is not None and active != user.active:
        changed.append("active")
    if display_name is not KEEP and display_name != user.display_name:
        user.display_name = display_name  # type: ignore[assignment]
        changed.append("display_name")
    if not changed:
        return user
    # The old tokens carried the old role's powers, so they end now (a body change needs
    # no revocation: the body is read from the user on every request).
    if "role" in changed or active is False:
        revoke_user_tokens(db, user.id)
    user.role, user.body_id = new_role, new_body  # type: ignore[assignment]
    if active is not None:
        user.active = active
    action = "deactivate" if changed == ["active"] and active is False else "update"
    audit.record(
        db,
        actor,
        action,
        "staff_user",
        user.id,
        basis=",".join(changed),
        municipality=user.municipality,
    )
    db.flush()
    return user


def deactivate_user(db: Session, actor: audit.Actor, user: StaffUser) -> int:
    """Deactivate and revoke every live token; returns how many tokens were revoked."""
    revoked = revoke_user_tokens(db, user.id)
    if user.active:
        user.active = False
    audit.record(
        db,
        actor,
        "deactivate",
        "staff_user",
        user.id,
        basis=f"tokens:{revoked}",
        municipality=user.municipality,
    )
    db.flush()
    return revoked


def create_service_token(
    db: Session,
    actor: audit.Actor,
    *,
    role: str,
    municipality: str,
    days: int | None = None,
    label: str | None = None,
) -> tuple[str, ApiToken]:
    if role not in SERVICE_ROLES:
        raise AccountError(
            422, "unknown_role", f"Service tokens are for {', '.join(SERVICE_ROLES)} only."
        )
    check_municipality(municipality)
    if days is not None and days < 1:
        raise AccountError(422, "invalid_days", "A token lasts at least one day.")
    token, record = issue_token(
        db,
        role=role,
        municipality=municipality,
        lifetime=timedelta(days=days) if days else None,
        label=label,
    )
    db.flush()
    audit.record(db, actor, "create", "api_token", record.id, basis=role, municipality=municipality)
    return token, record


def revoke_tokens(
    db: Session, actor: audit.Actor, *, label: str | None = None, token_id: str | None = None
) -> list[ApiToken]:
    """Revoke the live tokens with this label, or the one with this id."""
    if (label is None) == (token_id is None):
        raise AccountError(422, "give_label_or_id", "Give a label or a token id, not both.")
    query = select(ApiToken).where(ApiToken.revoked_at.is_(None))
    query = query.where(ApiToken.label == label if label is not None else ApiToken.id == token_id)
    tokens = db.scalars(query).all()
    if not tokens:
        what = f"label {label!r}" if label is not None else f"id {token_id!r}"
        raise AccountError(404, "unknown_token", f"No live token with {what}.")
    for token in tokens:
        token.revoked_at = utcnow()
        audit.record(db, actor, "revoke", "api_token", token.id, municipality=token.municipality)
    db.flush()
    return list(tokens)
