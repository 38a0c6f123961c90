"""Answers shaped for each channel: LINE messages with quick-reply buttons, SMS parts that fit
two UCS-2 segments with buttons as numbered choices (「1 はい」「2 いいえ」)."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from linebot.v3.messaging import PostbackAction, QuickReply, QuickReplyItem, TextMessage

from api.channels.texts import CHOOSE

# Japanese text goes as UCS-2: 70 characters in one segment, 67 per segment when split.
# Two segments: 134 characters. Longer answers are split where a sentence ends.
SMS_PART_CHARS = 2 * 67
LINE_MAX_MESSAGES = 5  # per reply or push request
LINE_TEXT_CHARS = 5000
LINE_LABEL_CHARS = 20
LINE_QUICK_REPLIES = 13

Answer = dict[str, Any]  # {"text": str, "buttons": [{"title": str, "payload": str}]}


def answer(text: str, buttons: list[dict[str, str]] | None = None) -> Answer:
    return {"text": text, "buttons": buttons or []}


def from_rasa(replies: list[dict[str, Any]]) -> list[Answer]:
    """Rasa REST answers (text, buttons) as ours; images and custom payloads are skipped."""
    answers = []
    for reply in replies:
        buttons = [
            {"title": str(b.get("title") or b.get("payload")), "payload": str(b.get("payload"))}
            for b in reply.get("buttons") or []
            if isinstance(b, dict) and b.get("payload")
        ]
        text = reply.get("text")
        if isinstance(text, str) and text.strip():
            answers.append(answer(text.strip(), buttons))
    return answers


def line_messages(answers: list[Answer]) -> list[TextMessage]:
    """One LINE text message per answer; buttons become quick replies that post back the
    payload (shown in the chat as the button's title)."""
    out = []
    for a in answers:
        items = [
            QuickReplyItem(
                action=PostbackAction(
                    label=b["title"][:LINE_LABEL_CHARS],
                    data=b["payload"][:300],
                    displayText=b["title"][:300],
                )
            )
            for b in a["buttons"][:LINE_QUICK_REPLIES]
        ]
        out.append(
            TextMessage(
                text=a["text"][:LINE_TEXT_CHARS],
                quickReply=QuickReply(items=items) if items else None,
            )
        )
    return out


def sms_text(answers: list[Answer]) -> tuple[str, list[str]]:
    """All answers as one SMS text, and the payloads of its numbered choices (the last
    answer with buttons decides what a digit means)."""
    lines: list[str] = []
    choices: list[str] = []
    for a in answers:
        lines.extend(line.strip() for line in a["text"].splitlines() if line.strip())
        if a["buttons"]:
            choices = [b["payload"] for b in a["buttons"]]
            lines.extend(f"{i} {b['title']}" for i, b in enumerate(a["buttons"], start=1))
    if choices:
        lines.append(CHOOSE)
    return "\n".join(lines), choices


def sms_parts(text: str, limit: int = SMS_PART_CHARS) -> list[str]:
    """The text in parts of at most `limit` characters, split after a line or a sentence."""
    pieces = [p for p in re.split(r"(?<=[\n。！？!?])", text) if p]
    parts: list[str] = []
    current = ""
    for piece in pieces:
        while len(piece) > limit:  # one sentence longer than a part: cut it
            if current:
                parts.append(current)
                current = ""
            parts.append(piece[:limit])
            piece = piece[limit:]
        if len(current) + len(piece) > limit:
            parts.append(current)
            current = ""
        current += piece
    if current:
        parts.append(current)
    return [p.strip("\n") for p in parts if p.strip()]


def choice_payload(text: str | None, choices: list[str] | None) -> str | None:
    """The payload a digit answer («1», «１», «1番») stands for, if it is one."""
    if not text or not choices:
        return None
    folded = unicodedata.normalize("NFKC", text).strip().rstrip("番。.")
    if folded.isdigit() and 1 <= int(folded) <= len(choices):
        return choices[int(folded) - 1]
    return None
