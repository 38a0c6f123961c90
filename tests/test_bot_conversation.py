"""A resident talks to the real bot: Rasa server, action server and API, each its own process.

The resident writes through Rasa's REST channel as the web chat would (buttons send their
payloads, as the channels do), and the tests look in the API's database for what arrived.
The whole module shares one trained model (tests/botstack.py trains it once).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from actions.wording import when
from api.db.models import (
    Alert,
    ChannelIdentity,
    Consent,
    Consultation,
    HandoverRequest,
    Person,
    Referral,
)
from tests.botstack import RASA, RASA_ENV, ROOT, BotStack, bot_stack, train_model

SAKURA = "tomiya-houkatsu-sakura"  # 東向陽台・成田圏域地域包括支援センター（さくら）


@pytest.fixture(scope="module")
def model() -> Path:
    return train_model()


@pytest.fixture(scope="module")
def stack(model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotStack]:
    with bot_stack(tmp_path_factory.mktemp("bot")) as running:
        yield running


def texts(answers: list[dict]) -> str:
    return "\n".join(a.get("text", "") for a in answers)


def consultations_of(stack: BotStack, sender: str) -> list[Consultation]:
    with Session(create_engine(stack.database_url)) as db:
        person_id = db.scalar(
            select(ChannelIdentity.person_id).where(ChannelIdentity.external_id == sender)
        )
        query = select(Consultation).where(Consultation.person_id == person_id)
        return list(db.scalars(query.order_by(Consultation.created_at)))


def test_a_consultation_reaches_the_right_body_with_consent(stack: BotStack) -> None:
    sender = "web-test-elderly"
    first = stack.say(sender, "成田に住んでいる母が認知症で、物忘れがひどくなってきました")
    assert "ほかにも" in texts(first)
    assert "だれの こと" in texts(stack.say(sender, "/nothing_more"))
    # the area was in the worry (成田), so the bot goes on to how to be contacted
    assert "れんらく" in texts(stack.say(sender, '/who_about{"about": "家族"}'))
    assert "ばんごう" in texts(stack.say(sender, '/give_contact{"contact_method": "phone"}'))
    consent_question = texts(stack.say(sender, "０９０－１２３４－５６７８"))
    assert "つたえても いいですか" in consent_question
    summary = texts(stack.say(sender, "/affirm"))
    assert "たしかめます" in summary and "09012345678" in summary and "成田" in summary
    done = texts(stack.say(sender, "/affirm"))
    assert "東向陽台・成田圏域地域包括支援センター（さくら）" in done
    assert "でんわ します" in done

    (consultation,) = consultations_of(stack, sender)
    with Session(create_engine(stack.database_url)) as db:
        referral = db.scalar(select(Referral).where(Referral.consultation_id == consultation.id))
        consent = db.scalar(select(Consent).where(Consent.consultation_id == consultation.id))
        person = db.get(Person, consultation.person_id)
    assert consultation.channel == "web" and consultation.area == "成田"
    assert consultation.about == "家族" and consultation.domains == ["elderly"]
    assert consultation.texts == ["成田に住んでいる母が認知症で、物忘れがひどくなってきました"]
    assert referral.body_id == SAKURA and referral.disclosure_basis == "consent"
    assert f"{when(referral.due_at.replace(tzinfo=UTC))}に でんわ" in done  # the real deadline
    assert consent.agreed and SAKURA in consent.recipients
    assert "つたえても いいですか" in consent.shown_text and consent.captured_via == "web"
    assert person.phone == "09012345678"


def test_danger_gets_the_lines_at_once_and_is_sent_as_urgent(stack: BotStack) -> None:
    sender = "web-test-urgent"
    answer = texts(stack.say(sender, "もう死にたいです"))
    assert "0570-064-556" in answer  # こころの健康相談統一ダイヤル
    assert "いま つたえました" in answer and "ほかにも" in answer
    (consultation,) = consultations_of(stack, sender)  # sent before anything else was asked
    assert consultation.urgent
    with Session(create_engine(stack.database_url)) as db:
        assert db.scalar(select(Alert).where(Alert.consultation_id == consultation.id))
        referral = db.scalar(select(Referral).where(Referral.consultation_id == consultation.id))
    assert referral.urgent and referral.disclosure_basis == "vital_interest"


def test_the_rest_of_the_intake_completes_the_urgent_consultation(stack: BotStack) -> None:
    sender = "web-test-urgent-then-rest"
    stack.say(sender, "もう死にたいです")
    (urgent,) = consultations_of(stack, sender)
    summary = up_to_the_summary(stack, sender, "仕事をなくして家賃が払えません", "本人", "/affirm")
    assert "たしかめます" in summary
    done = texts(stack.say(sender, "/affirm"))
    assert "自立相談支援センター" in done  # the body the fuller picture routes to

    (consultation,) = consultations_of(stack, sender)  # one consultation, not two
    assert consultation.id == urgent.id and consultation.urgent
    assert consultation.texts == ["もう死にたいです", "仕事をなくして家賃が払えません"]
    with Session(create_engine(stack.database_url)) as db:
        consents = db.scalars(select(Consent).where(Consent.consultation_id == urgent.id)).all()
        referrals = db.scalars(
            select(Referral)
            .where(Referral.consultation_id == urgent.id)
            .order_by(Referral.created_at)
        )
        assert sorted(c.agreed for c in consents) == [False, True]
        assert [r.body_id for r in referrals] == ["tomiya-hoken-center", "tomiya-jiritsu"]
        assert (
            db.scalar(
                select(func.count()).select_from(Alert).where(Alert.consultation_id == urgent.id)
            )
            == 1
        )


def up_to_the_summary(stack: BotStack, sender: str, worry: str, about: str, consent: str) -> str:
    """Answers the form by its buttons (the area: rather not say; contact: this chat)."""
    for text in (worry, "/nothing_more", f'/who_about{{"about": "{about}"}}', "/deny"):
        stack.say(sender, text)
    stack.say(sender, '/give_contact{"contact_method": "channel"}')
    return texts(stack.say(sender, consent))


def test_a_resident_who_refuses_consent_is_still_received(stack: BotStack) -> None:
    sender = "web-test-no-consent"
    summary = up_to_the_summary(stack, sender, "仕事をなくして家賃が払えません", "本人", "/deny")
    assert "まどぐちに つたえる: いいえ" in summary
    assert "この チャットで れんらく" in texts(stack.say(sender, "/affirm"))
    (consultation,) = consultations_of(stack, sender)
    with Session(create_engine(stack.database_url)) as db:
        consent = db.scalar(select(Consent).where(Consent.consultation_id == consultation.id))
        referral = db.scalar(select(Referral).where(Referral.consultation_id == consultation.id))
    assert not consent.agreed and consent.recipients == []
    assert referral.body_id == "tomiya-jiritsu" and referral.disclosure_basis is None


def test_a_correction_at_the_summary(stack: BotStack) -> None:
    sender = "web-test-correction"
    up_to_the_summary(stack, sender, "息子が不登校で学校に行けていません", "家族", "/affirm")
    assert "どこを なおしますか" in texts(stack.say(sender, "/correct"))
    assert "ちく" in texts(stack.say(sender, '/correct{"field": "area"}'))
    assert "あけの平" in texts(stack.say(sender, "あけの平です"))
    stack.say(sender, "/affirm")
    (consultation,) = consultations_of(stack, sender)
    assert consultation.area == "あけの平" and consultation.domains == ["child"]


def test_asking_for_a_person_is_recorded(stack: BotStack) -> None:
    sender = "web-test-person"
    answer = texts(stack.say(sender, "/ask_for_person"))
    assert "へんじを します" in answer
    with Session(create_engine(stack.database_url)) as db:
        person_id = db.scalar(
            select(ChannelIdentity.person_id).where(ChannelIdentity.external_id == sender)
        )
        assert db.scalar(select(HandoverRequest).where(HandoverRequest.person_id == person_id))


def test_without_the_api_the_resident_is_received_and_nothing_is_lost(
    model: Path, tmp_path: Path
) -> None:
    with bot_stack(tmp_path, api_reachable=False) as stack:
        sender = "web-test-api-down"
        up_to_the_summary(stack, sender, "父の介護で毎日眠れません", "家族", "/affirm")
        assert "きえません" in texts(stack.say(sender, "/affirm"))
        (kept,) = stack.outbox.glob("*.json")
        body = json.loads(kept.read_text(encoding="utf-8"))
    assert body["texts"] == ["父の介護で毎日眠れません"] and body["consent"]["share_with_bodies"]
    assert kept.stat().st_mode & 0o077 == 0  # readable by the bot's user only


def test_the_test_conversations_pass(model: Path, tmp_path: Path) -> None:
    """`rasa test core` on tests/bot/: the model's intents and the dialogue's next actions."""
    stories = ROOT / "tests" / "bot" / "test_intake_stories.yml"
    result = subprocess.run(
        [RASA, "test", "core", "--model", str(model), "--stories", str(stories),
         "--out", str(tmp_path), "--no-plot", "--fail-on-prediction-errors"],
        cwd=ROOT, env=os.environ | RASA_ENV | {"TSUNAGU_MUNICIPALITY": "tomiya"},
        capture_output=True, text=True,
    )  # fmt: skip
    failed = tmp_path / "failed_test_stories.yml"
    detail = failed.read_text(encoding="utf-8") if failed.exists() else result.stdout[-3000:]
    assert result.returncode == 0, detail + result.stderr[-2000:]
    report = json.loads((tmp_path / "story_report.json").read_text(encoding="utf-8"))
    assert report["conversation_accuracy"]["correct"] >= 20
    assert report["conversation_accuracy"]["accuracy"] == 1.0
