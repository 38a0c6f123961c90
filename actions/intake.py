"""The intake form: what the worry is (several turns), whom it is about, the area, how to be
contacted, consent, and a summary to confirm or correct; then the hand-over to the API.

Nobody meets a dead end: whatever the resident writes while the form asks something it
cannot fill becomes part of the consultation, and the question comes again. Only the
interruptions below leave the form (rules in data/rules.yml answer them, then the form goes
on where it was).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.api import submit_consultation
from actions.settings import conversation_place
from actions.wording import UNKNOWN_AREA, summary, when
from routing_rules.directory import Municipality, load_municipality

# Messages the rules answer (the form is left for one turn): danger, a person, what is this.
INTERRUPTIONS = frozenset({"urgent", "ask_for_person", "ask_what_is_this"})
# Messages that start the form and are themselves the first words of the worry.
OPENERS = frozenset({"consult", "out_of_scope", "nlu_fallback"})
# What the summary's 「なおす」 buttons name, and the slots each one asks again.
CORRECTABLE = {
    "worry": ("worry", "more_worries", "worries"),
    "about": ("about",),
    "area": ("area",),
    "contact_method": ("contact_method", "phone"),
    "consent": ("consent",),
}
# Slots the form's checks set besides its own: the worry turns, and 「なおしたい」 pending.
OUTSIDE_FORM = ("worries", "fixing")
INTAKE_SLOTS = (
    "worries", "worry", "more_worries", "about", "area", "contact_method", "phone", "consent",
    "confirmed", "fixing", "urgent", "urgent_sent", "urgent_consultation_id",
)  # fmt: skip
# When the model finds no entity in an answer, these words still give it (first match wins).
KEYWORDS: dict[str, list[tuple[re.Pattern[str], str]]] = {
    "about": [
        (re.compile(r"近所|きんじょ|隣|となり|町内|地域の"), "近所の人"),
        (re.compile(r"仕事|職場|しごと|利用者|生徒|学校|担当|お客"), "仕事で関わっている人"),
        (re.compile(r"母|父|夫|妻|息子|娘|子|親|祖|孫|兄|姉|弟|妹|家族|かぞく|義|嫁|旦那"), "家族"),
        (re.compile(r"自分|じぶん|私|わたし|僕|ぼく|俺|おれ|本人|うち自身"), "本人"),
    ],
    "contact_method": [
        (re.compile(r"訪問|来て|きて|家に|うちに|会って|あって"), "visit"),
        (re.compile(r"電話|でんわ|携帯|けいたい|TEL|tel|ＴＥＬ"), "phone"),
        (re.compile(r"チャット|ここ|この|LINE|ライン|SMS|メール|メッセージ|このまま"), "channel"),
    ],
}
_PHONE = re.compile(r"0\d{9,10}")
_WRITTEN_PHONE = re.compile(r"0[\d\-‐ー−() ]{9,16}")
# The consent record of an intake sent at once on danger, before consent was asked (staff read it)
NOT_ASKED = "（同意の確認前に送信：生命・身体の危険のため）"


def intent_of(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def residents_words(tracker: Tracker) -> str | None:
    """The latest message as the resident wrote it, unless it was a button or an
    interruption (those are not part of the worry)."""
    text = (tracker.latest_message.get("text") or "").strip()
    if not text or text.startswith("/") or intent_of(tracker) in INTERRUPTIONS:
        return None
    return text


def _by_keywords(slot: str, tracker: Tracker) -> dict[str, Any]:
    """The requested slot's value from plain words, when the model found no entity."""
    if tracker.get_slot("requested_slot") != slot or tracker.get_slot(slot) is not None:
        return {}
    words = residents_words(tracker) or ""
    value = next((value for pattern, value in KEYWORDS[slot] if pattern.search(words)), None)
    return {slot: value} if value else {}


def town_of(tracker: Tracker) -> Municipality:
    return load_municipality(conversation_place(tracker)[0])


