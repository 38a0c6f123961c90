"""GET /api/v1/stats: the figures match what was recorded; the fiscal year is Japan's 年度."""

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from api.db.models import AuditEvent, Case, Consultation, Meeting, Referral
from api.services.stats import JST, fiscal_year_of
from tests.intake import COMPOUND, ELDERLY, URGENT
from tests.intake import consult as shared_consult

URL = "/api/v1/stats"
CHILD = "子どもが学校に行けなくなって、どこに相談したらいいかわかりません"
YEAR = 2024
IN_YEAR = datetime(2024, 10, 1, 10, 0, tzinfo=JST)


def consult(client, auth, text, user, channel="line", municipality="atsuma"):
    return shared_consult(client, auth, text, user=user, municipality=municipality, channel=channel)


def move(db, consultation_id: str, when: datetime) -> None:
    """Date a consultation, its referrals and its case as if made at `when`."""
    consultation = db.get(Consultation, consultation_id)
    consultation.created_at = when
    for referral in consultation.referrals:
        referral.created_at = when
    if consultation.case_id:
        db.get(Case, consultation.case_id).opened_at = when
    db.commit()


def stats(client, auth, year=YEAR, municipality="atsuma"):
    response = client.get(URL, headers=auth, params={"municipality": municipality, "year": year})
    assert response.status_code == 200, response.text
    return response.json()


def test_figures_match_the_consultations(client, db, bot, staff):
    auth = bot("atsuma")
    made = [
        consult(client, auth, COMPOUND, "U1"),
        consult(client, auth, ELDERLY, "U2"),
        consult(client, auth, ELDERLY, "U3", channel="sms"),
        consult(client, auth, URGENT, "U4"),
        consult(client, auth, CHILD, "U5", channel="web"),
    ]
    for answer in made:
        move(db, answer["consultation_id"], IN_YEAR)
    # Another town's consultation in the same year counts only there.
    other = consult(client, bot("tomiya"), ELDERLY, "T1", municipality="tomiya")
    move(db, other["consultation_id"], IN_YEAR)

    figures = stats(client, staff("coordinator"))

    triages = [m["triage"] for m in made]
    c = figures["consultations"]
    assert c["total"] == 5
    assert c["urgent"] == sum(t["urgent"] for t in triages) >= 1
    assert c["by_channel"]["line"] == 3 and c["by_channel"]["sms"] == 1
    assert c["by_channel"]["web"] == 1
    domains = Counter(d for t in triages for d in t["domains"])
    assert domains["elderly"] >= 3  # the compound text and the two elderly ones
    assert {k: v for k, v in c["by_domain"].items() if v} == dict(domains)
    patterns = Counter(p for t in triages for p in t["patterns"])
    assert patterns["8050"] == 1
    assert {k: v for k, v in c["by_pattern"].items() if v} == dict(patterns)
    assert {k: v for k, v in c["by_route"].items() if v} == dict(
        Counter(t["route"] for t in triages)
    )
    # Known labels are listed even at zero, so a town's table has every row.
    assert set(c["by_domain"]) >= {"elderly", "disability", "child", "poverty"}
    compound = figures["compound_cases"]
    assert compound["consultations"] == sum(t["compound"] for t in triages) >= 1
    assert compound["cases_opened"] == len({m["case_id"] for m in made if m["case_id"]})
    referrals = figures["referrals"]
    assert referrals["total"] == sum(len(m["referrals"]) for m in made)
    assert referrals["by_status"]["sent"] == referrals["total"]
    assert referrals["median_hours_to_acceptance"] is None


def test_meetings_cases_and_referral_outcomes(client, db, bot, staff):
    auth = bot("atsuma")
    first = consult(client, auth, COMPOUND, "U1")
    second = consult(client, auth, COMPOUND, "U2")
    third = consult(client, auth, COMPOUND, "U3")
    plain = [consult(client, auth, ELDERLY, f"E{i}") for i in range(3)]
    for answer in (first, second, third, *plain):
        move(db, answer["consultation_id"], IN_YEAR)

    def meeting(case_id: str, kind: str, held_on: date) -> None:
        basis = "support_meeting" if kind == "support_meeting" else "consent"
        db.add(Meeting(case_id=case_id, kind=kind, legal_basis=basis, held_on=held_on))

    # Case 1: a 支援会議 then two 重層的支援会議; case 2: a 支援会議 only; case 3: none in the
    # year (its meeting is held in the next 年度 and counts there).
    meeting(first["case_id"], "support_meeting", date(2024, 11, 1))
    meeting(first["case_id"], "multi_agency_meeting", date(2024, 12, 1))
    meeting(first["case_id"], "multi_agency_meeting", date(2025, 3, 31))
    meeting(second["case_id"], "support_meeting", date(2025, 1, 15))
    meeting(third["case_id"], "multi_agency_meeting", date(2025, 4, 1))
    closed = db.get(Case, second["case_id"])
    closed.status, closed.closed_at = "closed", datetime(2025, 3, 1, tzinfo=JST)

    # Acceptance after 10, 30 and 2 hours (median 10); one completed, one rejected.
    waits = iter([10, 30, 2])
    for answer in plain:
        referral = db.get(Referral, answer["referrals"][0]["id"])
        referral.received_at = IN_YEAR + timedelta(hours=1)
        referral.accepted_at = IN_YEAR + timedelta(hours=next(waits))
        referral.status = "accepted"
    done = db.get(Referral, plain[0]["referrals"][0]["id"])
    done.status, done.outcome = "completed", "resolved"
    done.completed_at = IN_YEAR + timedelta(days=20)
    rejected = db.get(Referral, first["referrals"][0]["id"])
    rejected.status, rejected.received_at = "rejected", IN_YEAR + timedelta(hours=3)
    rejected.rejected_at = IN_YEAR + timedelta(hours=4)
    db.commit()

    figures = stats(client, staff("admin"))
    assert figures["meetings"] == {
        "total": 4,
        "by_kind": {"support_meeting": 2, "multi_agency_meeting": 2},
    }
    compound = figures["compound_cases"]
    assert compound["cases_opened"] == 3
    assert compound["cases_by_meeting"] == {
        "multi_agency_meeting": 1,
        "support_meeting_only": 1,
        "no_meeting": 1,
    }
    assert compound["cases_closed"] == 1
    referrals = figures["referrals"]
    assert referrals["total"] == 6
    assert referrals["by_status"]["accepted"] == 2
    assert referrals["by_status"]["completed"] == 1
    assert referrals["by_status"]["rejected"] == 1
    assert referrals["by_status"]["sent"] == 2
    assert referrals["by_outcome"]["resolved"] == 1
    assert sum(referrals["by_outcome"].values()) == 1
    assert referrals["accepted"] == 3
    assert referrals["median_hours_to_acceptance"] == pytest.approx(10.0)

    next_year = stats(client, staff("admin"), year=YEAR + 1)
    assert next_year["meetings"]["by_kind"] == {"support_meeting": 0, "multi_agency_meeting": 1}
    assert next_year["consultations"]["total"] == 0


