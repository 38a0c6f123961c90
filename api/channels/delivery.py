"""Outbox delivery: LINE (reply token while fresh, else push with X-Line-Retry-Key) and
Twilio's Messages API, with retries and exponential backoff.

A row is claimed by setting it `sending` with a claim that expires (next_attempt_at), in a
short transaction (PostgreSQL: FOR UPDATE SKIP LOCKED, so two processes never claim the
same row). A row waits while an earlier row of its conversation is undelivered, so the
resident reads the answers in order. A deliverer killed after sending leaves a claimed row;
it is sent again after the claim expires with the same key: LINE answers 409 to a repeated
X-Line-Retry-Key (counted as sent). Twilio's Messages API has no such key: we send ours as
I-Twilio-Idempotency-Token (the stub honours it; real Twilio may not), so a crash in that
narrow window can repeat one SMS, never lose one.
"""

from __future__ import annotations

import base64
import logging
import random
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import httpx
from linebot.v3.messaging import (
    ApiClient,
    Configuration,
    MessagingApi,
    PushMessageRequest,
    ReplyMessageRequest,
)
from linebot.v3.messaging.exceptions import ApiException
from sqlalchemy import exists, select
from sqlalchemy.orm import aliased, sessionmaker

from api.channels.outbox import outbound_queued
from api.channels.render import line_messages
from api.db.models import Conversation, OutboundMessage, utcnow
from api.db.session import engine_for
from api.settings import Settings, channel_setting, get_settings

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 300


class Retry(Exception):
    """A failure worth retrying: timeout, connection error, 429, 5xx."""


class Permanent(Exception):
    """The provider refused for good (4xx): retrying will not help."""


@dataclass(frozen=True)
class Claimed:
    id: int
    key: str
    conversation_id: str
    municipality: str
    channel: str
    external_id: str
    messages: list
    reply_token: str | None
    reply_until: datetime | None
    attempts: int
    previous_error: str | None  # what the last attempt recorded; "claimed": it never did


