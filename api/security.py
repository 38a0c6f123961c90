"""Passwords, bearer tokens and login throttling.

Passwords are hashed with Argon2 (argon2-cffi). Tokens are opaque random strings; only
their SHA-256 is stored, and every request looks the token and its user up again, so
revoking a token, deactivating a user or changing a role takes effect on the next request.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from api.db.models import ApiToken, LoginAttempt, StaffUser, utcnow
from api.settings import get_settings

ROLES = ("admin", "coordinator", "body_staff", "outreach")
SERVICE_ROLES = ("bot",)

_hasher = PasswordHasher()
# Verified when the username is unknown, so a miss costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: StaffUser | None, password: str) -> bool:
    try:
        matched = _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return matched and user is not None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    db: Session,
    *,
    role: str,
    municipality: str,
    user: StaffUser | None = None,
    lifetime: timedelta | None = None,
    label: str | None = None,
) -> tuple[str, ApiToken]:
    """A new token (returned once, never stored in clear) and its record (added, not committed)."""
    settings = get_settings()
    if lifetime is None:
        lifetime = (
            timedelta(minutes=settings.token_minutes)
            if user
            else timedelta(days=settings.service_token_days)
        )
    token = secrets.token_urlsafe(32)
    record = ApiToken(
        token_hash=token_digest(token),
        user_id=user.id if user else None,
        role=role,
        municipality=municipality,
        label=label,
        expires_at=utcnow() + lifetime,
    )
    db.add(record)
    return token, record


def lookup_token(db: Session, token: str) -> tuple[ApiToken, StaffUser | None] | None:
    """The live token and its user, or None if unknown, expired, revoked or out of date."""
    record = db.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
    if record is None or record.revoked_at is not None or record.expires_at <= utcnow():
        return None
    if record.user_id is None:
        return record, None
    user = db.get(StaffUser, record.user_id)
    # A changed role or municipality invalidates the tokens issued under the old one.
    if (
        user is None
        or not user.active
        or user.role != record.role
        or user.municipality != record.municipality
    ):
        return None
    return record, user


# --- login throttling -------------------------------------------------------------------------


class SignInRefused(Exception):
    """Credentials not accepted: `wait` seconds while throttled, else 0 (wrong or inactive)."""

    def __init__(self, wait: int = 0) -> None:
        super().__init__(wait)
        self.wait = wait


def authenticate(db: Session, username: str, password: str, client: str) -> StaffUser:
    """The active user these credentials name, for the API and the staff pages alike.

    A failure is counted (and committed) against the username and the client; after too
    many, SignInRefused carries the seconds to wait. A success clears the username's count.
    """
    wait = login_blocked_for(db, username, client)
    if wait:
        raise SignInRefused(wait)
    user = db.scalar(select(StaffUser).where(StaffUser.username == username))
    if not check_password(user, password) or user is None or not user.active:
        record_login_failure(db, username, client)
        db.commit()
        raise SignInRefused()
    clear_login_failures(db, username)
    forget_old_failures(db)
    return user


def login_blocked_for(db: Session, username: str, client: str) -> int:
    """Seconds until another attempt is allowed for this username or client; 0 if allowed."""
    settings = get_settings()
    window = timedelta(minutes=settings.login_window_minutes)
    since = utcnow() - window
    worst: datetime | None = None
    for column, value in ((LoginAttempt.username, username), (LoginAttempt.client, client)):
        count, oldest = db.execute(
            select(func.count(), func.min(LoginAttempt.at)).where(
                column == value, LoginAttempt.at > since
            )
        ).one()
        if count >= settings.login_max_failures and oldest is not None:
            worst = oldest if worst is None else max(worst, oldest)
    if worst is None:
        return 0
    if worst.tzinfo is None:  # aggregates bypass the column type on SQLite
        worst = worst.replace(tzinfo=utcnow().tzinfo)
    return max(1, int((worst + window - utcnow()).total_seconds()) + 1)


def record_login_failure(db: Session, username: str, client: str) -> None:
    db.add(LoginAttempt(username=username[:64], client=client[:64]))


def clear_login_failures(db: Session, username: str) -> None:
    db.execute(delete(LoginAttempt).where(LoginAttempt.username == username))


def forget_old_failures(db: Session) -> None:
    window = timedelta(minutes=get_settings().login_window_minutes)
    db.execute(delete(LoginAttempt).where(LoginAttempt.at <= utcnow() - window))


def revoke_user_tokens(db: Session, user_id: str) -> int:
    tokens = db.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
    ).all()
    for token in tokens:
        token.revoked_at = utcnow()
    return len(tokens)
