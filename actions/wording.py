"""Dates, times and the intake summary in やさしい日本語 (kana, short words).

The sentences themselves are responses in domain.yml; this module only fills in the parts
that change: a deadline, the answers to put in the summary.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

JST = timezone(timedelta(hours=9), "JST")
_WEEKDAYS = ("げつ", "か", "すい", "もく", "きん", "ど", "にち")
# 分 is read ふん or ぷん after the last digit: 15ふん, 30ぷん, 45ふん.
_FUN = ("ぷん", "ぷん", "ふん", "ぷん", "ぷん", "ふん", "ぷん", "ふん", "ぷん", "ふん")

ABOUT = {"本人": "じぶんの こと", "家族": "かぞくの こと", "近所の人": "きんじょの ひとの こと"}
ABOUT["仕事で関わっている人"] = "しごとで かかわって いる ひとの こと"
CONTACT = {"channel": "この チャット", "phone": "でんわ", "visit": "いえに きて もらう"}
UNKNOWN_AREA = "不明"  # what the area slot holds when the resident would rather not say


def when(moment: str | datetime, now: datetime | None = None) -> str:
    """「11がつ25にち（すいようび）の 17じ15ふん まで」; 「きょうの 17じ まで」 for today."""
    if isinstance(moment, str):  # the API's ISO 8601; Python 3.10 does not read a "Z"
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    at = moment
    at = at.astimezone(JST)
    today = (now or datetime.now(JST)).astimezone(JST).date()
    clock = f"{at.hour}じ" + (f"{at.minute}{_FUN[at.minute % 10]}" if at.minute else "")
    if at.date() == today:
        return "きょうの うち" if (at.hour, at.minute) >= (23, 59) else f"きょうの {clock} まで"
    day = f"{at.month}がつ{at.day}にち（{_WEEKDAYS[at.weekday()]}ようび）"
    if at.date() == today + timedelta(days=1):
        day = "あした " + day
    return f"{day}の {clock} まで"


def summary(slots: dict) -> str:
    """The answers, one line each, for the resident to confirm or correct."""
    worries = [w for w in slots.get("worries") or [] if w]
    worry = " / ".join(worries)
    if len(worry) > 200:
        worry = worry[:200] + "…"
    area = slots.get("area")
    contact = CONTACT.get(slots.get("contact_method") or "", "")
    if slots.get("contact_method") == "phone" and slots.get("phone"):
        contact += f"（{slots['phone']}）"
    lines = [
        f"・こまって いる こと: {worry or 'まだ ありません'}",
        f"・だれの こと: {ABOUT.get(slots.get('about') or '', slots.get('about') or '')}",
        f"・すんで いる ところ: {area if area and area != UNKNOWN_AREA else 'いわない'}",
        f"・れんらくの しかた: {contact}",
        f"・まどぐちに つたえる: {'はい' if slots.get('consent') else 'いいえ'}",
    ]
    return "\n".join(lines)
