"""Helpers for the channel tests: credentials, requests signed with the real algorithms
(LINE: Base64 HMAC-SHA256 of the raw body; Twilio: RequestValidator.compute_signature), and
the provider stubs (api/channels/stubs.py) as a real process."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from twilio.request_validator import RequestValidator

from tests.botstack import ROOT, TSUNAGU, free_port, wait_for

LINE_SECRET = "line-channel-secret-atsuma"
LINE_TOKEN = "line-channel-token-atsuma"
TWILIO_SID = "AC" + "0123456789abcdef" * 2
TWILIO_TOKEN = "twilio-auth-token-atsuma"
TWILIO_FROM = "+815012345678"
PUBLIC_BASE = "https://tsunagu.example.jp"


def channel_env(providers: str = "http://127.0.0.1:9", rasa: str = "http://127.0.0.1:9") -> dict:
    """atsuma with LINE and SMS on, providers and Rasa at the given URLs; tomiya off."""
    return {
        "TSUNAGU_LINE_CHANNEL_SECRET_ATSUMA": LINE_SECRET,
        "TSUNAGU_LINE_CHANNEL_TOKEN_ATSUMA": LINE_TOKEN,
        "TSUNAGU_TWILIO_ACCOUNT_SID_ATSUMA": TWILIO_SID,
        "TSUNAGU_TWILIO_AUTH_TOKEN_ATSUMA": TWILIO_TOKEN,
        "TSUNAGU_TWILIO_FROM_ATSUMA": TWILIO_FROM,
        "TSUNAGU_PUBLIC_BASE_URL": PUBLIC_BASE,
        "TSUNAGU_LINE_API_BASE": providers,
        "TSUNAGU_TWILIO_API_BASE": providers,
        "TSUNAGU_RASA_URL": rasa,
        "TSUNAGU_RASA_TIMEOUT_SECONDS": "2",
        "TSUNAGU_PROVIDER_TIMEOUT_SECONDS": "2",
        "TSUNAGU_DELIVERY_BACKOFF_SECONDS": "0.2",
        "TSUNAGU_WORKER_POLL_SECONDS": "0.2",
    }


def line_signature(body: bytes, secret: str = LINE_SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def text_event(
    user: str, text: str, *, event_id: str | None = None, timestamp: int | None = None,
    reply_token: str | None = None, redelivery: bool = False,
) -> dict[str, Any]:  # fmt: skip
    return {
        "type": "message",
        "mode": "active",
        "timestamp": timestamp or int(time.time() * 1000),
        "source": {"type": "user", "userId": user},
        "webhookEventId": event_id or uuid.uuid4().hex.upper()[:26],
        "deliveryContext": {"isRedelivery": redelivery},
        "replyToken": reply_token or uuid.uuid4().hex,
        "message": {"id": uuid.uuid4().hex[:18], "type": "text", "quoteToken": "q", "text": text},
    }


def line_payload(*events: dict[str, Any]) -> bytes:
    body = {"destination": "Uc0ffee", "events": list(events)}
    try:
        return json.dumps(body, ensure_ascii=False).encode()
    except UnicodeEncodeError:  # lone surrogates travel as \ud800 escapes
        return json.dumps(body).encode()


def line_headers(body: bytes, secret: str = LINE_SECRET) -> dict[str, str]:
    return {"content-type": "application/json", "x-line-signature": line_signature(body, secret)}


def sms_params(sender: str, text: str, sid: str | None = None) -> dict[str, str]:
    return {
        "MessageSid": sid or "SM" + uuid.uuid4().hex,
        "AccountSid": TWILIO_SID,
        "From": sender,
        "To": TWILIO_FROM,
        "Body": text,
        "NumMedia": "0",
    }


def twilio_signature(url: str, params: dict[str, str], token: str = TWILIO_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def sms_request(municipality: str, params: dict[str, str]) -> tuple[str, dict[str, str]]:
    """(path, headers) of an SMS webhook signed as Twilio signs the public URL."""
    path = f"/channels/twilio/{municipality}/sms"
    return path, {"x-twilio-signature": twilio_signature(PUBLIC_BASE + path, params)}


@contextmanager
def stub_server(log: Path) -> Iterator[str]:
    """The provider and Rasa stubs as a real uvicorn process; yields its base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as out:
        process = subprocess.Popen(
            [TSUNAGU, "stub", "--port", str(port)], cwd=ROOT, env=os.environ.copy(),
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for(f"{url}/health", process, log, seconds=30)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def stub_state(url: str) -> dict[str, Any]:
    return httpx.get(f"{url}/_stub/state", timeout=10).json()


def stub_fault(url: str, target: str, mode: str, count: int = -1, delay: float = 0) -> None:
    body = {"target": target, "mode": mode, "count": count, "delay": delay}
    httpx.post(f"{url}/_stub/fault", json=body, timeout=10).raise_for_status()