class Deliverer:
    def __init__(self, settings: Settings | None = None, backoff_seconds: float = 2.0) -> None:
        self.settings = settings or get_settings()
        self.sessions = sessionmaker(engine_for(self.settings.database_url), expire_on_commit=False)
        self.http = httpx.Client(timeout=self.settings.provider_timeout_seconds)
        self.backoff = backoff_seconds
        # A claim outlives a slow provider call (timeout) with room to spare.
        self.claim_for = timedelta(seconds=3 * self.settings.provider_timeout_seconds + 5)

    def close(self) -> None:
        self.http.close()

    def claim(self, limit: int = 20) -> list[Claimed]:
        now = utcnow()
        earlier = aliased(OutboundMessage)
        blocked = exists().where(
            earlier.conversation_id == OutboundMessage.conversation_id,
            earlier.id < OutboundMessage.id,
            earlier.status.in_(("pending", "sending")),
        )
        query = (
            select(OutboundMessage, Conversation)
            .join(Conversation, Conversation.id == OutboundMessage.conversation_id)
            .where(
                OutboundMessage.status.in_(("pending", "sending")),
                OutboundMessage.next_attempt_at <= now,
                ~blocked,
            )
            .order_by(OutboundMessage.id)
            .limit(limit)
            .with_for_update(of=OutboundMessage, skip_locked=True)
        )
        claimed = []
        with self.sessions() as db:
            for row, conversation in db.execute(query).all():
                if conversation.opted_out:
                    row.status, row.last_error = "dropped", "opted_out"
                    continue
                previous = row.last_error
                row.status, row.attempts = "sending", row.attempts + 1
                row.next_attempt_at, row.last_error = now + self.claim_for, "claimed"
                claimed.append(
                    Claimed(
                        row.id,
                        row.key,
                        row.conversation_id,
                        row.municipality,
                        row.channel,
                        conversation.external_id,
                        row.messages,
                        row.reply_token,
                        row.reply_until,
                        row.attempts,
                        previous,
                    )  # fmt: skip
                )
            db.commit()
        return claimed

    def run_once(self) -> int:
        claimed = self.claim()
        for row in claimed:
            self.deliver(row)
        return len(claimed)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception as exc:  # the database is restarting, …
                log.warning("delivery: %s", type(exc).__name__)
                busy = 0
                stop.wait(self.settings.worker_poll_seconds * 2)
            if not busy:
                outbound_queued.wait(self.settings.worker_poll_seconds)
                outbound_queued.clear()

    def deliver(self, row: Claimed) -> None:
        provider_id, how = None, ""
        try:
            if row.channel == "line":
                how = self._line(row)
            elif row.channel == "sms":
                provider_id = self._sms(row)
            status, error = "sent", None
        except Retry as exc:
            status, error = "pending", str(exc)
        except Permanent as exc:
            status, error = "failed", str(exc)
        if status == "pending" and row.attempts >= self.settings.delivery_max_attempts:
            status = "failed"
        log.info("outbound %d: %s %s (attempt %d)", row.id, error or status, how, row.attempts)
        with self.sessions() as db:
            stored = db.get(OutboundMessage, row.id, with_for_update=True)
            if stored is None or stored.status != "sending" or stored.attempts != row.attempts:
                return  # our claim expired and someone else has it now
            stored.status, stored.last_error = status, (error or None) and error[:64]
            if status == "sent":
                stored.sent_at, stored.provider_id = utcnow(), provider_id
            if status == "pending":
                delay = min(self.backoff * 2 ** (row.attempts - 1), MAX_BACKOFF_SECONDS)
                stored.next_attempt_at = utcnow() + timedelta(
                    seconds=delay * random.uniform(1, 1.5)
                )
            if how == "push" or (error or "").startswith("line push"):
                stored.reply_token = None  # once we push, the token is done with
            db.commit()

    # --- LINE ---------------------------------------------------------------------------------

    def _line(self, row: Claimed) -> str:
        """Sends the row: "reply", "push", or "already" (an earlier attempt of ours used the
        reply token). A reply is safe to retry, a token works once: so while it is fresh a
        failed reply is retried as a reply, and push (with the retry key) is for later."""
        token = _need(self.settings, "line_channel_token", row)
        api = _line_api(self.settings.line_api_base, token)
        messages = line_messages(row.messages)
        timeout = self.settings.provider_timeout_seconds
        if row.reply_token and row.reply_until and utcnow() < row.reply_until:
            try:
                api.reply_message_with_http_info(
                    ReplyMessageRequest(replyToken=row.reply_token, messages=messages),
                    _request_timeout=timeout,
                )
                return "reply"
            except ApiException as exc:
                if exc.status == 429 or exc.status >= 500:
                    raise Retry(f"line reply HTTP {exc.status}") from None
                # 400: the token is used or invalid. Used by us, if an earlier attempt may
                # have got through (killed, timed out) rather than failed for certain.
                definite = (row.previous_error or "").startswith("line reply HTTP")
                if exc.status == 400 and row.attempts > 1 and not definite:
                    return "already"
            except Exception as exc:  # a timeout: it may have been delivered; retry the reply
                raise Retry(f"line reply {_why(exc)}") from None
        try:
            api.push_message_with_http_info(
                PushMessageRequest(to=row.external_id, messages=messages),
                x_line_retry_key=row.key,
                _request_timeout=timeout,
            )
        except ApiException as exc:
            if exc.status == 409:  # this retry key was accepted before: already sent
                return "already"
            if exc.status == 429 or exc.status >= 500:
                raise Retry(f"line push HTTP {exc.status}") from None
            raise Permanent(f"line push HTTP {exc.status}") from None
        except Exception as exc:
            raise Retry(f"line push {_why(exc)}") from None
        return "push"

    # --- Twilio ---------------------------------------------------------------------------------

    def _sms(self, row: Claimed) -> str | None:
        sid = _need(self.settings, "twilio_account_sid", row)
        token = _need(self.settings, "twilio_auth_token", row)
        sender = _need(self.settings, "twilio_from", row)
        url = f"{self.settings.twilio_api_base.rstrip('/')}/2010-04-01/Accounts/{sid}/Messages.json"
        body = "\n".join(m["text"] for m in row.messages)
        auth = "Basic " + base64.b64encode(f"{sid}:{token}".encode()).decode()
        try:
            response = self.http.post(
                url,
                data={"To": row.external_id, "From": sender, "Body": body},
                headers={"Authorization": auth, "I-Twilio-Idempotency-Token": row.key},
            )
        except httpx.HTTPError as exc:
            raise Retry(f"twilio {type(exc).__name__}") from None
        if response.status_code in (200, 201):
            try:
                return str(response.json().get("sid"))[:255]
            except ValueError:
                return None
        if response.status_code == 429 or response.status_code >= 500:
            raise Retry(f"twilio HTTP {response.status_code}")
        raise Permanent(f"twilio HTTP {response.status_code}")


def _need(settings: Settings, name: str, row: Claimed) -> str:
    value = channel_setting(settings, name, row.municipality)
    if value is None:
        raise Permanent(f"no {name}")
    return value


def _why(exc: Exception) -> str:
    return f"HTTP {exc.status}" if isinstance(exc, ApiException) else type(exc).__name__


@cache
def _line_api(host: str, token: str) -> MessagingApi:
    return MessagingApi(ApiClient(Configuration(host=host, access_token=token)))
