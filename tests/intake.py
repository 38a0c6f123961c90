"""Intake bodies for the referral service's tests (fictional people only)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

SHOWN = "あなたの そうだんを たんとうの まどぐちに つたえても いいですか"
COMPOUND = "85歳の母が認知症で、50代の息子は仕事をしていなくて家にこもっています"
ELDERLY = "父が最近物忘れがひどくて、介護保険の申請をしたいです"
URGENT = "もう死にたい。今日食べるものもない"
NOTHING = "ちょっと話を聞いてほしいです"


def intake(
    text: str = ELDERLY,
    *,
    municipality: str = "atsuma",
    user: str = "U-test-1",
    consent: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "municipality": municipality,
        "channel": "line",
        "channel_user_id": user,
        "text": text,
        "consent": {"share_with_bodies": consent, "shown_text": SHOWN, "captured_via": "line"},
        **extra,
    }


def consult(client: TestClient, auth: dict[str, str], text: str = ELDERLY, **kw: Any) -> dict:
    response = client.post("/api/v1/consultations", headers=auth, json=intake(text, **kw))
    assert response.status_code == 201, response.text
    return response.json()
