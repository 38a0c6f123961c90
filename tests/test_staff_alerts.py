"""The coordinator's page of urgent alerts (緊急アラート) over plain HTTP: the town's alerts,
open first, with why each is urgent and where to act on it, and a button that acknowledges
one through the API's own service. Fictional people."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from api.db.models import Alert, AuditEvent, utcnow
from tests.intake import COMPOUND, URGENT, consult
from tests.rows import count, events, fields
from tests.staff import account, csrf_of, log_in
from tests.test_staff_conversations import labelled

PAGE = "/staff/alerts"


def urgent(client, bot, user: str, text: str = URGENT, municipality: str = "atsuma") -> dict:
    """An urgent consultation handed in by the bot: its alert, referral and case."""
    return consult(client, bot(municipality), text, user=user, municipality=municipality)


def raised_minutes_ago(db, alert_id: str, minutes: int) -> None:
    at = utcnow() - timedelta(minutes=minutes)
    db.execute(update(Alert).where(Alert.id == alert_id).values(created_at=at))
    db.commit()


def test_the_page_lists_the_towns_alerts_open_first_with_where_to_act(client, db, bot):
    user_id = account(db, "sato", "coordinator").id
    older = urgent(client, bot, "U-al-older")
    newer = urgent(client, bot, "U-al-newer", "もう死にたい。" + COMPOUND)  # compound: a case
    done = urgent(client, bot, "U-al-done")
    raised_minutes_ago(db, older["alert_id"], 90)
    raised_minutes_ago(db, newer["alert_id"], 30)
    db.execute(
        update(Alert)
        .where(Alert.id == done["alert_id"])
        .values(acknowledged_at=utcnow(), acknowledged_by=user_id)
    )
    db.commit()
    elsewhere = urgent(client, bot, "U-al-tomiya", municipality="tomiya")

    log_in(client, "sato")
    cases = client.get("/staff/cases")
    assert f'href="{PAGE}"' in cases.text and "緊急アラート" in cases.text
    page = client.get(PAGE)
    assert page.status_code == 200 and '<html lang="ja">' in page.text
    labelled(page.text)
    # Open first (newest first among them), then the acknowledged one.
    at = [page.text.index(f'id="alert-{c["alert_id"]}"') for c in (newer, older, done)]
    assert at == sorted(at)
    assert f'id="alert-{elsewhere["alert_id"]}"' not in page.text
    newer_row, older_row, done_row = (
        page.text[at[0] : at[1]],
        page.text[at[1] : at[2]],
        page.text[at[2] :],
    )
    assert "希死念慮・自傷" in older_row and "今日の食べ物・お金がない" in older_row
    assert f'href="/staff/referrals/{older["referrals"][0]["id"]}"' in older_row
    assert f'href="/staff/cases/{newer["case_id"]}"' in newer_row
    assert "未確認" in older_row and f'action="{PAGE}/{older["alert_id"]}/acknowledge"' in older_row
    assert "確認済み（satoさん・" in done_row and "/acknowledge" not in done_row
    assert "死にたい" not in page.text  # the resident's words never appear here
    # Audited as the API's reads (basis duty), and the referrals it links to as listed.
    for created in (older, newer, done):
        assert events(db, "read", "alert", created["alert_id"]) == 1
        referral = created["referrals"][0]["id"]
        listed = (AuditEvent.object_id == referral, AuditEvent.basis == "duty")
        assert count(db, AuditEvent, AuditEvent.action == "read", *listed) == 1
    assert events(db, "read", "alert", elsewhere["alert_id"]) == 0


def test_acknowledging_from_the_page_marks_it_once_and_audits(client, db, bot):
    user_id = account(db, "sato", "coordinator").id
    alert_id = urgent(client, bot, "U-al-1")["alert_id"]
    log_in(client, "sato")
    token = csrf_of(client.get(PAGE).text)
    url = f"{PAGE}/{alert_id}/acknowledge"
    done = client.post(url, data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"{PAGE}?ok=acknowledged"
    acknowledged = fields(db, Alert, alert_id, "acknowledged_at", "acknowledged_by")
    assert acknowledged[0] is not None and acknowledged[1] == user_id
    after = client.get(done.headers["location"])
    assert "確認済みにしました。" in after.text and "確認済み（satoさん・" in after.text
    assert f'action="{url}"' not in after.text
    # Again (a second tab): the first acknowledgement stays, audited as a read.
    assert client.post(url, data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert fields(db, Alert, alert_id, "acknowledged_at", "acknowledged_by") == acknowledged
    made = (
        AuditEvent.object_id == alert_id,
        AuditEvent.actor == user_id,
        AuditEvent.basis == "duty",
    )
    assert count(db, AuditEvent, AuditEvent.action == "acknowledge", *made) == 1


def test_without_the_csrf_token_nothing_is_acknowledged(client, db, bot):
    account(db, "sato", "coordinator")
    alert_id = urgent(client, bot, "U-al-1")["alert_id"]
    log_in(client, "sato")
    url = f"{PAGE}/{alert_id}/acknowledge"
    assert client.post(url, data={}, follow_redirects=False).status_code == 403
    assert client.post(url, data={"csrf_token": "x"}).status_code == 403
    assert fields(db, Alert, alert_id, "acknowledged_at") == (None,)
    assert events(db, "acknowledge", "alert") == 0


def test_body_staff_may_neither_open_nor_acknowledge(client, db, bot):
    account(db, "suzuki", "body_staff", "atsuma-fukushi")
    alert_id = urgent(client, bot, "U-al-1")["alert_id"]
    log_in(client, "suzuki")
    assert client.get(PAGE).status_code == 403
    inbox = client.get("/staff/referrals")
    assert f'href="{PAGE}"' not in inbox.text
    posted = client.post(f"{PAGE}/{alert_id}/acknowledge", data={"csrf_token": csrf_of(inbox.text)})
    assert posted.status_code == 403
    assert fields(db, Alert, alert_id, "acknowledged_at") == (None,)
    assert events(db, "read", "alert") == 0


def test_another_towns_alert_is_404_and_audited_as_denied(client, db, bot):
    account(db, "sato", "coordinator")
    alert_id = urgent(client, bot, "U-al-1", municipality="tomiya")["alert_id"]
    log_in(client, "sato")
    token = csrf_of(client.get("/staff/cases").text)
    posted = client.post(f"{PAGE}/{alert_id}/acknowledge", data={"csrf_token": token})
    assert posted.status_code == 404 and "見つかりません" in posted.text
    assert (
        client.post(f"{PAGE}/no-such-id/acknowledge", data={"csrf_token": token}).status_code == 404
    )
    assert fields(db, Alert, alert_id, "acknowledged_at") == (None,)
    assert (events(db, "denied", "alert", alert_id), events(db, "denied", "alert")) == (1, 2)
    empty = client.get(PAGE)
    assert empty.status_code == 200 and "アラートはありません。" in empty.text


def test_the_case_queue_says_how_many_alerts_are_open(client, db, bot):
    account(db, "sato", "coordinator")
    first = urgent(client, bot, "U-al-1")["alert_id"]
    urgent(client, bot, "U-al-2")
    urgent(client, bot, "U-al-3", municipality="tomiya")  # another town's: not counted
    log_in(client, "sato")
    banner = '<a href="/staff/alerts">未確認の緊急アラートが 2 件あります。</a>'
    assert banner in client.get("/staff/cases").text
    token = csrf_of(client.get(PAGE).text)
    client.post(f"{PAGE}/{first}/acknowledge", data={"csrf_token": token})
    reads = events(db, "read", "alert")
    assert "未確認の緊急アラートが 1 件あります。" in client.get("/staff/cases").text
    assert events(db, "read", "alert") == reads  # a count discloses no alert
