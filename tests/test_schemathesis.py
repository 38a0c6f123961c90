"""Property-based requests from the OpenAPI schema, with valid tokens: never a 5xx.

Each operation is called as generated, and again pointed at real records (path ids, the
town, a person), so generated bodies reach the code behind the lookups too.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from sqlalchemy.orm import Session

from api.db.models import StaffUser
from api.main import create_app
from api.security import issue_token
from tests.conftest import PASSWORD_HASH
from tests.intake import COMPOUND, URGENT, consult

# (method, path) of every operation; the schema itself is loaded per test, on its database.
# schemathesis.pytest.from_fixture would do this, but it breaks on pytest >= 9.2.
OPERATIONS = [
    (method.upper(), path)
    for path, methods in create_app().openapi()["paths"].items()
    for method in methods
]


@pytest.fixture
def tokens(db: Session) -> dict[str, dict[str, str]]:
    headers = {}
    for role, body in (
        ("admin", None),
        ("coordinator", None),
        ("body_staff", "atsuma-tajikan"),
        ("outreach", None),
    ):
        user = StaffUser(
            username=f"fuzz-{role}",
            password_hash=PASSWORD_HASH,
            role=role,
            municipality="atsuma",
            body_id=body,
        )
        db.add(user)
        db.flush()
        token, _ = issue_token(db, role=role, municipality="atsuma", user=user)
        headers[role] = {"Authorization": f"Bearer {token}"}
    token, _ = issue_token(db, role="bot", municipality="atsuma")
    headers["bot"] = {"Authorization": f"Bearer {token}"}
    db.commit()
    return headers


@pytest.fixture
def real_ids(database_url: str, tokens: dict[str, dict[str, str]]) -> dict[str, str]:
    with TestClient(create_app()) as client:
        compound = consult(client, tokens["bot"], COMPOUND, user="fuzz-1")
        urgent = consult(client, tokens["bot"], URGENT, user="fuzz-2")
        contact = client.post(
            "/api/v1/contacts",
            headers=tokens["outreach"],
            json={
                "person_id": compound["person_id"],
                "contacted_at": "2026-11-20T10:00:00+09:00",
                "method": "visit",
                "outcome": "met",
            },
        ).json()
        handover = client.post(
            "/api/v1/handovers",
            headers=tokens["bot"],
            json={"municipality": "atsuma", "channel": "line", "channel_user_id": "fuzz-1"},
        ).json()
        users = client.get("/api/v1/users", headers=tokens["admin"]).json()
    outreach = next(u["id"] for u in users if u["role"] == "outreach")
    return {
        "referral_id": compound["referrals"][0]["id"],
        "case_id": compound["case_id"],
        "person_id": compound["person_id"],
        "alert_id": urgent["alert_id"],
        "contact_id": contact["id"],
        "handover_id": handover["id"],
        "user_id": outreach,
        "staff_user_id": outreach,
        "consent_id": "unknown",
    }


def real(case: Any, ids: dict[str, str]) -> None:
    """Point the generated request at real records: ids in the path, town and person in
    the body, so it is judged on its other values."""
    if case.path_parameters:
        case.path_parameters = {k: ids.get(k, v) for k, v in case.path_parameters.items()}
    if isinstance(case.body, dict):
        if "municipality" in case.body:
            case.body["municipality"] = "atsuma"
        if "person_id" in case.body:
            case.body["person_id"] = ids["person_id"]
            case.body.pop("unidentified", None)


def role_for(method: str, path: str) -> str:
    """The role that may use the operation, so requests get past authorization."""
    if path.startswith(("/api/v1/users", "/api/v1/audit")):
        return "admin"
    if path in ("/api/v1/consultations", "/api/v1/handovers") and method == "POST":
        return "bot"
    if path.endswith(("/receive", "/accept", "/reject", "/complete")):
        return "body_staff"
    if path == "/api/v1/contacts" and method == "POST":
        return "outreach"
    return "coordinator"


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=" ".join)
def test_no_server_errors(
    method: str, path: str, tokens: dict, real_ids: dict[str, str], database_url: str
) -> None:
    operation = schemathesis.openapi.from_asgi("/openapi.json", create_app())[path][method]
    headers = tokens[role_for(method, path)]

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def call(case: Any) -> None:
        response = case.call(headers=headers)
        assert response.status_code < 500, f"{method} {path}: {response.status_code}"
        if case.path_parameters or isinstance(case.body, dict):
            real(case, real_ids)
            response = case.call(headers=headers)
            assert response.status_code < 500, f"{method} {path} (real ids)"

    call()
