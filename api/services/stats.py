"""The figures a town reports for a fiscal year (年度), as in seed 000 section 4: counts only.

A Japanese fiscal year Y runs from 1 April Y to 31 March Y+1, Japan time. Consultations,
cases and referrals count in the year they were opened (created); meetings in the year they
were held. Nothing here carries content, names or ids of people.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, get_args

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from api.db.models import Case, Consultation, Meeting, Referral
from api.services.deadlines import JST
from api.services.intake import Channel
from api.services.referrals import OUTCOMES, STATUSES
from routing_rules.result import DOMAINS, PATTERNS, ROUTES

MEETING_KINDS = ("support_meeting", "multi_agency_meeting")  # 支援会議, 重層的支援会議


@dataclass(frozen=True, slots=True)
class FiscalYear:
    year: int

    @property
    def first_day(self) -> date:
        return date(self.year, 4, 1)

    @property
    def last_day(self) -> date:
        return date(self.year + 1, 3, 31)

    @property
    def start(self) -> datetime:
        """The first instant (aware, JST); the year ends just before next year's start."""
        return datetime(self.year, 4, 1, tzinfo=JST)

    @property
    def end(self) -> datetime:
        return datetime(self.year + 1, 4, 1, tzinfo=JST)


def fiscal_year_of(moment: datetime) -> int:
    local = moment.astimezone(JST)
    return local.year if local.month >= 4 else local.year - 1


def _tally(keys: Iterable[str], values: Iterable[Any]) -> dict[str, int]:
    """Zero-filled counts for the known keys; values seen but not known are kept too."""
    counts = Counter(str(v) for v in values if v is not None)
    return {**{k: counts.get(k, 0) for k in keys}, **counts}


def figures(db: Session, municipality: str, year: int) -> dict[str, Any]:
    fy = FiscalYear(year)
    in_year = (Consultation.created_at >= fy.start, Consultation.created_at < fy.end)
    consultations = db.execute(
        select(
            Consultation.channel,
            Consultation.route,
            Consultation.urgent,
            Consultation.compound,
            Consultation.domains,
            Consultation.patterns,
        ).where(Consultation.municipality == municipality, *in_year)
    ).all()

    return {
        "municipality": municipality,
        "fiscal_year": year,
        "from": fy.first_day.isoformat(),
        "to": fy.last_day.isoformat(),
        "timezone": "Asia/Tokyo",
        "consultations": {
            "total": len(consultations),
            "urgent": sum(1 for c in consultations if c.urgent),
            "by_channel": _tally(get_args(Channel), (c.channel for c in consultations)),
            "by_domain": _tally(DOMAINS, (d for c in consultations for d in c.domains)),
            "by_pattern": _tally(PATTERNS, (p for c in consultations for p in c.patterns)),
            "by_route": _tally(ROUTES, (c.route for c in consultations)),
        },
        "compound_cases": _cases(db, municipality, fy, consultations),
        "meetings": _meetings(db, municipality, fy),
        "referrals": _referrals(db, municipality, fy),
    }


def _cases(
    db: Session, municipality: str, fy: FiscalYear, consultations: Sequence[Row[Any]]
) -> dict[str, Any]:
    opened = select(Case.id).where(
        Case.municipality == municipality, Case.opened_at >= fy.start, Case.opened_at < fy.end
    )
    case_ids = set(db.scalars(opened))
    # As the town reports them: each case under the highest meeting it reached by year end.
    kinds: dict[str, set[str]] = {}
    for case_id, kind in db.execute(
        select(Meeting.case_id, Meeting.kind).where(
            Meeting.case_id.in_(opened), Meeting.held_on <= fy.last_day
        )
    ):
        kinds.setdefault(case_id, set()).add(kind)
    multi = sum(1 for k in kinds.values() if "multi_agency_meeting" in k)
    support_only = sum(
        1 for k in kinds.values() if "support_meeting" in k and "multi_agency_meeting" not in k
    )
    closed = db.scalar(
        select(func.count()).where(
            Case.municipality == municipality, Case.closed_at >= fy.start, Case.closed_at < fy.end
        )
    )
    return {
        "consultations": sum(1 for c in consultations if c.compound),
        "cases_opened": len(case_ids),
        "cases_by_meeting": {
            "multi_agency_meeting": multi,
            "support_meeting_only": support_only,
            "no_meeting": len(case_ids) - multi - support_only,
        },
        "cases_closed": closed or 0,
    }


def _meetings(db: Session, municipality: str, fy: FiscalYear) -> dict[str, Any]:
    rows = db.execute(
        select(Meeting.kind, func.count())
        .join(Case, Case.id == Meeting.case_id)
        .where(
            Case.municipality == municipality,
            Meeting.held_on >= fy.first_day,
            Meeting.held_on <= fy.last_day,
        )
        .group_by(Meeting.kind)
    ).all()
    by_kind = {kind: 0 for kind in MEETING_KINDS} | {kind: n for kind, n in rows}
    return {"total": sum(by_kind.values()), "by_kind": by_kind}


def _referrals(db: Session, municipality: str, fy: FiscalYear) -> dict[str, Any]:
    rows = db.execute(
        select(Referral.status, Referral.outcome, Referral.created_at, Referral.accepted_at).where(
            Referral.municipality == municipality,
            Referral.created_at >= fy.start,
            Referral.created_at < fy.end,
        )
    ).all()
    waits = [
        (r.accepted_at - r.created_at).total_seconds() / 3600
        for r in rows
        if r.accepted_at is not None
    ]
    return {
        "total": len(rows),
        "by_status": _tally(STATUSES, (r.status for r in rows)),
        "by_outcome": _tally(OUTCOMES, (r.outcome for r in rows)),
        "accepted": len(waits),
        "median_hours_to_acceptance": round(statistics.median(waits), 2) if waits else None,
    }
