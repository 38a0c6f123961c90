"""「人と話したい」: the API records the request for duty staff; the bot says by when."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.api import request_person
from actions.settings import conversation_place
from actions.wording import when


class ActionRequestPerson(Action):
    def name(self) -> str:
        return "action_request_person"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        municipality, channel = conversation_place(tracker)
        body = {"municipality": municipality, "channel": channel}
        recorded = await request_person(body | {"channel_user_id": tracker.sender_id})
        if recorded is None:
            dispatcher.utter_message(response="utter_handover_later")
        else:
            dispatcher.utter_message(response="utter_handover", due=when(recorded["answer_by"]))
        if tracker.active_loop.get("name"):
            dispatcher.utter_message(response="utter_go_on")
        return []
