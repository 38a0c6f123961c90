"""Rendering the staff pages: one Jinja2 environment (autoescaped), Japanese labels and
messages, dates in Japan time."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.services.deadlines import JST
from api.staff.session import StaffSession
from routing_rules.result import LABEL_NAMES_JA

TEMPLATES = Path(__file__).parent / "templates"

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"], default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)

# Words the pages show for the service's codes (the triage labels come from the engine).
LABELS: dict[str, str] = {
    **LABEL_NAMES_JA,
    # roles
    "body_staff": "相談支援機関",
    "outreach": "アウトリーチ支援員",
    "admin": "管理者",
    # referral states and outcomes
    "sent": "送付済み（未確認）",
    "received": "確認済み",
    "accepted": "受理",
    "rejected": "不受理",
    "completed": "完了",
    "withdrawn": "取り下げ",
    "resolved": "解決",
    "ongoing_support": "継続支援中",
    "referred_on": "他機関へつないだ",
    "declined": "本人が辞退",
    "unreachable_person": "連絡がとれない",
    "other": "その他",
    # case states
    "open": "受付",
    "planning": "プラン作成中",
    "monitoring": "モニタリング中",
    "closed": "終結",
    # meetings and disclosure
    "support_meeting": "支援会議",
    "multi_agency_meeting": "重層的支援会議",
    "consent": "本人同意",
    "vital_interest": "生命・身体の保護",
    "admin_review": "管理者による確認",
    "referral": "つなぎ（紹介）",
    # contact logs
    "visit": "訪問",
    "phone": "電話",
    "letter": "手紙",
    "met": "会えた・話せた",
    "not_home": "不在",
    "refused": "拒否された",
    "no_answer": "応答なし",
    "letter_sent": "手紙を置いた・送った",
    # channels
    "line": "LINE",
    "sms": "SMS",
    "web": "Webチャット",
    # timeline events
    "case_opened": "ケース開始",
    "case_closed": "終結",
    "consultation": "相談",
    "referral_sent": "つなぎ送付",
    "referral_received": "つなぎ確認",
    "referral_accepted": "つなぎ受理",
    "referral_rejected": "つなぎ不受理",
    "referral_completed": "つなぎ完了",
    "referral_withdrawn": "つなぎ取り下げ",
    "consent_recorded": "同意を記録",
    "consent_refused": "同意なしを記録",
    "consent_revoked": "同意の撤回",
    "meeting": "会議",
    "monitoring_note": "モニタリング記録",
    "alert": "緊急アラート",
    "alert_acknowledged": "アラート確認",
    "status_changed": "状態の変更",
    "plan_saved": "支援プラン保存",
}

# Outcome "unreachable" is a triage label too (倒れている・連絡がとれない); a referral's
# outcome reads differently, so the pages ask for it by this key.
OUTCOME_KEYS = {"unreachable": "unreachable_person"}

# Results of a POST, shown after the redirect (?ok=… or ?error=…). Only these keys are
# shown: a page never echoes text from the address, so a link cannot put words on it.
NOTICES = {
    "received": "確認しました。",
    "accepted": "受理しました。",
    "rejected": "不受理にしました。",
    "completed": "完了にしました。",
    "withdrawn": "取り下げました。",
    "meeting": "会議を記録しました。",
    "consent": "同意を記録しました。",
    "plan": "支援プランを保存しました。",
    "status": "状態を変更しました。",
    "note": "モニタリングを記録しました。",
    "closed": "終結しました。",
    "contact": "記録を保存しました。",
    "answered": "返信を送りました（順に配信されます）。",
    "answered_handover": "対応済みにしました。",
    "acknowledged": "確認済みにしました。",
}
ERRORS = {
    "illegal_transition": "この状態ではその操作はできません。",
    "reason_required": "理由を入力してください。",
    "outcome_required": "結果を選んでください。",
    "case_closed": "このケースは終結しています。",
    "consent_required": "本人の同意（重層的支援会議）が及ばない機関が出席者にいます。"
    "同意を記録するか、支援会議として開いてください。",
    "confidentiality_required": "支援会議の出席者は全員、守秘義務がある人でなければなりません。",
    "body_required": "重層的支援会議の出席者には、機関を選んでください。",
    "unknown_body": "この町の機関ではないものが選ばれています。",
    "plan_required": "モニタリングの前に支援プランを保存してください。",
    "invalid": "入力内容を確認してください。",
    "opted_out": "この方は受け取りを停止しています（SMSの停止・LINEのブロック）。"
    "返信は送れません。",
    "person_or_unidentified": "対象者を選ぶか、わからない場合は特徴を書いてください"
    "（どちらか一方）。",
    "contacted_at_future": "日時が未来になっています。",
    "unknown_person": "その対象者は見つかりません。",
    "client_ref_conflict": "同じ記録番号で内容の違う記録があります。",
}


def label(code: Any) -> str:
    return LABELS.get(str(code), str(code))


def jst(value: datetime | date | None, with_time: bool = True) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        local = value.astimezone(JST)
        return local.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")
    return value.isoformat()


def duration(seconds: int) -> str:
    days, rest = divmod(max(0, seconds), 86_400)
    hours = rest // 3600
    return f"{days}日{hours}時間" if days else f"{hours}時間"


def outcome(code: str | None) -> str:
    return label(OUTCOME_KEYS.get(code or "", code or ""))


def spans(text: str, evidence: list[Any]) -> list[tuple[str, Any]]:
    """The text cut into (piece, evidence or None), so the words that decided are marked.

    Offsets are into the text triaged (the turns joined by newlines); overlapping matches
    keep the first one.
    """
    pieces: list[tuple[str, Any]] = []
    at = 0
    for e in sorted(evidence, key=lambda e: (e.start, -e.end)):
        if e.start < at or e.end > len(text) or e.start >= e.end:
            continue
        if e.start > at:
            pieces.append((text[at : e.start], None))
        pieces.append((text[e.start : e.end], e))
        at = e.end
    if at < len(text):
        pieces.append((text[at:], None))
    return pieces


env.filters.update(label=label, jst=jst, duration=duration, outcome=outcome)
env.globals.update(spans=spans)


HEADERS = {
    # Case data must not linger in shared browsers' caches or history.
    "Cache-Control": "no-store",
    # Only this app's own files: no other site's script, style or font, no framing.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def render(
    request: Request,
    template: str,
    session: StaffSession | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    ok = request.query_params.get("ok")
    error = request.query_params.get("error")
    html = env.get_template(template).render(
        request=request,
        session=session,
        notice=NOTICES.get(ok or ""),
        error=ERRORS.get(error or "", ERRORS["invalid"] if error else None),
        **context,
    )
    return HTMLResponse(html, status_code=status_code, headers=HEADERS)


def back(path: str, *, ok: str | None = None, error: str | None = None) -> RedirectResponse:
    """After a POST, back to a page (303: the browser GETs it), with a result to show."""
    query = f"?ok={ok}" if ok else f"?error={error}" if error else ""
    return RedirectResponse(path + query, status_code=303)