def test_median_of_an_even_count_is_the_mean_of_the_middle_two(client, db, bot, staff):
    auth = bot("atsuma")
    for i, hours in enumerate((1.5, 4.5)):
        answer = consult(client, auth, ELDERLY, f"E{i}")
        move(db, answer["consultation_id"], IN_YEAR)
        referral = db.get(Referral, answer["referrals"][0]["id"])
        referral.status, referral.accepted_at = "accepted", IN_YEAR + timedelta(hours=hours)
        db.commit()
    assert stats(client, staff("coordinator"))["referrals"]["median_hours_to_acceptance"] == 3.0


def test_the_fiscal_year_runs_april_to_march_in_japan_time(client, db, bot, staff):
    auth = bot("atsuma")
    moments = {
        "U-start": datetime(2024, 4, 1, 0, 0, tzinfo=JST),  # first instant of 2024年度
        "U-last": datetime(2025, 3, 31, 23, 30, tzinfo=JST),  # still 2024年度 (14:30 UTC)
        "U-next": datetime(2025, 4, 1, 0, 10, tzinfo=JST),  # 2025年度, yet 31 March in UTC
        "U-before": datetime(2024, 3, 31, 23, 59, tzinfo=JST),  # 2023年度
    }
    for user, when in moments.items():
        move(db, consult(client, auth, ELDERLY, user)["consultation_id"], when)

    coordinator = staff("coordinator")
    figures = stats(client, coordinator, year=2024)
    assert figures["fiscal_year"] == 2024
    assert (figures["from"], figures["to"]) == ("2024-04-01", "2025-03-31")
    assert figures["timezone"] == "Asia/Tokyo"
    assert figures["consultations"]["total"] == 2
    assert stats(client, coordinator, year=2025)["consultations"]["total"] == 1
    assert stats(client, coordinator, year=2023)["consultations"]["total"] == 1


def test_fiscal_year_of():
    assert fiscal_year_of(datetime(2025, 3, 31, 23, 59, tzinfo=JST)) == 2024
    assert fiscal_year_of(datetime(2025, 4, 1, 0, 0, tzinfo=JST)) == 2025
    # 15:30 UTC on 31 March is already 1 April in Japan.
    assert fiscal_year_of(datetime(2025, 3, 31, 15, 30, tzinfo=UTC)) == 2025


def test_default_is_the_own_town_and_the_current_year(client, bot, staff):
    consult(client, bot("atsuma"), ELDERLY, "U1")
    response = client.get(URL, headers=staff("coordinator"))
    assert response.status_code == 200, response.text
    figures = response.json()
    assert figures["municipality"] == "atsuma"
    assert figures["fiscal_year"] == fiscal_year_of(datetime.now(JST))
    assert figures["consultations"]["total"] == 1


@pytest.mark.parametrize("role", ["body_staff", "outreach"])
def test_roles_without_stats_read_get_403(client, staff, role):
    body = "atsuma-houkatsu" if role == "body_staff" else None
    response = client.get(URL, headers=staff(role, body=body), params={"year": YEAR})
    assert response.status_code == 403


def test_bot_gets_403(client, bot):
    assert client.get(URL, headers=bot("atsuma"), params={"year": YEAR}).status_code == 403


def test_another_town_is_refused(client, staff):
    response = client.get(
        URL, headers=staff("coordinator", "tomiya"), params={"municipality": "atsuma"}
    )
    assert response.status_code == 403


def test_aggregates_only_and_audited_once(client, db, bot, staff):
    answer = consult(client, bot("atsuma"), COMPOUND, "U-secret")
    move(db, answer["consultation_id"], IN_YEAR)
    before = db.scalar(select(func.count()).select_from(AuditEvent))
    db.commit()  # end the read: SQLite holds its write lock until then

    response = client.get(URL, headers=staff("admin"), params={"year": YEAR})
    assert response.status_code == 200
    text = response.text
    for secret in ("認知症", "U-secret", answer["consultation_id"], answer["person_id"]):
        assert secret not in text
    events = db.scalars(select(AuditEvent).where(AuditEvent.seq > before)).all()
    db.commit()  # end the read: SQLite holds its write lock until then
    assert [(e.action, e.object_type, e.object_id) for e in events] == [
        ("read", "stats", f"atsuma:{YEAR}")
    ]
