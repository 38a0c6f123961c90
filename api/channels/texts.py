"""What the bridge itself says to residents, in やさしい日本語 (short, plain words)."""

from __future__ import annotations

from routing_rules import TriageResult

# The bot is down or too slow: the message is kept and becomes a consultation for staff.
RECEIVED = "受け付けました。担当者から連絡します。"
NOT_TEXT = (
    "ありがとうございます。スタンプや写真は読めません。困っていることを、文字で送ってください。"
)
WELCOME = "友だち追加ありがとうございます。困っていることを、文字で送ってください。"
SMS_RESUMED = "メッセージの受け取りを再開しました。困っていることを送ってください。"
# SMS numbered choices: 「1 はい」「2 いいえ」, answered with the digit.
CHOOSE = "番号で答えてください。"
# The shown text recorded with the consent of a consultation the bridge files itself.
FALLBACK_CONSENT = (
    "（チャットの自動応答が使えなかったため、職員が内容を確認します。同意はまだです。）"
)


def emergency_text(result: TriageResult) -> str:
    """The emergency lines the triage named, as one message."""
    lines = [f"{line.name} {line.number}" for line in result.emergency]
    return "\n".join(["いのちの危険があるときは、すぐに電話してください。", *lines])
