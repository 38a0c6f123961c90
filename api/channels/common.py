"""What the channel webhooks share: the town's channel switch, reading the raw body."""

from __future__ import annotations

from fastapi import Request

from api.errors import ApiError
from api.settings import Settings, channel_setting, get_settings
from routing_rules import municipality_ids

MAX_WEBHOOK_BYTES = 256 * 1024  # api/main.py refuses larger bodies before they are read


def town_setting(municipality: str, name: str) -> str:
    """A town's channel credential; a town without it has the channel off: 404, never open."""
    settings: Settings = get_settings()
    value = channel_setting(settings, name, municipality) if _known(municipality) else None
    if value is None:
        raise ApiError(404, "channel_off", "This channel is not open for this municipality.")
    return value


def _known(municipality: str) -> bool:
    return municipality in municipality_ids()


async def raw_text(request: Request) -> tuple[bytes, str]:
    """The body as received (signatures cover these bytes) and as UTF-8 text."""
    raw = await request.body()
    if not raw:
        raise ApiError(400, "empty_body", "The request body is empty.")
    if len(raw) > MAX_WEBHOOK_BYTES:
        raise ApiError(413, "payload_too_large", "The request body is too large.")
    try:
        return raw, raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_encoding", "The body is not UTF-8.") from None
