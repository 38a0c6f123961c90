"""The triage result: immutable records that say what was decided and why."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Final

DOMAINS: Final = ("elderly", "disability", "child", "poverty")
PATTERNS: Final = (
    "8050",
    "double_care",
    "young_carer",
    "hikikomori",
    "abuse",
    "dv",
    "suicide_risk",
    "isolation",
)
# Patterns that make a case compound on their own (SPEC: compound).
COMPOUND_PATTERNS: Final = frozenset({"8050", "double_care", "young_carer"})
ROUTES: Final = ("coordinator", *DOMAINS, "general")

# What staff read for each label (CLI, pages).
LABEL_NAMES_JA: Final = {
    "elderly": "高齢・介護",
    "disability": "障がい",
    "child": "子ども・子育て",
    "poverty": "生活困窮",
    "8050": "8050問題",
    "double_care": "ダブルケア",
    "young_carer": "ヤングケアラー",
    "hikikomori": "ひきこもり",
    "abuse": "虐待",
    "dv": "DV（配偶者・交際相手からの暴力）",
    "suicide_risk": "希死念慮・自傷",
    "isolation": "孤立・安否不明",
    "coordinator": "多機関協働（複合的な課題）",
    "general": "総合相談",
    "urgent": "緊急",
    # urgent reasons
    "no_food": "今日の食べ物・お金がない",
    "no_shelter": "今夜泊まる場所がない",
    "lifeline_cut": "電気・ガス・水道が止まっている",
    "unreachable": "倒れている・連絡がとれない",
}


@dataclass(frozen=True, slots=True)
class Evidence:
    """One matched rule: which rule, what it says, and the words that fired it."""

    rule: str
    label: str
    description: str  # the rule's short Japanese description, for staff
    text: str
    start: int  # offset in the caller's original text (not the normalized one)
    end: int


@dataclass(frozen=True, slots=True)
class BodyRef:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class EmergencyLine:
    id: str
    name: str
    number: str


@dataclass(frozen=True, slots=True)
class TriageResult:
    domains: tuple[str, ...]
    patterns: tuple[str, ...]
    compound: bool
    urgent: bool
    route: str
    body: BodyRef
    involved: tuple[BodyRef, ...]  # one body per domain, for a compound case
    emergency: tuple[EmergencyLine, ...]
    evidence: tuple[Evidence, ...]
    urgent_reasons: tuple[str, ...]
    municipality: str
    area: str | None  # the catchment area used: the caller's, or one named in the text
    rules_version: str

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("domains", "patterns", "urgent_reasons"):
            data[key] = list(data[key])
        return data
