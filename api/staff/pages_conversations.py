"""A resident's conversation (LINE, SMS, web chat) for the coordinator: the messages in time
order and a form to answer a resident who asked for a person.

Reads and the answer go through api/services/conversations.py, exactly as the JSON API's
(GET/POST /api/v1/conversations/{id}/messages): the same town scope, the same audit on the
basis resident_contact, the same outbox write. Message text is never logged.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.db.session import get_db
from api.services import conversations as service
from api.staff import session
from api.staff.render import back, render
from api.staff.session import StaffSession

router = APIRouter(prefix="/conversations")
Db = Annotated[Session, Depends(get_db)]
Reader = Annotated[StaffSession, Depends(session.page("conversation.read"))]
Answerer = Annotated[StaffSession, Depends(session.action("conversation.answer"))]


# Words for the codes of messages (the shared labels use "sent" etc. for referrals).
KINDS = {
    "text": "テキスト",
    "postback": "ボタンを選んだ",
    "sticker": "スタンプ",
    "image": "画像",
    "follow": "友だち追加",
    "unfollow": "ブロック",
    "opt_out": "受け取り停止",
    "opt_in": "受け取り再開",
    "other": "その他",
}
ORIGINS = {
    "bot": "自動応答（ボット）",
    "fallback": "自動応答（定型文）",
    "notice": "お知らせ",
    "staff": "職員",
}
DELIVERY = {
    "pending": "送信待ち",
    "sending": "送信中",
    "sent": "送信済み",
    "failed": "送信できませんでした",
    "dropped": "送っていません（受け取り停止中）",
}


@router.get("/{conversation_id}")
def conversation_page(conversation_id: str, request: Request, staff: Reader, db: Db) -> Response:
    principal = staff.principal
    conversation = service.get(db, principal, conversation_id)
    items = service.messages(db, principal, conversation)
    db.commit()
    return render(
        request,
        "conversation.html",
        staff,
        conversation=conversation,
        items=items,
        kinds=KINDS,
        origins=ORIGINS,
        delivery=DELIVERY,
        max_text=service.MAX_ANSWER_CHARS,
    )


@router.post("/{conversation_id}/messages")
def answer(
    conversation_id: str, staff: Answerer, db: Db, text: Annotated[str, Form()] = ""
) -> Response:
    conversation = service.get(db, staff.principal, conversation_id)
    page = f"/staff/conversations/{conversation.id}"
    if conversation.opted_out:
        return back(page, error="opted_out")
    text = text.strip()
    if not text or len(text) > service.MAX_ANSWER_CHARS:
        return back(page, error="invalid")
    service.answer_resident(db, staff.principal, conversation, text)
    return back(page, ok="answered")
