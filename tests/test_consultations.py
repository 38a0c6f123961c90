"""POST /api/v1/consultations: triage on the server, person, consent, referral, case, alert."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from api.db.models import Alert, AuditEvent, Case, Consent, Consultation, Person, Referral
from api.services.deadlines import JST
from tests.intake import COMPOUND, ELDERLY, NOTHING, URGENT, consult, intake

URL = "/api/v1/consultations"


def count(db, model) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


def test_single_domain_goes_to_its_body_with_a_deadline(client, bot, db):
    created = consult(client, bot(), ELDERLY)
    assert created["triage"]["route"] == "elderly"
    [referral] = created["referrals"]
    assert (referral["body_id"], referral["status"]) == ("atsuma-houkatsu", "sent")
    assert created["case_id"] is None and created["alert_id"] is None
    due = datetime.fromisoformat(referral["due_at"]).astimezone(JST)
    assert due.time().isoformat() == "17:15:00"
    assert due.date() > datetime.now(JST).date()
    stored = db.get(Consultation, created["consultation_id"])
    assert stored.texts == [ELDERLY] and stored.route == "elderly"


def test_compound_case_goes_to_the_coordinator_queue(client, bot, db):
    created = consult(client, bot(), COMPOUND)
    assert created["triage"]["compound"] is True
    assert [r["body_id"] for r in created["referrals"]] == ["atsuma-tajikan"]
    case = db.get(Case, created["case_id"])
    assert case.status == "open" and "8050" in case.patterns
    consent = db.scalar(select(Consent).where(Consent.person_id == created["person_id"]))
    assert consent.recipients[0] == "atsuma-tajikan" and consent.agreed


def test_urgent_raises_an_alert_due_the_same_day(client, bot, db):
    created = consult(client, bot(), URGENT)
    assert created["triage"]["urgent"] is True
    alert = db.get(Alert, created["alert_id"])
    assert set(alert.reasons) == {"no_food", "suicide_risk"}
    [referral] = created["referrals"]
    due = datetime.fromisoformat(referral["due_at"]).astimezone(JST)
    assert due.date() == datetime.now(JST).date()
    assert created["triage"]["emergency"], "an urgent answer carries the emergency lines"


def test_no_need_recognised_still_goes_to_the_general_window(client, bot):
    created = consult(client, bot(), NOTHING)
    assert created["triage"]["route"] == "general"
    assert created["referrals"][0]["body_id"] == "atsuma-fukushi"


def test_the_server_triages_and_ignores_a_clients_triage(client, bot):
    body = intake(COMPOUND, triage={"route": "general", "urgent": False})
    response = client.post(URL, headers=bot(), json=body)
    assert response.status_code == 201
    assert response.json()["triage"]["route"] == "coordinator"


def test_catchment_area_picks_the_body(client, bot):
    created = consult(client, bot("tomiya"), ELDERLY, municipality="tomiya", area="成田")
    assert created["referrals"][0]["body_id"] != "tomiya-hoken-center"
    assert created["referrals"][0]["body_id"].startswith("tomiya-houkatsu")


def test_several_turns_are_triaged_together(client, bot, db):
    body = intake("", texts=["母が認知症です。", "息子は50代で、ずっとひきこもっています"])
    body.pop("text")
    response = client.post(URL, headers=bot(), json=body)
    assert response.status_code == 201
    created = response.json()
    assert created["triage"]["compound"] is True
    assert len(db.get(Consultation, created["consultation_id"]).texts) == 2


def test_the_same_channel_user_is_the_same_person(client, bot, db):
    auth = bot()
    first = consult(client, auth, ELDERLY, user="U-same")
    again = consult(client, auth, NOTHING, user="U-same")
    other = consult(client, auth, NOTHING, user="U-other")
    assert first["person_id"] == again["person_id"] != other["person_id"]
    assert count(db, Person) == 2


def test_household_and_contact_are_kept(client, bot, db):
    created = consult(
        client,
        bot(),
        COMPOUND,
        household=[{"relation": "母", "age": 85}, {"relation": "息子", "age": 52}],
        contact={"method": "phone", "name": "山田 花子", "phone": "090-0000-0000"},
    )
    person = db.get(Person, created["person_id"])
    assert (person.name, person.phone) == ("山田 花子", "090-0000-0000")
    stored = db.get(Consultation, created["consultation_id"])
    assert stored.contact["method"] == "phone" and "phone" not in stored.contact


def test_an_open_case_grows_instead_of_a_second_case(client, bot, db):
    auth = bot()
    first = consult(client, auth, COMPOUND, user="U-case")
    second = consult(client, auth, "娘は中学生で不登校です。母の介護もあります", user="U-case")
    assert first["case_id"] == second["case_id"]
    assert count(db, Case) == 1
    on_case = select(AuditEvent.action).where(AuditEvent.object_type == "case")
    audited = db.scalars(on_case.order_by(AuditEvent.seq)).all()
    assert audited == ["create", "update"]  # the second consultation grew the case


class TestIdempotency:
    def test_a_retry_gets_the_first_answer_and_creates_nothing(self, client, bot, db):
        auth = bot() | {"Idempotency-Key": "intake-42"}
        first = client.post(URL, headers=auth, json=intake(COMPOUND))
        again = client.post(URL, headers=auth, json=intake(COMPOUND))
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json()["consultation_id"] == first.json()["consultation_id"]
        assert again.json()["replayed"] is True
        assert (count(db, Consultation), count(db, Referral), count(db, Case)) == (1, 1, 1)

    def test_the_same_key_with_another_body_is_a_conflict(self, client, bot):
        auth = bot() | {"Idempotency-Key": "intake-43"}
        assert client.post(URL, headers=auth, json=intake(ELDERLY)).status_code == 201
        response = client.post(URL, headers=auth, json=intake(NOTHING))
        assert response.status_code == 409
        assert response.json()["code"] == "idempotency_conflict"

    def test_keys_belong_to_their_sender(self, client, bot, staff):
        key = {"Idempotency-Key": "same-key"}
        a = client.post(URL, headers=bot() | key, json=intake(ELDERLY))
        b = client.post(URL, headers=staff("outreach") | key, json=intake(ELDERLY))
        assert (a.status_code, b.status_code) == (201, 201)
        assert a.json()["consultation_id"] != b.json()["consultation_id"]


DANGER = "もう死にたいです"
REST = "仕事をなくして家賃が払えません"


def urgent_first(client, auth: dict[str, str], user: str = "U-danger") -> dict:
    """What the bot sends at the first sign of danger: the words so far, consent not asked."""
    return consult(client, auth, DANGER, user=user, consent=False)


def completion(consultation_id: str, user: str = "U-danger", **extra) -> dict:
    return intake(
        None,
        user=user,
        texts=[DANGER, REST],
        contact={"method": "phone", "phone": "090-0000-0001"},
        completes=consultation_id,
        **extra,
    )


class TestCompletion:
    """The rest of an intake completes the urgent consultation sent before it was asked."""

    def test_one_consultation_gains_the_rest(self, client, bot, db):
        auth = bot()
        first = urgent_first(client, auth)
        response = client.post(URL, headers=auth, json=completion(first["consultation_id"]))
        assert response.status_code == 200, response.text
        done = response.json()
        assert done["consultation_id"] == first["consultation_id"]
        assert done["alert_id"] == first["alert_id"] and done["replayed"] is False
        # the first referral stands; the fuller picture adds the body it routes to
        assert [r["body_id"] for r in done["referrals"]] == ["atsuma-fukushi", "atsuma-jiritsu"]
        assert (count(db, Consultation), count(db, Alert), count(db, Referral)) == (1, 1, 2)
        db.expire_all()
        stored = db.get(Consultation, first["consultation_id"])
        assert stored.texts == [DANGER, REST] and stored.urgent and stored.route == "poverty"
        assert stored.contact["method"] == "phone"
        assert db.get(Person, stored.person_id).phone == "090-0000-0001"
        consents = db.scalars(select(Consent).order_by(Consent.captured_at)).all()
        assert [c.agreed for c in consents] == [False, True]
        assert "atsuma-jiritsu" in consents[1].recipients
        urgent_referral, new_referral = db.scalars(
            select(Referral).order_by(Referral.created_at)
        ).all()
        assert urgent_referral.disclosure_basis == "vital_interest"
        assert new_referral.urgent and new_referral.disclosure_basis == "consent"
        events = db.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        assert ("update", "consultation") in [(e.action, e.object_type) for e in events]

    def test_a_compound_picture_opens_the_case_for_both_referrals(self, client, bot, db):
        auth = bot()
        first = urgent_first(client, auth)
        body = completion(first["consultation_id"]) | {"texts": [DANGER, COMPOUND]}
        done = client.post(URL, headers=auth, json=body).json()
        assert done["case_id"] and done["triage"]["compound"] is True
        assert {r.case_id for r in db.scalars(select(Referral))} == {done["case_id"]}
        assert db.get(Case, done["case_id"]).urgent

    def test_a_retry_of_the_completion_changes_nothing(self, client, bot, db):
        auth = bot()
        first = urgent_first(client, auth)
        body, key = completion(first["consultation_id"]), {"Idempotency-Key": "complete-1"}
        once, again = (client.post(URL, headers=auth | key, json=body) for _ in range(2))
        assert (once.status_code, again.status_code) == (200, 200)
        assert again.json()["replayed"] is True
        assert (count(db, Consultation), count(db, Referral), count(db, Consent)) == (1, 2, 2)

    def test_only_its_sender_for_the_same_person_may_complete_it(self, client, bot, db):
        auth = bot()
        first = urgent_first(client, auth)
        calm = consult(client, auth, ELDERLY, user="U-calm")
        refused = [
            client.post(URL, headers=bot(), json=completion(first["consultation_id"])),
            client.post(URL, headers=auth, json=completion(first["consultation_id"], "U-other")),
            client.post(URL, headers=auth, json=completion(calm["consultation_id"], "U-calm")),
            client.post(URL, headers=auth, json=completion("no-such-consultation")),
        ]
        assert [(r.status_code, r.json()["code"]) for r in refused] == [
            (409, "not_completable")
        ] * 4
        assert (count(db, Consultation), count(db, Consent), count(db, Referral)) == (2, 2, 2)
        db.expire_all()
        assert db.get(Consultation, first["consultation_id"]).texts == [DANGER]


class TestRefusals:
    def test_no_token_or_a_bad_one(self, client):
        assert client.post(URL, json=intake()).status_code == 401
        bad = {"Authorization": "Bearer not-a-token"}
        response = client.post(URL, headers=bad, json=intake())
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"

    def test_a_token_for_another_municipality(self, client, bot, db):
        response = client.post(URL, headers=bot("tomiya"), json=intake(municipality="atsuma"))
        assert response.status_code == 403
        assert count(db, Consultation) == 0

    def test_admins_do_not_take_consultations(self, client, staff):
        assert client.post(URL, headers=staff("admin"), json=intake()).status_code == 403

    @pytest.mark.parametrize("text", ["", "   \n　"])
    def test_empty_text(self, client, bot, db, text):
        response = client.post(URL, headers=bot(), json=intake(text))
        assert response.status_code == 422
        assert response.json()["code"] == "text_empty"
        assert count(db, Consultation) == 0

    def test_text_too_long_is_refused_without_echo(self, client, bot):
        response = client.post(URL, headers=bot(), json=intake("あ" * 20_001))
        assert response.status_code == 413
        assert "あああ" not in response.text

    def test_malformed_json(self, client, bot):
        headers = bot() | {"Content-Type": "application/json"}
        response = client.post(URL, headers=headers, content=b'{"municipality": "atsuma",')
        assert response.status_code == 422
        assert response.json()["code"] == "malformed_json"

    def test_missing_consent_names_the_field(self, client, bot):
        body = intake()
        del body["consent"]
        response = client.post(URL, headers=bot(), json=body)
        assert response.status_code == 422
        assert "consent" in response.json()["message"]


def test_creation_is_audited_in_the_chain(client, bot, db):
    created = consult(client, bot(), COMPOUND)
    events = db.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [(e.action, e.object_type) for e in events] == [
        ("create", "consultation"),
        ("create", "referral"),
        ("create", "case"),
    ]
    assert events[0].object_id == created["consultation_id"]
    assert events[1].prev_hash == events[0].hash
    assert all(e.request_id for e in events)


def test_a_database_that_is_down_gets_a_clear_503(monkeypatch):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from api.settings import get_settings

    monkeypatch.setenv("TSUNAGU_DATABASE_URL", "postgresql://postgres@127.0.0.1:9/none")
    get_settings.cache_clear()
    try:
        with TestClient(create_app()) as client:
            response = client.post(URL, headers={"Authorization": "Bearer x"}, json=intake(URGENT))
    finally:
        get_settings.cache_clear()
    assert response.status_code == 503
    assert response.json()["code"] == "database_unavailable"
    assert "死にたい" not in response.text


def test_deadlines_follow_the_office_calendar():
    from api.services.deadlines import acknowledgement_due

    friday = datetime(2026, 11, 20, 10, tzinfo=JST)  # Monday 11/23 is 勤労感謝の日
    assert acknowledgement_due(friday, 2, False) == datetime(2026, 11, 25, 17, 15, tzinfo=JST)
    year_end = datetime(2026, 12, 28, 16, tzinfo=JST)  # offices close 12/29 to 1/3
    assert acknowledgement_due(year_end, 2, False).date().isoformat() == "2027-01-05"
    late_night = datetime(2026, 11, 24, 23, 0, tzinfo=JST)
    assert acknowledgement_due(late_night, 2, True) - late_night < timedelta(hours=1)
