"""The coordinator's cases: queue, case view, state machine, consents, meetings, plan,
monitoring and the urgent duty queue. Fictional people only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from api.db.models import AuditEvent, Case, Consent, Referral, utcnow
from tests.intake import ELDERLY, SHOWN
from tests.intake import consult as shared_consult
from tests.rows import events

COMPOUND = "85歳の母が認知症で、50代の息子は仕事をしていなくて家にこもっています"
COMPOUND_URGENT = "母が認知症で、私はうつ病で働けず、お金がなくて家賃が払えません。もう死にたい"
NAME, PHONE = "厚真 花子", "0145-00-0000"
CONSENT_TEXT = "かいぎで あなたの ことを はなしても いいですか"

TAJIKAN, HOUKATSU, JIRITSU, SHOGAI = (
    "atsuma-tajikan",
    "atsuma-houkatsu",
    "atsuma-jiritsu",
    "atsuma-shogai",
)


def consult(client, auth, text: str = COMPOUND, *, user: str = "U1", **kw: Any) -> dict[str, Any]:
    """A consultation of a named person with a household (compound by default)."""
    return shared_consult(
        client,
        auth,
        text,
        user=user,
        contact={"method": "phone", "name": NAME, "phone": PHONE},
        household=[{"relation": "母", "age": 85}, {"relation": "息子", "age": 52}],
        **kw,
    )


def new_case(client, bot, **kw: Any) -> str:
    case_id = consult(client, bot(kw.get("municipality", "atsuma")), **kw)["case_id"]
    assert case_id
    return case_id


def age(db, case_id: str, days: float) -> None:
    db.execute(
        update(Case).where(Case.id == case_id).values(opened_at=utcnow() - timedelta(days=days))
    )
    db.commit()


def attendee(body: str | None, bound: bool = True, name: str = "担当者") -> dict[str, Any]:
    return {"body_id": body, "name": name, "confidentiality_bound": bound}


def meeting(kind: str, *attendees: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": kind,
        "held_on": "2025-05-12",
        "attendees": list(attendees),
        "decisions": "包括が母の介護認定を進める",
    }


PLAN = {
    "goals": ["母の介護サービス利用", "息子の就労準備"],
    "lead_body_id": HOUKATSU,
    "review_dates": ["2025-08-01"],
    "tasks": [
        {"body_id": HOUKATSU, "description": "要介護認定の申請支援", "due_on": "2025-06-30"},
        {"body_id": JIRITSU, "description": "就労準備支援の案内"},
    ],
}


def agree(client, auth, case_id: str, recipients: list[str], **extra: Any):
    return client.post(
        f"/api/v1/cases/{case_id}/consents",
        headers=auth,
        json={
            "purpose": "multi_agency_meeting",
            "recipients": recipients,
            "shown_text": CONSENT_TEXT,
            "captured_via": "in_person",
            "agreed": True,
            **extra,
        },
    )


def audit_events(db, object_type: str, object_id: str) -> list[AuditEvent]:
    events = db.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
        .order_by(AuditEvent.seq)
    ).all()
    db.expunge_all()  # keep them loaded: a rollback would expire them
    db.rollback()  # SQLite: release the write lock the read's transaction took
    return list(events)


@pytest.fixture
def coord(staff):
    return staff("coordinator")


# --- the queue ------------------------------------------------------------------------------


class TestQueue:
    def test_urgent_first_then_longest_waiting(self, client, bot, coord, db):
        recent = new_case(client, bot, user="U-recent")
        oldest = new_case(client, bot, user="U-oldest")
        urgent = new_case(client, bot, text=COMPOUND_URGENT, user="U-urgent")
        age(db, recent, 2)
        age(db, oldest, 10)
        queue = client.get("/api/v1/cases", headers=coord)
        assert queue.status_code == 200
        items = queue.json()["cases"]
        assert [c["id"] for c in items] == [urgent, oldest, recent]
        assert items[0]["urgent"] is True
        assert items[1]["waiting_days"] == 10
        assert items[1]["waiting_seconds"] >= 10 * 86_400
        assert set(items[2]) >= {
            "status",
            "domains",
            "patterns",
            "opened_at",
            "lead_body",
            "overdue_referrals",
        }
        assert "8050" in items[2]["patterns"]

    def test_default_hides_closed_and_status_filters(self, client, bot, coord):
        open_case = new_case(client, bot, user="U-a")
        closed = new_case(client, bot, user="U-b")
        client.post(f"/api/v1/cases/{closed}/close", headers=coord, json={"reason": "転出"})
        client.put(f"/api/v1/cases/{open_case}/plan", headers=coord, json=PLAN)

        def ids(query: str = "") -> list[str]:
            return [
                c["id"] for c in client.get(f"/api/v1/cases{query}", headers=coord).json()["cases"]
            ]

        assert ids() == [open_case]
        assert ids("?status=closed") == [closed]
        assert ids("?status=planning") == [open_case]
        assert ids("?status=open") == []
        assert client.get("/api/v1/cases?status=bogus", headers=coord).status_code == 422

    def test_overdue_referrals_surface(self, client, bot, coord, staff, db):
        created = consult(client, bot(), user="U-case")
        case_id, case_ref = created["case_id"], created["referrals"][0]["id"]
        lone_ref = consult(client, bot(), ELDERLY, user="U-lone")["referrals"][0]["id"]
        received_ref = consult(client, bot(), ELDERLY, user="U-received")["referrals"][0]["id"]
        houkatsu = staff("body_staff", body=HOUKATSU)
        assert (
            client.post(f"/api/v1/referrals/{received_ref}/receive", headers=houkatsu).status_code
            == 200
        )
        before = client.get("/api/v1/cases", headers=coord).json()
        assert before["overdue_referrals"] == []
        assert before["cases"][0]["overdue_referrals"] == 0

        past = utcnow() - timedelta(days=1)
        db.execute(
            update(Referral)
            .where(Referral.id.in_([case_ref, lone_ref, received_ref]))
            .values(due_at=past)
        )
        db.commit()
        after = client.get("/api/v1/cases", headers=coord).json()
        overdue = {r["id"]: r for r in after["overdue_referrals"]}
        assert set(overdue) == {case_ref, lone_ref}  # the received one is not overdue
        assert overdue[case_ref]["case_id"] == case_id
        assert overdue[case_ref]["body"]["id"] == TAJIKAN
        assert overdue[lone_ref]["case_id"] is None
        assert overdue[lone_ref]["body"]["id"] == HOUKATSU
        assert overdue[lone_ref]["overdue_seconds"] >= 86_000
        assert "content" not in overdue[lone_ref]
        assert after["cases"][0]["overdue_referrals"] == 1

    def test_queue_reads_are_audited(self, client, bot, coord, db):
        case_id = new_case(client, bot)
        client.get("/api/v1/cases", headers=coord)
        reads = [e for e in audit_events(db, "case", case_id) if e.action == "read"]
        assert [(e.role, e.basis) for e in reads] == [("coordinator", "queue")]


# --- one case -------------------------------------------------------------------------------


class TestCaseView:
    def test_with_consent_the_coordinator_sees_content(self, client, bot, coord, db):
        created = consult(client, bot())
        case = client.get(f"/api/v1/cases/{created['case_id']}", headers=coord)
        assert case.status_code == 200
        body = case.json()
        assert body["disclosure"] == "consent"
        assert (body["person"]["name"], body["person"]["phone"]) == (NAME, PHONE)
        assert [m["relation"] for m in body["household"]] == ["母", "息子"]
        [consultation] = body["consultations"]
        assert consultation["id"] == created["consultation_id"]
        assert consultation["content"]["texts"] == [COMPOUND]
        assert consultation["content"]["evidence"]
        assert [r["body"]["id"] for r in body["referrals"]] == [TAJIKAN]
        assert body["referrals"][0]["content"]["texts"] == [COMPOUND]
        [consent] = body["consents"]
        assert consent["shown_text"] == SHOWN
        assert (consent["purpose"], consent["legal_basis"], consent["agreed"]) == (
            "referral",
            "consent",
            True,
        )
        assert body["meetings"] == [] and body["plan"] is None and body["monitoring"] == []
        [read] = [e for e in audit_events(db, "case", body["id"]) if e.action == "read"]
        assert read.basis == "consent"

    def test_without_consent_content_is_withheld(self, client, bot, coord, db):
        case_id = new_case(client, bot, consent=False)
        body = client.get(f"/api/v1/cases/{case_id}", headers=coord).json()
        assert body["disclosure"] is None
        assert body["person"] == {"id": body["person"]["id"], "name": None, "phone": None}
        assert body["household"] is None
        assert body["consultations"][0]["content"] is None
        assert body["consultations"][0]["patterns"] == ["8050", "hikikomori"]
        assert body["referrals"][0]["content"] is None
        assert body["consents"][0]["shown_text"] is None
        assert NAME not in str(body) and COMPOUND not in str(body)
        [read] = [e for e in audit_events(db, "case", case_id) if e.action == "read"]
        assert read.basis == "metadata"

    def test_urgent_case_is_shown_on_vital_interest(self, client, bot, coord):
        case_id = new_case(client, bot, text=COMPOUND_URGENT, consent=False)
        body = client.get(f"/api/v1/cases/{case_id}", headers=coord).json()
        assert body["disclosure"] == "vital_interest"
        assert body["person"]["name"] == NAME

    def test_timeline_is_sorted_and_complete(self, client, bot, coord, staff):
        created = consult(client, bot())
        case_id = created["case_id"]
        tajikan = staff("body_staff", body=TAJIKAN)
        client.post(f"/api/v1/referrals/{created['referrals'][0]['id']}/receive", headers=tajikan)
        client.post(
            f"/api/v1/cases/{case_id}/meetings",
            headers=coord,
            json=meeting("support_meeting", attendee(HOUKATSU)),
        )
        client.put(f"/api/v1/cases/{case_id}/plan", headers=coord, json=PLAN)
        client.post(f"/api/v1/cases/{case_id}/monitoring", headers=coord, json={"note": "訪問済"})
        client.post(f"/api/v1/cases/{case_id}/close", headers=coord, json={"reason": "支援終了"})
        timeline = client.get(f"/api/v1/cases/{case_id}", headers=coord).json()["timeline"]
        kinds = [e["kind"] for e in timeline]
        for kind in (
            "case_opened",
            "consultation",
            "referral_sent",
            "referral_received",
            "consent_recorded",
            "meeting",
            "plan_saved",
            "status_changed",
            "monitoring_note",
            "case_closed",
        ):
            assert kind in kinds, kind
        assert [e["at"] for e in timeline] == sorted(e["at"] for e in timeline)
        assert kinds[-1] == "case_closed"
        assert {"detail": "planning"}.items() <= next(
            e for e in timeline if e["kind"] == "status_changed"
        ).items()
        assert "訪問済" not in str(timeline) and "支援終了" not in str(timeline)

    def test_admin_sees_metadata_unless_a_purpose_is_stated(self, client, bot, coord, staff, db):
        case_id = new_case(client, bot)
        client.post(f"/api/v1/cases/{case_id}/monitoring", headers=coord, json={"note": "訪問済"})
        admin = staff("admin")
        assert client.get("/api/v1/cases", headers=admin).json()["cases"][0]["id"] == case_id
        plain = client.get(f"/api/v1/cases/{case_id}", headers=admin).json()
        assert plain["person"]["name"] is None and plain["disclosure"] is None
        assert plain["consultations"][0]["content"] is None
        assert plain["monitoring"][0]["note"] is None
        purpose = {"X-Tsunagu-Purpose": "disclosure request 2025-7"}
        stated = client.get(f"/api/v1/cases/{case_id}", headers={**admin, **purpose}).json()
        assert stated["disclosure"] == "admin_review"
        assert stated["person"]["name"] == NAME
        assert stated["monitoring"][0]["note"] == "訪問済"
        bases = [
            e.basis
            for e in audit_events(db, "case", case_id)
            if e.role == "admin" and e.action == "read" and e.basis != "queue"
        ]
        assert bases == ["metadata", "admin_review: disclosure request 2025-7"]
        assert (
            client.post(
                f"/api/v1/cases/{case_id}/monitoring", headers=admin, json={"note": "x"}
            ).status_code
            == 403
        )


# --- state machine --------------------------------------------------------------------------


def move(client, auth, case_id: str, status: str):
    return client.post(f"/api/v1/cases/{case_id}/status", headers=auth, json={"status": status})


class TestStateMachine:
    def test_open_planning_monitoring_and_review(self, client, bot, coord, db):
        case_id = new_case(client, bot)
        assert move(client, coord, case_id, "planning").json()["status"] == "planning"
        refused = move(client, coord, case_id, "monitoring")  # no plan yet
        assert (refused.status_code, refused.json()["code"]) == (409, "plan_required")
        client.put(f"/api/v1/cases/{case_id}/plan", headers=coord, json=PLAN)
        assert move(client, coord, case_id, "monitoring").json()["status"] == "monitoring"
        assert move(client, coord, case_id, "planning").json()["status"] == "planning"
        actions = [e.action for e in audit_events(db, "case", case_id)]
        assert actions.count("status_planning") == 2 and "status_monitoring" in actions

    @pytest.mark.parametrize("target", ["monitoring", "open"])
    def test_illegal_transitions_are_409_or_422(self, client, bot, coord, target):
        case_id = new_case(client, bot)
        answer = move(client, coord, case_id, target)
        if target == "open":  # not a target of /status at all
            assert answer.status_code == 422
        else:
            assert (answer.status_code, answer.json()["code"]) == (409, "illegal_transition")
            assert answer.json()["current_status"] == "open"

    def test_closing_goes_through_close_with_a_reason(self, client, bot, coord, db):
        case_id = new_case(client, bot)
        assert move(client, coord, case_id, "closed").status_code == 422
        for body in (None, {}, {"reason": ""}):
            no_reason = client.post(f"/api/v1/cases/{case_id}/close", headers=coord, json=body)
            assert no_reason.status_code == 422
        closed = client.post(
            f"/api/v1/cases/{case_id}/close", headers=coord, json={"reason": "本人の転出により終結"}
        )
        assert closed.status_code == 200
        assert closed.json()["status"] == "closed" and closed.json()["closed_at"]
        stored = db.get(Case, case_id)
        assert (stored.status, stored.closure_reason) == ("closed", "本人の転出により終結")
        db.rollback()
        again = client.post(f"/api/v1/cases/{case_id}/close", headers=coord, json={"reason": "x"})
        assert (again.status_code, again.json()["code"]) == (409, "case_closed")
        detail = client.get(f"/api/v1/cases/{case_id}", headers=coord).json()
        assert detail["closure_reason"] == "本人の転出により終結"

    def test_a_closed_case_refuses_edits(self, client, bot, coord):
        case_id = new_case(client, bot)
        client.post(f"/api/v1/cases/{case_id}/close", headers=coord, json={"reason": "終結"})
        base = f"/api/v1/cases/{case_id}"
        answers = [
            move(client, coord, case_id, "planning"),
            client.post(
                f"{base}/meetings",
                headers=coord,
                json=meeting("support_meeting", attendee(HOUKATSU)),
            ),
            client.put(f"{base}/plan", headers=coord, json=PLAN),
            client.post(f"{base}/monitoring", headers=coord, json={"note": "n"}),
            agree(client, coord, case_id, [HOUKATSU]),
        ]
        assert [(a.status_code, a.json()["code"]) for a in answers] == [(409, "case_closed")] * 5
        assert client.get(base, headers=coord).json()["meetings"] == []


# --- consents and meetings ------------------------------------------------------------------


class TestMeetings:
    def test_support_meeting_needs_every_attendee_bound(self, client, bot, coord):
        case_id = new_case(client, bot, consent=False)
        url = f"/api/v1/cases/{case_id}/meetings"
        refused = client.post(
            url,
            headers=coord,
            json=meeting(
                "support_meeting", attendee(HOUKATSU), attendee(None, bound=False, name="近所の人")
            ),
        )
        assert (refused.status_code, refused.json()["code"]) == (422, "confidentiality_required")
        assert refused.json()["errors"][0]["field"] == "attendees.1.confidentiality_bound"
        assert "近所の人" not in refused.text
        held = client.post(
            url,
            headers=coord,
            json=meeting("support_meeting", attendee(HOUKATSU), attendee(None, name="民生委員")),
        )
        assert held.status_code == 201
        assert (held.json()["legal_basis"], held.json()["kind"]) == (
            "support_meeting",
            "support_meeting",
        )
        listed = client.get(url, headers=coord).json()
        assert [m["id"] for m in listed] == [held.json()["id"]]
        assert [a["name"] for a in listed[0]["attendees"]] == ["担当者", "民生委員"]
        assert listed[0]["decisions"] == "包括が母の介護認定を進める"

    def test_an_empty_body_id_is_422_not_a_server_error(self, client, bot, coord):
        # Found by schemathesis: "" passed the body check (falsy) and broke the foreign key.
        case_id = new_case(client, bot, consent=False)
        url = f"/api/v1/cases/{case_id}/meetings"
        response = client.post(url, headers=coord, json=meeting("support_meeting", attendee("")))
        assert response.status_code == 422

    def test_multi_agency_meeting_needs_consent_until_revoked(self, client, bot, coord):
        case_id = new_case(client, bot, consent=False)
        url = f"/api/v1/cases/{case_id}/meetings"
        body = meeting(
            "multi_agency_meeting", attendee(TAJIKAN), attendee(HOUKATSU), attendee(JIRITSU)
        )
        refused = client.post(url, headers=coord, json=body)
        assert (refused.status_code, refused.json()["code"]) == (409, "consent_required")
        assert [e["body_id"] for e in refused.json()["errors"]] == sorted(
            [TAJIKAN, HOUKATSU, JIRITSU]
        )

        partial = agree(client, coord, case_id, [TAJIKAN, HOUKATSU])
        assert partial.status_code == 201
        still = client.post(url, headers=coord, json=body)
        assert [e["body_id"] for e in still.json()["errors"]] == [JIRITSU]

        consent = agree(client, coord, case_id, [JIRITSU])
        assert consent.json()["legal_basis"] == "consent" and consent.json()["active"]
        held = client.post(url, headers=coord, json=body)
        assert held.status_code == 201, held.text
        assert held.json()["legal_basis"] == "consent"

        revoked = client.post(f"/api/v1/consents/{consent.json()['id']}/revoke", headers=coord)
        assert revoked.status_code == 200
        assert revoked.json()["revoked_at"] and not revoked.json()["active"]
        again = client.post(url, headers=coord, json=body)
        assert (again.status_code, again.json()["code"]) == (409, "consent_required")
        assert [e["body_id"] for e in again.json()["errors"]] == [JIRITSU]
        # Revoking twice keeps the first revocation.
        twice = client.post(f"/api/v1/consents/{consent.json()['id']}/revoke", headers=coord)
        assert twice.json()["revoked_at"] == revoked.json()["revoked_at"]

    def test_consent_to_a_referral_is_not_consent_to_a_meeting(self, client, bot, coord):
        case_id = new_case(client, bot, consent=True)  # the intake's consent: referral
        body = meeting("multi_agency_meeting", attendee(TAJIKAN))
        refused = client.post(f"/api/v1/cases/{case_id}/meetings", headers=coord, json=body)
        assert (refused.status_code, refused.json()["code"]) == (409, "consent_required")
        assert agree(client, coord, case_id, [TAJIKAN]).status_code == 201
        held = client.post(f"/api/v1/cases/{case_id}/meetings", headers=coord, json=body)
        assert held.status_code == 201

    def test_a_refusal_or_an_expired_consent_covers_nothing(self, client, bot, coord, db):
        case_id = new_case(client, bot, consent=False)
        url = f"/api/v1/cases/{case_id}/meetings"
        body = meeting("multi_agency_meeting", attendee(HOUKATSU))
        refusal = agree(client, coord, case_id, [HOUKATSU], agreed=False)
        assert refusal.status_code == 201 and not refusal.json()["active"]
        assert client.post(url, headers=coord, json=body).status_code == 409
        soon = (utcnow() + timedelta(days=30)).isoformat()
        consent = agree(client, coord, case_id, [HOUKATSU], expires_at=soon).json()
        db.execute(
            update(Consent)
            .where(Consent.id == consent["id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.commit()
        assert client.post(url, headers=coord, json=body).status_code == 409

    def test_multi_agency_meeting_attendees_need_a_body(self, client, bot, coord):
        case_id = new_case(client, bot)
        agree(client, coord, case_id, [TAJIKAN, HOUKATSU])
        refused = client.post(
            f"/api/v1/cases/{case_id}/meetings",
            headers=coord,
            json=meeting(
                "multi_agency_meeting", attendee(HOUKATSU), attendee(None, name="民生委員")
            ),
        )
        assert (refused.status_code, refused.json()["code"]) == (422, "body_required")
        assert refused.json()["errors"][0]["field"] == "attendees.1.body_id"

    @pytest.mark.parametrize("body", ["atsuma-nowhere", "tomiya-jiritsu"])
    def test_bodies_must_be_of_the_town(self, client, bot, coord, body):
        case_id = new_case(client, bot)
        consent = agree(client, coord, case_id, [HOUKATSU, body])
        assert (consent.status_code, consent.json()["code"]) == (422, "unknown_body")
        assert consent.json()["errors"][0]["field"] == "recipients.1"
        held = client.post(
            f"/api/v1/cases/{case_id}/meetings",
            headers=coord,
            json=meeting("support_meeting", attendee(body)),
        )
        assert (held.status_code, held.json()["code"]) == (422, "unknown_body")

    def test_consent_input_is_validated(self, client, bot, coord):
        case_id = new_case(client, bot)
        past = (utcnow() - timedelta(days=1)).isoformat()
        assert agree(client, coord, case_id, [HOUKATSU], expires_at=past).status_code == 422
        naive = agree(client, coord, case_id, [HOUKATSU], expires_at="2030-01-01T00:00:00")
        assert naive.status_code == 422
        assert agree(client, coord, case_id, []).status_code == 422
        bad = agree(client, coord, case_id, [HOUKATSU], purpose="marketing")
        assert bad.status_code == 422


# --- plan and monitoring --------------------------------------------------------------------


class TestPlan:
    def test_first_plan_starts_planning_and_a_save_replaces(self, client, bot, coord, db):
        case_id = new_case(client, bot)
        url = f"/api/v1/cases/{case_id}/plan"
        assert client.get(url, headers=coord).status_code == 404
        saved = client.put(url, headers=coord, json=PLAN)
        assert saved.status_code == 200, saved.text
        plan = saved.json()
        assert plan["lead_body"]["id"] == HOUKATSU
        assert [t["body_id"] for t in plan["tasks"]] == [HOUKATSU, JIRITSU]
        assert plan["review_dates"] == ["2025-08-01"]
        queue = client.get("/api/v1/cases", headers=coord).json()["cases"][0]
        assert (queue["status"], queue["lead_body"]["id"]) == ("planning", HOUKATSU)

        changed = {
            **PLAN,
            "lead_body_id": JIRITSU,
            "tasks": [{"body_id": SHOGAI, "description": "障がいの相談", "done": True}],
        }
        client.put(url, headers=coord, json=changed)
        got = client.get(url, headers=coord).json()
        assert got["id"] == plan["id"] and got["lead_body"]["id"] == JIRITSU
        assert [(t["body_id"], t["done"]) for t in got["tasks"]] == [(SHOGAI, True)]
        assert got["goals"] == PLAN["goals"]
        assert [e.action for e in audit_events(db, "support_plan", plan["id"])] == [
            "save",
            "save",
            "read",
        ]

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"lead_body_id": "tomiya-jiritsu"}, "lead_body_id"),
            ({"tasks": [{"body_id": "atsuma-nowhere", "description": "x"}]}, "tasks.0.body_id"),
        ],
    )
    def test_plan_bodies_must_be_of_the_town(self, client, bot, coord, db, change, field):
        case_id = new_case(client, bot)
        refused = client.put(
            f"/api/v1/cases/{case_id}/plan", headers=coord, json={**PLAN, **change}
        )
        assert (refused.status_code, refused.json()["code"]) == (422, "unknown_body")
        assert refused.json()["errors"][0]["field"] == field
        assert db.get(Case, case_id).status == "open"
        db.rollback()

    def test_plan_shape_is_validated(self, client, bot, coord):
        case_id = new_case(client, bot)
        url = f"/api/v1/cases/{case_id}/plan"
        assert (
            client.put(url, headers=coord, json={**PLAN, "review_dates": ["soon"]}).status_code
            == 422
        )
        assert (
            client.put(
                url, headers=coord, json={**PLAN, "tasks": [{"body_id": HOUKATSU}]}
            ).status_code
            == 422
        )

    def test_monitoring_notes(self, client, bot, coord, db):
        case_id = new_case(client, bot)
        url = f"/api/v1/cases/{case_id}/monitoring"
        assert client.post(url, headers=coord, json={"note": ""}).status_code == 422
        note = client.post(url, headers=coord, json={"note": "母はデイサービス利用開始"})
        assert note.status_code == 201
        assert note.json()["note"] == "母はデイサービス利用開始"
        detail = client.get(f"/api/v1/cases/{case_id}", headers=coord).json()
        assert [n["id"] for n in detail["monitoring"]] == [note.json()["id"]]
        assert audit_events(db, "monitoring_note", note.json()["id"])[0].action == "create"


# --- alerts ---------------------------------------------------------------------------------


class TestAlerts:
    def test_unacknowledged_first_newest_first_and_acknowledge(self, client, bot, coord, db):
        first = consult(client, bot(), COMPOUND_URGENT, user="U-1")
        second = consult(client, bot(), "もう死にたい。今日食べるものもない", user="U-2")
        consult(client, bot(), COMPOUND, user="U-3")  # not urgent: no alert
        alerts = client.get("/api/v1/alerts", headers=coord)
        assert alerts.status_code == 200
        listed = alerts.json()
        assert [a["id"] for a in listed] == [second["alert_id"], first["alert_id"]]
        assert listed[1]["case_id"] == first["case_id"]
        assert listed[1]["consultation_id"] == first["consultation_id"]
        assert "suicide_risk" in listed[0]["reasons"]
        assert listed[0]["acknowledged_at"] is None

        ack = client.post(f"/api/v1/alerts/{second['alert_id']}/acknowledge", headers=coord)
        assert ack.status_code == 200 and ack.json()["acknowledged_at"]
        again = client.post(f"/api/v1/alerts/{second['alert_id']}/acknowledge", headers=coord)
        assert again.json()["acknowledged_at"] == ack.json()["acknowledged_at"]
        ordered = [a["id"] for a in client.get("/api/v1/alerts", headers=coord).json()]
        assert ordered == [first["alert_id"], second["alert_id"]]
        pending = client.get("/api/v1/alerts?acknowledged=false", headers=coord).json()
        assert [a["id"] for a in pending] == [first["alert_id"]]
        done = client.get("/api/v1/alerts?acknowledged=true", headers=coord).json()
        assert [a["id"] for a in done] == [second["alert_id"]]
        actions = [e.action for e in audit_events(db, "alert", second["alert_id"])]
        assert actions.count("acknowledge") == 1

    def test_other_towns_and_roles(self, client, bot, coord, staff):
        alert_id = consult(client, bot(), COMPOUND_URGENT)["alert_id"]
        tomiya = staff("coordinator", "tomiya")
        assert client.get("/api/v1/alerts", headers=tomiya).json() == []
        assert (
            client.post(f"/api/v1/alerts/{alert_id}/acknowledge", headers=tomiya).status_code == 404
        )
        for role, body in (("body_staff", HOUKATSU), ("admin", None), ("outreach", None)):
            auth = staff(role, body=body)
            assert client.get("/api/v1/alerts", headers=auth).status_code == 403
            assert (
                client.post(f"/api/v1/alerts/{alert_id}/acknowledge", headers=auth).status_code
                == 403
            )


# --- least privilege ------------------------------------------------------------------------


def case_routes(case_id: str, consent_id: str) -> list[tuple[str, str, dict | None]]:
    base = f"/api/v1/cases/{case_id}"
    return [
        ("GET", base, None),
        ("POST", f"{base}/status", {"status": "planning"}),
        ("POST", f"{base}/close", {"reason": "x"}),
        (
            "POST",
            f"{base}/consents",
            {
                "purpose": "referral",
                "recipients": [HOUKATSU],
                "shown_text": "x",
                "captured_via": "document",
                "agreed": True,
            },
        ),
        ("POST", f"{base}/meetings", meeting("support_meeting", attendee(HOUKATSU))),
        ("GET", f"{base}/meetings", None),
        ("PUT", f"{base}/plan", PLAN),
        ("GET", f"{base}/plan", None),
        ("POST", f"{base}/monitoring", {"note": "x"}),
        ("POST", f"/api/v1/consents/{consent_id}/revoke", None),
    ]


class TestAccess:
    @pytest.fixture
    def target(self, client, bot, coord, db):
        case_id = new_case(client, bot)
        client.put(f"/api/v1/cases/{case_id}/plan", headers=coord, json=PLAN)
        consent_id = db.scalar(select(Consent.id))
        db.rollback()
        return case_id, consent_id

    def test_another_municipality_gets_404_and_an_empty_queue(self, client, staff, target, db):
        case_id, consent_id = target
        tomiya = staff("coordinator", "tomiya")
        assert client.get("/api/v1/cases", headers=tomiya).json() == {
            "cases": [],
            "overdue_referrals": [],
        }
        for method, url, body in case_routes(case_id, consent_id):
            answer = client.request(method, url, headers=tomiya, json=body)
            assert answer.status_code == 404, (method, url)
        # every attempt on the case itself is audited as denied (the consent's have their own)
        on_case = [url for _, url, _ in case_routes(case_id, consent_id) if case_id in url]
        assert events(db, "denied", "case", case_id) == len(on_case) > 0
        assert db.get(Case, case_id).status == "planning"
        assert db.get(Consent, consent_id).revoked_at is None
        db.rollback()

    @pytest.mark.parametrize(
        ("role", "body"), [("body_staff", HOUKATSU), ("body_staff", TAJIKAN), ("outreach", None)]
    )
    def test_other_roles_get_403(self, client, staff, target, role, body):
        case_id, consent_id = target
        auth = staff(role, body=body)
        assert client.get("/api/v1/cases", headers=auth).status_code == 403
        for method, url, payload in case_routes(case_id, consent_id):
            answer = client.request(method, url, headers=auth, json=payload)
            assert answer.status_code == 403, (method, url)

    def test_bot_and_anonymous_are_refused(self, client, bot, target):
        case_id, _ = target
        assert client.get("/api/v1/cases", headers=bot()).status_code == 403
        assert client.get(f"/api/v1/cases/{case_id}").status_code == 401

    def test_unknown_ids_are_404(self, client, coord):
        assert client.get("/api/v1/cases/nope", headers=coord).status_code == 404
        assert client.post("/api/v1/consents/nope/revoke", headers=coord).status_code == 404
        assert client.post("/api/v1/alerts/nope/acknowledge", headers=coord).status_code == 404
