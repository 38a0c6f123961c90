"""Sign-in, tokens and their end: wrong passwords, throttling, expiry, logout, revocation."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from api.db.models import ApiToken, StaffUser, utcnow
from api.security import hash_password, issue_token, lookup_token
from api.settings import get_settings

LOGIN = "/api/v1/auth/token"
PASSWORD = "a long enough passphrase"


@pytest.fixture
def user(db):
    """An atsuma admin with a known password; the users list is a route admins may use."""
    account = StaffUser(
        username="sato", password_hash=hash_password(PASSWORD), role="admin", municipality="atsuma"
    )
    db.add(account)
    db.commit()
    return account


def sign_in(client, username="sato", password=PASSWORD):
    return client.post(LOGIN, data={"username": username, "password": password})


def bearer(response) -> dict[str, str]:
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_sign_in_returns_a_working_bearer_token(client, user):
    response = sign_in(client)
    body = response.json()
    assert body["token_type"] == "bearer"
    assert (body["role"], body["municipality"]) == ("admin", "atsuma")
    assert 0 < body["expires_in"] <= get_settings().token_minutes * 60
    users = client.get("/api/v1/users", headers=bearer(response))
    assert users.status_code == 200
    assert [u["username"] for u in users.json()] == ["sato"]


def test_no_token_or_a_made_up_token_is_401(client, user):
    assert client.get("/api/v1/users").status_code == 401
    made_up = {"Authorization": "Bearer not-a-token"}
    assert client.get("/api/v1/users", headers=made_up).status_code == 401


@pytest.mark.parametrize(
    ("username", "password"), [("sato", "wrong password!"), ("nobody", PASSWORD)]
)
def test_wrong_password_or_unknown_user_is_401(client, user, username, password):
    response = sign_in(client, username, password)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    assert "access_token" not in response.text


def test_inactive_user_cannot_sign_in(client, db, user):
    user.active = False
    db.commit()
    assert sign_in(client).status_code == 401


def test_too_many_failures_block_even_the_right_password(client, user):
    limit = get_settings().login_max_failures
    for _ in range(limit):
        assert sign_in(client, password="wrong password!").status_code == 401
    blocked = sign_in(client)
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert "access_token" not in blocked.text


def test_failures_below_the_limit_do_not_block(client, user):
    for _ in range(get_settings().login_max_failures - 1):
        sign_in(client, password="wrong password!")
    assert sign_in(client).status_code == 200


def test_expired_token_is_401(client, db, user):
    auth = bearer(sign_in(client))
    token = db.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.commit()
    assert client.get("/api/v1/users", headers=auth).status_code == 401


def test_logout_revokes_at_once(client, user):
    auth = bearer(sign_in(client))
    assert client.post("/api/v1/auth/logout", headers=auth).status_code == 204
    assert client.get("/api/v1/users", headers=auth).status_code == 401
    # Another sign-in gives a new token that works.
    assert client.get("/api/v1/users", headers=bearer(sign_in(client))).status_code == 200


def test_deactivating_a_user_ends_their_token(client, user, staff):
    coordinator = staff("coordinator")
    assert client.get("/api/v1/referrals", headers=coordinator).status_code == 200
    admin = bearer(sign_in(client))
    [target] = [u for u in client.get("/api/v1/users", headers=admin).json() if u["id"] != user.id]
    assert client.delete(f"/api/v1/users/{target['id']}", headers=admin).status_code == 204
    assert client.get("/api/v1/referrals", headers=coordinator).status_code == 401


def test_changing_a_role_ends_the_tokens_of_the_old_role(client, user, staff):
    coordinator = staff("coordinator")
    assert client.get("/api/v1/stats", headers=coordinator).status_code == 200
    admin = bearer(sign_in(client))
    [target] = [u for u in client.get("/api/v1/users", headers=admin).json() if u["id"] != user.id]
    changed = client.patch(
        f"/api/v1/users/{target['id']}", headers=admin, json={"role": "outreach"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["role"] == "outreach"
    assert client.get("/api/v1/stats", headers=coordinator).status_code == 401


def test_lookup_refuses_a_token_whose_role_is_no_longer_the_users(db, user):
    """Even a token nobody revoked: the role it was issued under must still be the user's."""
    token, _ = issue_token(db, role=user.role, municipality=user.municipality, user=user)
    db.commit()
    assert lookup_token(db, token) is not None
    user.role = "coordinator"
    db.commit()
    assert lookup_token(db, token) is None
    user.role = "admin"
    user.municipality = "tomiya"
    db.commit()
    assert lookup_token(db, token) is None


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/users"),
        ("GET", "/api/v1/audit"),
        ("GET", "/api/v1/stats"),
        ("GET", "/api/v1/referrals"),
    ],
)
def test_bot_tokens_cannot_use_staff_routes(client, bot, method, path):
    response = client.request(method, path, headers=bot("atsuma"))
    assert response.status_code == 403


def test_bot_cannot_create_users(client, bot):
    response = client.post(
        "/api/v1/users",
        headers=bot("atsuma"),
        json={"username": "mallory", "password": "x" * 20, "role": "admin"},
    )
    assert response.status_code == 403


