"""The action server's settings, from TSUNAGU_* environment variables (as the API's are)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rasa_sdk import Tracker

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    api_url: str  # the referral service, e.g. http://127.0.0.1:8000
    bot_token: str  # a service token of role `bot` (`tsunagu tokens create`)
    municipality: str | None  # the town this bot serves, unless a message says otherwise
    outbox: Path  # intakes waiting for the API when it could not be reached
    timeout: float  # seconds for one API call


def settings() -> Settings:
    env = os.environ
    return Settings(
        api_url=env.get("TSUNAGU_API_URL", "http://127.0.0.1:8000").rstrip("/"),
        bot_token=env.get("TSUNAGU_BOT_TOKEN", ""),
        municipality=env.get("TSUNAGU_MUNICIPALITY") or None,
        outbox=Path(env.get("TSUNAGU_BOT_OUTBOX", ROOT / "var" / "bot-outbox")),
        timeout=float(env.get("TSUNAGU_BOT_API_TIMEOUT", "10")),
    )


def conversation_place(tracker: Tracker) -> tuple[str, str]:
    """(municipality, channel) of a conversation: the channel's metadata, else the settings.

    The channels (LINE, SMS, web) put both in the message metadata; Rasa's REST channel
    used directly counts as the web chat of the configured town.
    """
    metadata = tracker.latest_message.get("metadata") or {}
    municipality = metadata.get("municipality") or settings().municipality
    if not municipality:
        raise RuntimeError("set TSUNAGU_MUNICIPALITY (e.g. tomiya) for the action server")
    return str(municipality), str(metadata.get("channel") or "web")
