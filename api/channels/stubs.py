"""Stand-ins for the LINE Messaging API, Twilio's Messages API and Rasa's REST channel, on
their wire formats, with failures switched on over HTTP. For tests and benchmarks only:
`tsunagu stub --port 9000`, then point TSUNAGU_LINE_API_BASE, TSUNAGU_TWILIO_API_BASE and
TSUNAGU_RASA_URL at it.

- LINE: POST /v2/bot/message/reply and /push, JSON, `Authorization: Bearer`; a reply token
  works once (400 after); a repeated X-Line-Retry-Key gets 409 and is not sent again.
- Twilio: POST /2010-04-01/Accounts/{Sid}/Messages.json, form-encoded, basic auth; answers
  201 with a JSON message resource (`sid`); a repeated I-Twilio-Idempotency-Token is not
  sent again.
- Rasa: POST /webhooks/rest/webhook answers 「bot:<message>」, with two buttons when the
  message holds 「ボタン」; it counts overlapping calls for one sender.
- POST /_stub/fault {"target": line_reply|line_push|twilio|rasa, "mode": ok|timeout|500|
  429|slow, "count": n (-1: until changed), "delay": seconds}; GET /_stub/state;
  POST /_stub/reset.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections import Counter, defaultdict
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

app = FastAPI(title="tsunagu provider stubs", openapi_url=None)


class State:
    def __init__(self) -> None:
        self.faults: dict[str, dict[str, Any]] = {}
        self.line: list[dict[str, Any]] = []  # every message LINE accepted, in order
        self.retry_keys: Counter[str] = Counter()  # push requests per retry key (any outcome)
        self.used_tokens: set[str] = set()
        self.accepted_keys: set[str] = set()
        self.sms: list[dict[str, Any]] = []
        self.sms_tokens: set[str] = set()
        self.rasa: list[dict[str, Any]] = []
        self.rasa_active: Counter[str] = Counter()
        self.rasa_overlaps = 0
        self.rejected: Counter[str] = Counter()  # requests answered with a fault


state = State()


async def _fault(target: str) -> JSONResponse | None:
    """The fault configured for target, applied (sleeping for timeouts); None: go on."""
    fault = state.faults.get(target)
    if not fault or fault["mode"] == "ok" or fault["count"] == 0:
        return None
    if fault["count"] > 0:
        fault["count"] -= 1
    mode, delay = fault["mode"], float(fault.get("delay") or 0)
    if mode == "slow":
        await asyncio.sleep(delay)
        return None
    state.rejected[target] += 1
    if mode == "timeout":
        await asyncio.sleep(delay or 60)
        return JSONResponse({"message": "timeout"}, status_code=504)
    status = int(mode)
    return JSONResponse({"message": f"stub fault {status}"}, status_code=status)


def _bearer(request: Request) -> bool:
    return request.headers.get("authorization", "").startswith("Bearer ")


def _sent(n: int) -> dict[str, Any]:
    return {"sentMessages": [{"id": uuid.uuid4().hex[:18], "quoteToken": "q"} for _ in range(n)]}


@app.post("/v2/bot/message/reply")
async def line_reply(request: Request) -> JSONResponse:
    if not _bearer(request):
        return JSONResponse({"message": "Authentication failed"}, status_code=401)
    if (fault := await _fault("line_reply")) is not None:
        return fault
    body = await request.json()
    token, messages = body.get("replyToken"), body.get("messages") or []
    if not token or token in state.used_tokens or not 1 <= len(messages) <= 5:
        return JSONResponse({"message": "Invalid reply token"}, status_code=400)
    state.used_tokens.add(token)
    for m in messages:
        state.line.append({"via": "reply", "token": token, "key": None, "message": m})
    return JSONResponse(_sent(len(messages)))


@app.post("/v2/bot/message/push")
async def line_push(request: Request) -> JSONResponse:
    if not _bearer(request):
        return JSONResponse({"message": "Authentication failed"}, status_code=401)
    key = request.headers.get("x-line-retry-key")
    if key:
        state.retry_keys[key] += 1
    if key and key in state.accepted_keys:
        return JSONResponse(
            {"message": "The retry key is already accepted", "sentMessages": []}, status_code=409
        )
    if (fault := await _fault("line_push")) is not None:
        return fault
    body = await request.json()
    messages = body.get("messages") or []
    if not body.get("to") or not 1 <= len(messages) <= 5:
        return JSONResponse({"message": "The request body has 1 error(s)"}, status_code=400)
    if key:
        state.accepted_keys.add(key)
    for m in messages:
        state.line.append({"via": "push", "to": body["to"], "key": key, "message": m})
    return JSONResponse(_sent(len(messages)))


@app.post("/2010-04-01/Accounts/{sid}/Messages.json")
async def twilio_messages(sid: str, request: Request) -> JSONResponse:
    auth = request.headers.get("authorization", "")
    try:
        user = base64.b64decode(auth.removeprefix("Basic ")).decode().split(":", 1)[0]
    except ValueError:
        user = ""
    if not auth.startswith("Basic ") or user != sid:
        return JSONResponse({"code": 20003, "message": "Authenticate", "status": 401}, 401)
    token = request.headers.get("i-twilio-idempotency-token")
    form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
    resource = {
        "sid": "SM" + uuid.uuid4().hex,
        "account_sid": sid,
        "to": form.get("To"),
        "from": form.get("From"),
        "body": form.get("Body"),
        "status": "queued",
        "num_segments": str(_segments(form.get("Body") or "")),
    }
    if token and token in state.sms_tokens:
        return JSONResponse(resource, status_code=201)  # a repeat: not sent again
    if (fault := await _fault("twilio")) is not None:
        return fault
    if not form.get("To") or not form.get("Body"):
        return JSONResponse({"code": 21604, "message": "A 'To' and 'Body' are required"}, 400)
    if token:
        state.sms_tokens.add(token)
    state.sms.append({"key": token, **resource})
    return JSONResponse(resource, status_code=201)


def _segments(text: str) -> int:
    if all(ord(c) < 128 for c in text):
        return 1 if len(text) <= 160 else -(-len(text) // 153)
    return 1 if len(text) <= 70 else -(-len(text) // 67)


@app.post("/webhooks/rest/webhook")
async def rasa_rest(request: Request) -> JSONResponse:
    body = await request.json()
    sender, message = str(body.get("sender")), str(body.get("message"))
    state.rasa_active[sender] += 1
    if state.rasa_active[sender] > 1:
        state.rasa_overlaps += 1
    try:
        if (fault := await _fault("rasa")) is not None:
            return fault
        state.rasa.append({"sender": sender, "message": message, "metadata": body.get("metadata")})
        answer: dict[str, Any] = {"recipient_id": sender, "text": f"bot:{message}"}
        if "ボタン" in message:
            answer["buttons"] = [
                {"title": "はい", "payload": "/affirm"},
                {"title": "いいえ", "payload": "/deny"},
            ]
        return JSONResponse([answer])
    finally:
        state.rasa_active[sender] -= 1


@app.post("/_stub/fault")
async def set_fault(request: Request) -> dict[str, Any]:
    body = await request.json()
    state.faults[body["target"]] = {
        "mode": str(body.get("mode", "ok")),
        "count": int(body.get("count", -1)),
        "delay": float(body.get("delay", 0)),
    }
    return state.faults[body["target"]]


@app.post("/_stub/reset")
async def reset() -> dict[str, str]:
    global state
    state = State()
    return {"status": "ok"}


@app.get("/_stub/state")
async def get_state() -> dict[str, Any]:
    per_sender: dict[str, list[str]] = defaultdict(list)
    for call in state.rasa:
        per_sender[call["sender"]].append(call["message"])
    return {
        "line": state.line,
        "retry_keys": dict(state.retry_keys),
        "sms": state.sms,
        "rasa": state.rasa,
        "rasa_by_sender": per_sender,
        "rasa_overlaps": state.rasa_overlaps,
        "rejected": dict(state.rejected),
    }


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
