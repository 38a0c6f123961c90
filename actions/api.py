"""Calls to the referral service, and the outbox that keeps an intake the API did not take.

An intake is sent with an Idempotency-Key derived from its content, so a retry (from the
outbox, or a resident pressing "はい" twice) never makes a second consultation. When the API
cannot be reached or fails (5xx), the intake is written to the outbox (one JSON file per
intake, readable by this user only) and sent again before the next intake; nothing the
resident wrote is lost. Logs name outcomes and keys, never the resident's words.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

import aiohttp

from actions.settings import Settings, settings

log = logging.getLogger(__name__)

CONSULTATIONS = "/api/v1/consultations"
HANDOVERS = "/api/v1/handovers"


class ApiUnavailable(Exception):
    """The API could not be reached, or failed on its side (5xx)."""


class ApiRejected(Exception):
    """The API refused the request (4xx): retrying the same request will not help."""


def idempotency_key(sender_id: str, body: dict[str, Any]) -> str:
    canonical = json.dumps([sender_id, body], ensure_ascii=False, sort_keys=True)
    return "bot-" + hashlib.sha256(canonical.encode()).hexdigest()[:40]


async def _post(config: Settings, path: str, body: dict, key: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {config.bot_token}"}
    if key:
        headers["Idempotency-Key"] = key
    timeout = aiohttp.ClientTimeout(total=config.timeout)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(config.api_url + path, json=body, headers=headers) as r,
        ):
            if r.status >= 500:
                raise ApiUnavailable(f"{path}: HTTP {r.status}")
            if r.status >= 400:  # the error's code only: its details may quote the text
                code = (await r.json(content_type=None) or {}).get("code", "")
                raise ApiRejected(f"{path}: HTTP {r.status} {code}")
            return await r.json()
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
        raise ApiUnavailable(f"{path}: {type(exc).__name__}") from exc


async def submit_consultation(sender_id: str, body: dict[str, Any]) -> dict | None:
    """POSTs the intake; None when it went to the outbox instead (the API is unavailable)."""
    config = settings()
    key = idempotency_key(sender_id, body)
    await flush_outbox(config)
    try:
        created = await _post(config, CONSULTATIONS, body, key)
    except ApiUnavailable as exc:
        _keep(config.outbox, key, body)
        log.warning("intake %s kept in the outbox: %s", key, exc)
        return None
    except ApiRejected as exc:  # e.g. a revoked token: kept for staff, never dropped
        _keep(config.outbox / "rejected", key, body)
        log.error("intake %s refused by the API, kept in outbox/rejected: %s", key, exc)
        return None
    log.info("intake %s sent: consultation %s", key, created.get("consultation_id"))
    return created


async def request_person(body: dict[str, Any]) -> dict | None:
    """Records that the resident asked for a person; None when the API is unavailable."""
    try:
        return await _post(settings(), HANDOVERS, body)
    except (ApiUnavailable, ApiRejected) as exc:
        log.warning("person request not recorded: %s", exc)
        return None


def _keep(outbox: Path, key: str, body: dict[str, Any]) -> None:
    outbox.mkdir(parents=True, exist_ok=True, mode=0o700)  # consultation text: this user only
    path = outbox / f"{key}.json"
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(body, out, ensure_ascii=False)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


async def flush_outbox(config: Settings | None = None) -> int:
    """Sends the intakes waiting in the outbox; returns how many were sent.

    Stops at the first that still cannot be sent. One the API refuses (4xx) moves to
    outbox/rejected/ for staff to look at, rather than blocking the others.
    """
    config = config or settings()
    sent = 0
    for path in sorted(config.outbox.glob("*.json")):
        body = json.loads(path.read_text(encoding="utf-8"))
        try:
            await _post(config, CONSULTATIONS, body, path.stem)
        except ApiUnavailable:
            break
        except ApiRejected as exc:
            (config.outbox / "rejected").mkdir(exist_ok=True, mode=0o700)
            path.replace(config.outbox / "rejected" / path.name)
            log.error("outbox intake %s refused by the API: %s", path.stem, exc)
            continue
        path.unlink()
        sent += 1
    if sent:
        log.info("outbox: %d intake(s) sent", sent)
    return sent