def test_bot_token_works_for_the_directory(client, bot):
    response = client.get("/api/v1/bodies", headers=bot("atsuma"))
    assert response.status_code == 200
    ids = {b["id"] for b in response.json()}
    assert "atsuma-houkatsu" in ids
    assert all(i.startswith("atsuma-") for i in ids)


# --- the admin's account management ----------------------------------------------------------

USERS = "/api/v1/users"


def new_user(**fields):
    return {"username": "suzuki", "password": "another long passphrase", **fields}


def test_admin_creates_a_user_who_can_sign_in(client, db, staff):
    admin = staff("admin")
    created = client.post(
        USERS, headers=admin, json=new_user(role="body_staff", body_id="atsuma-houkatsu")
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["username"], body["role"], body["municipality"], body["body_id"]) == (
        "suzuki",
        "body_staff",
        "atsuma",
        "atsuma-houkatsu",
    )
    stored = db.scalar(select(StaffUser).where(StaffUser.username == "suzuki"))
    db.commit()  # end the read: SQLite holds its write lock until then
    assert stored.password_hash.startswith("$argon2")
    listed = client.get(USERS, headers=admin)
    for text in (created.text, listed.text):
        assert "password" not in text and stored.password_hash not in text
    signed_in = sign_in(client, "suzuki", "another long passphrase")
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["role"] == "body_staff"


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"role": "body_staff"}, 422, "body_required"),
        ({"role": "body_staff", "body_id": "tomiya-kodomo"}, 422, "body_not_in_municipality"),
        ({"role": "body_staff", "body_id": "nowhere"}, 422, "unknown_body"),
        ({"role": "coordinator", "body_id": "atsuma-houkatsu"}, 422, "body_not_allowed"),
        ({"role": "admin", "municipality": "tomiya"}, 403, "forbidden"),
        ({"role": "bot"}, 422, "invalid_request"),
        ({"role": "admin", "password": "short"}, 422, "invalid_request"),
        ({"role": "admin", "username": "has space"}, 422, "invalid_username"),
    ],
)
def test_invalid_users_are_refused(client, db, staff, fields, status, code):
    response = client.post(USERS, headers=staff("admin"), json=new_user(**fields))
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert (
        db.scalar(select(StaffUser).where(StaffUser.username.in_(["suzuki", "has space"]))) is None
    )
    db.commit()  # end the read: SQLite holds its write lock until then


def test_duplicate_username_is_409(client, staff):
    admin = staff("admin")
    assert client.post(USERS, headers=admin, json=new_user(role="admin")).status_code == 201
    again = client.post(USERS, headers=admin, json=new_user(role="outreach"))
    assert again.status_code == 409
    assert again.json()["code"] == "username_taken"


def test_admins_see_and_change_only_their_own_town(client, staff):
    atsuma, tomiya = staff("admin"), staff("admin", "tomiya")
    staff("coordinator", "tomiya")
    mine = client.get(USERS, headers=atsuma).json()
    assert {u["municipality"] for u in mine} == {"atsuma"}
    [theirs] = [u for u in client.get(USERS, headers=tomiya).json() if u["role"] == "coordinator"]
    patch = client.patch(f"{USERS}/{theirs['id']}", headers=atsuma, json={"active": False})
    assert patch.status_code == 404
    assert client.delete(f"{USERS}/{theirs['id']}", headers=atsuma).status_code == 404


def test_patch_body_and_reactivate(client, staff):
    admin = staff("admin")
    worker = client.post(USERS, headers=admin, json=new_user(role="outreach")).json()
    url = f"{USERS}/{worker['id']}"
    moved = client.patch(url, headers=admin, json={"body_id": "atsuma-outreach"})
    assert moved.json()["body_id"] == "atsuma-outreach"
    promoted = client.patch(url, headers=admin, json={"role": "coordinator"})
    assert promoted.json()["body_id"] is None  # coordinators belong to no body
    assert client.delete(url, headers=admin).status_code == 204
    assert sign_in(client, "suzuki", "another long passphrase").status_code == 401
    back = client.patch(url, headers=admin, json={"active": True})
    assert back.json()["active"] is True
    assert sign_in(client, "suzuki", "another long passphrase").status_code == 200


def test_an_admin_cannot_lock_themself_out(client, user):
    admin = bearer(sign_in(client))
    assert client.delete(f"{USERS}/{user.id}", headers=admin).status_code == 409
    demote = client.patch(f"{USERS}/{user.id}", headers=admin, json={"role": "outreach"})
    assert demote.status_code == 409
    assert client.get(USERS, headers=admin).status_code == 200


@pytest.mark.parametrize("role", ["coordinator", "outreach"])
def test_only_admins_manage_users(client, staff, role):
    auth = staff(role)
    assert client.get(USERS, headers=auth).status_code == 403
    assert client.post(USERS, headers=auth, json=new_user(role="admin")).status_code == 403


def test_bodies_are_the_own_towns(client, staff):
    response = client.get("/api/v1/bodies", headers=staff("coordinator", "tomiya"))
    assert response.status_code == 200
    bodies = response.json()
    assert bodies and {b["municipality"] for b in bodies} == {"tomiya"}
    assert {"id", "name", "kind", "areas", "active"} <= set(bodies[0])


def test_the_api_roles_are_the_security_roles():
    from typing import get_args

    from api.routes.users import Role
    from api.security import ROLES

    assert set(get_args(Role)) == set(ROLES)
