"""Helpers for the staff pages' tests: accounts with a password, and signing in by form."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.db.models import StaffUser
from tests.conftest import PASSWORD, PASSWORD_HASH

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

HOUKATSU, KODOMO, TAJIKAN = "atsuma-houkatsu", "atsuma-kodomo", "atsuma-tajikan"


def account(
    db: Session, username: str, role: str, body: str | None = None, municipality: str = "atsuma"
) -> StaffUser:
    user = StaffUser(
        username=username,
        password_hash=PASSWORD_HASH,
        role=role,
        municipality=municipality,
        body_id=body,
        display_name=f"{username}さん",
    )
    db.add(user)
    db.commit()
    return user


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def log_in(client: TestClient, username: str, password: str = PASSWORD, **extra: str):
    """Post the login form as a browser would (its CSRF cookie and field); the answer."""
    form = client.get("/staff/login")
    assert form.status_code == 200
    return client.post(
        "/staff/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_of(form.text),
            **extra,
        },
        follow_redirects=False,
    )


def page_csrf(client: TestClient, path: str) -> str:
    """The session's CSRF token, as a page of it carries it."""
    response = client.get(path)
    assert response.status_code == 200, response.text
    return csrf_of(response.text)
