"""Rasa's REST channel (POST /webhooks/rest/webhook): one resident message in, the bot's
answers out. Any failure or a timeout is BotUnavailable: the worker then answers itself."""

from __future__ import annotations

from typing import Any

import httpx


class BotUnavailable(Exception):
    """Rasa is down, too slow, or answered with something other than a list of messages."""


def ask_bot(
    client: httpx.Client, base_url: str, sender: str, text: str, metadata: dict[str, Any],
    timeout: float,
) -> list[dict[str, Any]]:  # fmt: skip
    body = {"sender": sender, "message": text, "metadata": metadata}
    try:
        response = client.post(
            base_url.rstrip("/") + "/webhooks/rest/webhook", json=body, timeout=timeout
        )
    except httpx.HTTPError as exc:
        raise BotUnavailable(type(exc).__name__) from exc
    if response.status_code != 200:
        raise BotUnavailable(f"HTTP {response.status_code}")
    try:
        replies = response.json()
    except ValueError as exc:
        raise BotUnavailable("not JSON") from exc
    if not isinstance(replies, list):
        raise BotUnavailable("not a list")
    return [r for r in replies if isinstance(r, dict)]