def with_worry(tracker: Tracker, text: str) -> list[str]:
    """The worry turns with ``text`` added. The form may validate one message twice (at
    activation and again when it asks the next question), so a repeat is not added."""
    worries = list(tracker.get_slot("worries") or [])
    return worries if worries and worries[-1] == text else [*worries, text]


def normalized_phone(text: str) -> str | None:
    """A Japanese phone number written in ``text`` (full-width, hyphens, brackets): digits."""
    written = _WRITTEN_PHONE.search(unicodedata.normalize("NFKC", text))
    digits = re.sub(r"\D", "", written[0]) if written else ""
    return digits if _PHONE.fullmatch(digits) else None


class ValidateIntakeForm(FormValidationAction):
    def name(self) -> str:
        return "validate_intake_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        # A number is asked only of those who want a phone call.
        slots = list(domain_slots)
        if tracker.get_slot("contact_method") == "phone" and "phone" not in slots:
            slots.insert(slots.index("contact_method") + 1, "phone")
        return slots

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events = await super().get_extraction_events(dispatcher, tracker, domain)
        requested = tracker.get_slot("requested_slot")
        filled = set(tracker.slots_to_validate()) | {e["name"] for e in events}
        words = residents_words(tracker)
        if requested and words and not filled:
            # Not an answer to the question: keep it as part of the consultation, ask again.
            events.append(SlotSet("worries", with_worry(tracker, words)))
        return events

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events = await super().get_validation_events(dispatcher, tracker, domain)
        # rasa-sdk keeps only the form's own slots; these, set on the way, count too
        validated = {e["name"] for e in events}
        recent = tracker.slots_to_validate()
        kept = [name for name in OUTSIDE_FORM if name in recent and name not in validated]
        return events + [SlotSet(name, recent[name]) for name in kept]

    # --- the worry, in as many turns as the resident needs ---------------------------------

    def extract_worry(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        requested = tracker.get_slot("requested_slot")
        opening = requested is None and intent_of(tracker) in OPENERS
        words = residents_words(tracker)
        return {"worry": words} if words and (requested == "worry" or opening) else {}

    def validate_worry(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not value:
            return {"worry": None}
        slots: dict[str, Any] = {"worry": value, "worries": with_worry(tracker, value)}
        if not tracker.get_slot("area"):  # a place named in the worry need not be asked
            found = town_of(tracker).find_area(value)
            if found:
                slots["area"] = found[0]
        return slots

    def extract_more_worries(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "more_worries":
            return {}
        intent = intent_of(tracker)
        if intent in ("nothing_more", "deny"):
            return {"more_worries": False}
        if intent == "affirm":  # 「はい、あります」: ask for it
            return {"worry": None}
        words = residents_words(tracker)
        # another worry: kept, and the question comes again
        return {"worries": with_worry(tracker, words)} if words else {}

    # --- answers the model may miss -------------------------------------------------------

    def extract_about(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return _by_keywords("about", tracker)

    def extract_contact_method(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        found = _by_keywords("contact_method", tracker)
        phone = normalized_phone(tracker.latest_message.get("text") or "")
        if phone and tracker.get_slot("requested_slot") == "contact_method":
            found = {"contact_method": "phone", "phone": phone}  # a number answers both
        return found

    # --- answers that need a check --------------------------------------------------------

    def validate_area(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not value or value == UNKNOWN_AREA:
            return {"area": value}
        return {"area": town_of(tracker).resolve_area(str(value))[:64]}

    def extract_phone(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "phone":
            return {}
        if intent_of(tracker) == "deny":  # would rather not give a number: use this chat
            dispatcher.utter_message(response="utter_contact_by_channel")
            return {"contact_method": "channel", "phone": None}
        phone = normalized_phone(tracker.latest_message.get("text") or "")
        return {"phone": phone} if phone else {}

    def validate_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {"phone": None}
        phone = normalized_phone(str(value))
        if phone is None:
            dispatcher.utter_message(response="utter_phone_invalid")
        return {"phone": phone}

    # --- the summary ----------------------------------------------------------------------

    def extract_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "confirmed":
            return {}
        intent = intent_of(tracker)
        if intent == "affirm":
            return {"confirmed": True}
        if intent in ("deny", "correct"):
            field = next(tracker.get_latest_entity_values("field"), None)
            reset = CORRECTABLE.get(field, ())
            # With a field, ask that again; without, action_ask_confirmed offers the fields.
            return {slot: None for slot in reset} | {"confirmed": None, "fixing": not field}
        return {}


class ActionAskConfirmed(Action):
    """Shows the summary, or, after 「なおしたい」 without saying what, the parts to fix."""

    def name(self) -> str:
        return "action_ask_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot("fixing"):
            dispatcher.utter_message(response="utter_ask_what_to_fix")
            return [SlotSet("fixing", None)]
        dispatcher.utter_message(response="utter_ask_confirmed", summary=summary(tracker.slots))
        return []


def intake_body(
    tracker: Tracker, domain: DomainDict, worries: list[str], *, urgent_only: bool = False
) -> dict:
    """The intake as POST /api/v1/consultations takes it, with these worry turns.

    ``urgent_only``: sent at the first sign of danger, before the form has asked the rest;
    shared on the basis of danger to life (the API records it), not on consent.
    """
    municipality, channel = conversation_place(tracker)
    slots = tracker.slots
    asked = slots.get("consent") is not None and not urgent_only
    body: dict[str, Any] = {
        "municipality": municipality,
        "channel": channel,
        "channel_user_id": tracker.sender_id,
        "texts": [w for w in worries if w][-50:] or ["（内容の記入なし）"],
        "consent": {
            "share_with_bodies": bool(slots.get("consent")) and asked,
            "shown_text": consent_shown(domain) if asked else NOT_ASKED,
            "captured_via": channel,
        },
    }
    if urgent_only:
        return body
    if slots.get("urgent_consultation_id"):  # the town has it already: this completes it
        body["completes"] = slots["urgent_consultation_id"]
    if slots.get("area") and slots["area"] != UNKNOWN_AREA:
        body["area"] = slots["area"]
    if slots.get("about"):
        body["about"] = str(slots["about"])[:32]
    body["contact"] = {"method": slots.get("contact_method") or "channel"}
    if slots.get("phone"):
        body["contact"]["phone"] = slots["phone"]
    return body


def consent_shown(domain: DomainDict) -> str:
    """The consent question exactly as the resident read it (from the domain)."""
    variants = domain.get("responses", {}).get("utter_ask_consent") or [{}]
    return " ".join(str(variants[0].get("text", "utter_ask_consent")).split())[:4000]


class ActionSubmitIntake(Action):
    """Sends the confirmed intake and tells the resident who will contact them, and when."""

    def name(self) -> str:
        return "action_submit_intake"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        body = intake_body(tracker, domain, tracker.get_slot("worries") or [])
        created = await submit_consultation(tracker.sender_id, body)
        if created is None:
            dispatcher.utter_message(response="utter_received_later")
        else:
            dispatcher.utter_message(**_who_and_when(created, body["contact"]["method"]))
        return [SlotSet(slot, None) for slot in INTAKE_SLOTS] + [
            SlotSet("consultation_id", created and created["consultation_id"])
        ]


def _who_and_when(created: dict[str, Any], method: str) -> dict[str, Any]:
    triage = created["triage"]
    # The body the consultation is routed to (a completed urgent one may have two referrals).
    routed = [r for r in created["referrals"] if r["body_id"] == triage["body"]["id"]]
    referral = (routed or created["referrals"])[0]
    response = "utter_submitted_together" if triage.get("compound") else "utter_submitted"
    return {
        "response": f"{response}_{method}",
        "body": referral["body_name"],
        "due": when(referral["due_at"]),
    }
