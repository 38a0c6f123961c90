"""Danger: the emergency lines at once, and the consultation sent to the town at once.

The NLU pipeline's urgent check (bot/urgent.py, the triage rules) marks the message; this
action runs on it inside or outside the intake form. The lines come from the same rules
(a DV case gets the DV lines, thoughts of suicide the mental-health lines). The intake so far
is sent as urgent before anything else is asked, since a resident in danger may stop
writing; the form then goes on gently, and its final intake completes that consultation
(when the API could not be reached, the urgent one waits in the outbox and the final intake
is a consultation of its own).
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.api import submit_consultation
from actions.intake import intake_body, with_worry
from actions.settings import conversation_place
from routing_rules import triage


class ActionUrgent(Action):
    def name(self) -> str:
        return "action_urgent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = (tracker.latest_message.get("text") or "").strip()
        municipality, _ = conversation_place(tracker)
        lines = triage(text, municipality).emergency
        listed = "\n".join(f"・{line.name}: {line.number}" for line in lines)
        dispatcher.utter_message(response="utter_urgent", lines=listed)

        worries = with_worry(tracker, text)
        events: list[EventType] = [SlotSet("worries", worries), SlotSet("urgent", True)]
        if tracker.get_slot("worry") is None:  # it is the worry: the form need not ask it
            events.append(SlotSet("worry", text))
        if not tracker.get_slot("urgent_sent"):
            body = intake_body(tracker, domain, worries, urgent_only=True)
            created = await submit_consultation(tracker.sender_id, body)
            events.append(SlotSet("urgent_sent", True))
            events.append(SlotSet("urgent_consultation_id", created and created["consultation_id"]))
            told = "utter_urgent_staff_told" if created else "utter_urgent_staff_later"
            dispatcher.utter_message(response=told)
        dispatcher.utter_message(response="utter_go_on")
        return events
