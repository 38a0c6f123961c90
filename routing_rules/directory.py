"""Municipality directories: consultation bodies, catchment areas and emergency lines."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from routing_rules.compiled import PACKAGE_DIR
from routing_rules.result import BodyRef, EmergencyLine
from routing_rules.yaml_data import read_yaml

DIRECTORY_DIR = PACKAGE_DIR / "directories"


class UnknownMunicipality(ValueError):
    def __init__(self, municipality: str) -> None:
        known = ", ".join(municipality_ids())
        super().__init__(f"unknown municipality {municipality!r} (known: {known})")
        self.municipality = municipality


@dataclass(frozen=True, slots=True)
class Body:
    id: str
    name: str
    kind: str
    areas: tuple[str, ...]
    default: bool

    @property
    def ref(self) -> BodyRef:
        return BodyRef(self.id, self.name)


@dataclass(frozen=True, slots=True)
class Line:
    id: str
    name: str
    number: str
    reasons: frozenset[str]
    domains: frozenset[str]  # empty: for everyone; else only when one of these is at stake

    @property
    def ref(self) -> EmergencyLine:
        return EmergencyLine(self.id, self.name, self.number)


@dataclass(frozen=True)
class Municipality:
    id: str
    name: str
    general_window: str
    bodies: tuple[Body, ...]
    aliases: dict[str, str]  # a spelling of a place -> the area name bodies list
    lines: tuple[Line, ...]
    reason_tags: dict[str, list[str]]  # an urgent reason -> the line tags that serve it
    local_rules: dict
    # Referral acknowledgement: business days for a body to receive a referral (urgent:
    # the same day), counted on the town's office calendar (Japanese holidays, 12/29-1/3).
    acknowledge_business_days: int

    def body(self, body_id: str) -> Body:
        return next(b for b in self.bodies if b.id == body_id)

    def body_for(self, kind: str, area: str | None) -> Body:
        """The body of this kind that serves the area; else the kind's default body."""
        candidates = [b for b in self.bodies if b.kind == kind]
        if not candidates:
            return self.body(self.general_window)
        if area:
            for body in candidates:
                if area in body.areas:
                    return body
        return next(
            (b for b in candidates if b.default),
            next((b for b in candidates if not b.areas), candidates[0]),
        )

    def find_area(self, text: str) -> tuple[str, int, int] | None:
        """A catchment place name written in the text (first one), with its NFKC span."""
        pattern = _place_patterns(self.id)
        m = pattern.search(text) if pattern else None
        return (self.aliases[m[0]], m.start(), m.end()) if m else None

    def resolve_area(self, area: str | None) -> str | None:
        """The caller's area as a catchment name: 「成田二丁目」 -> 成田; unknown stays as given."""
        if not area:
            return None
        pattern = _place_patterns(self.id)
        m = pattern.search(area) if pattern else None
        return self.aliases[m[0]] if m else area.strip() or None

    def emergency_lines(self, reasons: set[str], domains: set[str]) -> tuple[EmergencyLine, ...]:
        if not reasons:
            return ()
        reasons = reasons | {tag for r in reasons for tag in self.reason_tags.get(r, ())}
        return tuple(
            line.ref
            for line in self.lines
            if line.reasons & reasons and (not line.domains or line.domains & domains)
        )


def _lines(entries: list[dict]) -> list[Line]:
    return [
        Line(
            e["id"],
            e["name"],
            str(e["number"]),
            frozenset(e["for"]),
            frozenset(e.get("domains", ())),
        )
        for e in entries
    ]


@cache
def load_municipality(municipality: str) -> Municipality:
    path = DIRECTORY_DIR / f"{municipality}.yml"
    if municipality not in municipality_ids():
        raise UnknownMunicipality(municipality)
    data = read_yaml(path)
    bodies = tuple(
        Body(b["id"], b["name"], b["kind"], tuple(b.get("areas", ())), bool(b.get("default")))
        for b in data["bodies"]
    )
    aliases = {a: a for b in bodies for a in b.areas}
    aliases.update(data.get("area_aliases") or {})
    national = read_yaml(DIRECTORY_DIR / "emergency.yml")
    return Municipality(
        id=data["municipality"]["id"],
        name=data["municipality"]["name"],
        general_window=data["general_window"],
        bodies=bodies,
        aliases=aliases,
        lines=tuple(_lines([*national["lines"], *(data.get("emergency_lines") or [])])),
        reason_tags=national["reason_tags"],
        local_rules=data.get("rules") or {},
        acknowledge_business_days=int(
            (data.get("referrals") or {}).get("acknowledge_business_days", 2)
        ),
    )


@cache
def _place_patterns(municipality: str) -> re.Pattern[str] | None:
    names = sorted(load_municipality(municipality).aliases, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, names))) if names else None


@cache
def municipality_ids() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in DIRECTORY_DIR.glob("*.yml") if p.stem != "emergency"))
