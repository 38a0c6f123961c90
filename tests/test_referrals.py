"""Referrals: lifecycle, deadlines, least privilege and consent-gated content."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from api.db.models import AuditEvent, Consent, Referral, utcnow
from tests.intake import COMPOUND, ELDERLY, URGENT, consult
from tests.rows import events

HOUKATSU = "atsuma-houkatsu"


def referral_of(created: dict) -> str:
    return created["referrals"][0]["id"]


def act(client, auth, rid: str, action: str, **body):
    return client.post(f"/api/v1/referrals/{rid}/{action}", headers=auth, json=body or None)


@pytest.fixture
def houkatsu(staff):
    return staff("body_staff", "atsuma", HOUKATSU)


class TestLifecycle:
    def test_sent_received_accepted_completed(self, client, bot, houkatsu, db):
        rid = referral_of(consult(client, bot()))
        assert act(client, houkatsu, rid, "receive").json()["status"] == "received"
        assert act(client, houkatsu, rid, "accept").json()["status"] == "accepted"
        done = act(
            client, houkatsu, rid, "complete", outcome="resolved", reason="介護認定につながった"
        )
        assert done.status_code == 200
        assert (done.json()["status"], done.json()["outcome"]) == ("completed", "resolved")
        stored = db.get(Referral, rid)
        assert stored.received_at <= stored.accepted_at <= stored.completed_at

    def test_rejection_needs_a_reason(self, client, bot, houkatsu):
        rid = referral_of(consult(client, bot()))
        act(client, houkatsu, rid, "receive")
        assert act(client, houkatsu, rid, "reject").status_code == 422
        rejected = act(
            client, houkatsu, rid, "reject", reason="当センターの対象外（障がいの窓口へ）"
        )
        assert rejected.json()["status"] == "rejected"
        assert rejected.json()["rejection_reason"].startswith("当センター")

    def test_completion_needs_an_outcome_and_a_reason(self, client, bot, houkatsu):
        rid = referral_of(consult(client, bot()))
        act(client, houkatsu, rid, "receive")
        act(client, houkatsu, rid, "accept")
        assert act(client, houkatsu, rid, "complete", reason="x").status_code == 422
        assert act(client, houkatsu, rid, "complete", outcome="resolved").status_code == 422
        assert (
            act(client, houkatsu, rid, "complete", outcome="nonsense", reason="x").status_code
            == 422
        )

    @pytest.mark.parametrize(
        ("steps", "illegal"),
        [
            ([], "accept"),
            ([], "complete"),
            (["receive"], "receive"),
            (["receive"], "complete"),
            (["receive", "accept"], "reject"),
            (["receive", "accept"], "accept"),
        ],
    )
    def test_illegal_transitions_are_409(self, client, bot, houkatsu, steps, illegal):
        rid = referral_of(consult(client, bot()))
        for step in steps:
            assert act(client, houkatsu, rid, step).status_code == 200
        response = act(client, houkatsu, rid, illegal, reason="r", outcome="resolved")
        assert response.status_code == 409
        assert response.json()["code"] == "illegal_transition"

    def test_the_coordinator_withdraws_and_then_nothing_moves(self, client, bot, staff, houkatsu):
        rid = referral_of(consult(client, bot()))
        coordinator = staff("coordinator")
        assert act(client, coordinator, rid, "withdraw").status_code == 422
        assert act(client, coordinator, rid, "withdraw", reason="本人が取り下げ").status_code == 200
        assert act(client, houkatsu, rid, "receive").status_code == 409

    def test_roles_hold_their_own_actions(self, client, bot, staff, houkatsu):
        rid = referral_of(consult(client, bot()))
        assert act(client, staff("coordinator"), rid, "receive").status_code == 403
        assert act(client, houkatsu, rid, "withdraw", reason="x").status_code == 403
        assert act(client, staff("outreach"), rid, "receive").status_code == 403


class TestWhoSeesWhat:
    def test_body_staff_see_only_their_bodys_referrals(self, client, bot, staff, houkatsu, db):
        mine = referral_of(consult(client, bot(), ELDERLY, user="U1"))
        theirs = referral_of(consult(client, bot(), "借金があって家賃を払えません", user="U2"))
        listed = client.get("/api/v1/referrals", headers=houkatsu).json()
        assert [r["id"] for r in listed] == [mine]
        assert client.get(f"/api/v1/referrals/{theirs}", headers=houkatsu).status_code == 404
        assert act(client, houkatsu, theirs, "receive").status_code == 404
        # both attempts are in the audit log, as on the staff pages; nothing was read
        assert events(db, "denied", "referral", theirs) == 2
        assert events(db, "read", "referral", theirs) == 0
        jiritsu = staff("body_staff", "atsuma", "atsuma-jiritsu")
        assert client.get(f"/api/v1/referrals/{theirs}", headers=jiritsu).status_code == 200

    def test_another_municipality_sees_nothing(self, client, bot, staff):
        rid = referral_of(consult(client, bot(), COMPOUND))
        for role in ("coordinator", "admin"):
            other = staff(role, "tomiya")
            assert client.get(f"/api/v1/referrals/{rid}", headers=other).status_code == 404
            assert client.get("/api/v1/referrals", headers=other).json() == []

    def test_the_coordinator_sees_the_towns_referrals(self, client, bot, staff):
        consult(client, bot(), ELDERLY, user="U1")
        consult(client, bot(), COMPOUND, user="U2")
        listed = client.get("/api/v1/referrals", headers=staff("coordinator")).json()
        assert len(listed) == 2

    def test_status_and_overdue_filters(self, client, bot, houkatsu, db):
        late = referral_of(consult(client, bot(), ELDERLY, user="U1"))
        fresh = referral_of(consult(client, bot(), "母の介護のことで相談したい", user="U2"))
        db.get(Referral, late).due_at = utcnow() - timedelta(hours=1)
        db.commit()
        act(client, houkatsu, fresh, "receive")
        overdue = client.get("/api/v1/referrals?overdue=true", headers=houkatsu).json()
        assert [(r["id"], r["overdue"]) for r in overdue] == [(late, True)]
        received = client.get("/api/v1/referrals?status=received", headers=houkatsu).json()
        assert [r["id"] for r in received] == [fresh]
        assert client.get("/api/v1/referrals?status=lost", headers=houkatsu).status_code == 422


class TestConsentGatesContent:
    def test_with_consent_the_body_reads_the_consultation(self, client, bot, houkatsu):
        rid = referral_of(consult(client, bot(), ELDERLY, contact={"name": "山田 一郎"}))
        shown = client.get(f"/api/v1/referrals/{rid}", headers=houkatsu).json()
        assert shown["disclosure"] == "consent"
        assert shown["content"]["texts"] == [ELDERLY]
        assert shown["content"]["name"] == "山田 一郎"

    def test_without_consent_only_that_a_consultation_exists(self, client, bot, houkatsu):
        rid = referral_of(
            consult(client, bot(), ELDERLY, consent=False, contact={"name": "山田 一郎"})
        )
        shown = client.get(f"/api/v1/referrals/{rid}", headers=houkatsu)
        body = shown.json()
        assert (body["disclosure"], body["content"]) == (None, None)
        assert body["domains"] == ["elderly"] and body["status"] == "sent"
        assert "山田" not in shown.text and "物忘れ" not in shown.text

    def test_danger_to_life_is_shared_without_consent_on_that_basis(self, client, bot, staff):
        created = consult(client, bot(), URGENT, consent=False)
        body_id = created["referrals"][0]["body_id"]
        reader = staff("body_staff", "atsuma", body_id)
        shown = client.get(f"/api/v1/referrals/{referral_of(created)}", headers=reader).json()
        assert shown["disclosure"] == "vital_interest"
        assert shown["content"]["texts"] == [URGENT]

    @pytest.mark.parametrize("end", ["revoked_at", "expires_at"])
    def test_revoked_or_expired_consent_stops_disclosure_at_once(
        self, client, bot, houkatsu, db, end
    ):
        created = consult(client, bot(), ELDERLY)
        url = f"/api/v1/referrals/{referral_of(created)}"
        assert client.get(url, headers=houkatsu).json()["content"] is not None
        consent = db.scalar(select(Consent).where(Consent.person_id == created["person_id"]))
        setattr(consent, end, utcnow() - timedelta(minutes=1))
        db.commit()
        assert client.get(url, headers=houkatsu).json()["content"] is None

    def test_admins_read_content_only_with_a_stated_purpose(self, client, bot, staff, db):
        rid = referral_of(consult(client, bot(), ELDERLY))
        admin = staff("admin")
        plain = client.get(f"/api/v1/referrals/{rid}", headers=admin)
        assert (plain.status_code, plain.json()["content"]) == (200, None)
        assert "物忘れ" not in plain.text
        purpose = admin | {"X-Tsunagu-Purpose": "complaint review 2026-17"}
        shown = client.get(f"/api/v1/referrals/{rid}", headers=purpose).json()
        assert shown["content"]["texts"] == [ELDERLY]
        event = db.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert (event.action, event.object_id) == ("read", rid)
        assert event.basis == "admin_review: complaint review 2026-17"


def test_every_read_is_audited_with_its_basis(client, bot, houkatsu, db):
    consented = referral_of(consult(client, bot(), ELDERLY, user="U1"))
    withheld = referral_of(consult(client, bot(), "母の介護がつらい", user="U2", consent=False))
    client.get("/api/v1/referrals", headers=houkatsu)
    reads = db.scalars(select(AuditEvent).where(AuditEvent.action == "read")).all()
    assert {(e.object_id, e.basis) for e in reads} == {
        (consented, "consent"),
        (withheld, "metadata"),
    }
