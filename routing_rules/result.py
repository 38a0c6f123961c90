"""The triage result: immutable records that say what was decided and why."""

from __future__ import annotations

from typing import Any, ClassVar, Final

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
    "no_carer": "ひとりで暮らせない人に、今夜から世話をする人がいない",
    "fraud": "いま詐欺・悪質な業者にお金をとられそう",
    "no_medical": "今日病院にかかる必要があるのに、かかれない",
}


class Record:
    """An immutable value, equal, hashed and shown by its fields.

    Not a dataclass: mypyc compiles these to native classes whose fields are read-only, but a
    dataclass's generated __init__ would run as interpreted Python for every triage.
    """

    FIELDS: ClassVar[tuple[str, ...]] = ()

    def values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.FIELDS)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.values() == other.values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self.values())

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={value!r}" for name, value in zip(self.FIELDS, self.values(), strict=True)
        )
        return f"{type(self).__name__}({fields})"

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON: records become dicts, tuples of records tuples of dicts."""
        return {name: _plain(value) for name, value in zip(self.FIELDS, self.values(), strict=True)}


def _plain(value: Any) -> Any:
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value


class Evidence(Record):
    """One matched rule: which rule, what it says, and the words that fired it."""

    FIELDS = ("rule", "label", "description", "text", "start", "end")

    def __init__(
        self,
        rule: str,
        label: str,
        description: str,  # the rule's short Japanese description, for staff
        text: str,
        start: int,  # offset in the caller's original text (not the normalized one)
        end: int,
    ) -> None:
        self.rule: Final = rule
        self.label: Final = label
        self.description: Final = description
        self.text: Final = text
        self.start: Final = start
        self.end: Final = end


class BodyRef(Record):
    FIELDS = ("id", "name")

    def __init__(self, id: str, name: str) -> None:  # noqa: A002 (the directory's field)
        self.id: Final = id
        self.name: Final = name


class EmergencyLine(Record):
    FIELDS = ("id", "name", "number")

    def __init__(self, id: str, name: str, number: str) -> None:  # noqa: A002
        self.id: Final = id
        self.name: Final = name
        self.number: Final = number


class TriageResult(Record):
    FIELDS = (
        "domains",
        "patterns",
        "compound",
        "urgent",
        "route",
        "body",
        "involved",
        "emergency",
        "evidence",
        "urgent_reasons",
        "municipality",
        "area",
        "rules_version",
    )

    def __init__(
        self,
        domains: tuple[str, ...],
        patterns: tuple[str, ...],
        compound: bool,
        urgent: bool,
        route: str,
        body: BodyRef,
        involved: tuple[BodyRef, ...],  # one body per domain, for a compound case
        emergency: tuple[EmergencyLine, ...],
        evidence: tuple[Evidence, ...],
        urgent_reasons: tuple[str, ...],
        municipality: str,
        area: str | None,  # the catchment area used: the caller's, or one named in the text
        rules_version: str,
    ) -> None:
        self.domains: Final = domains
        self.patterns: Final = patterns
        self.compound: Final = compound
        self.urgent: Final = urgent
        self.route: Final = route
        self.body: Final = body
        self.involved: Final = involved
        self.emergency: Final = emergency
        self.evidence: Final = evidence
        self.urgent_reasons: Final = urgent_reasons
        self.municipality: Final = municipality
        self.area: Final = area
        self.rules_version: Final = rules_version

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        for key in ("domains", "patterns", "urgent_reasons"):
            data[key] = list(data[key])
        return data
