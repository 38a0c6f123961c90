"""GET /api/v1/stats: the town's figures for a fiscal year (年度), aggregates only."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from api import audit
from api.access import Principal, ensure_municipality, require
from api.db.models import utcnow
from api.db.session import get_db
from api.services import stats as service

router = APIRouter(prefix="/stats", tags=["stats"])


class ConsultationFigures(BaseModel):
    total: int
    urgent: int
    by_channel: dict[str, int]
    by_domain: dict[str, int] = Field(description="A consultation counts once in each domain.")
    by_pattern: dict[str, int]
    by_route: dict[str, int]


class CasesByMeeting(BaseModel):
    multi_agency_meeting: int = Field(description="Discussed at a 重層的支援会議")
    support_meeting_only: int = Field(description="Discussed only at a 支援会議")
    no_meeting: int


class CompoundFigures(BaseModel):
    consultations: int = Field(description="Consultations triaged as compound")
    cases_opened: int = Field(description="Cases opened for the coordinator (相談事例件数)")
    cases_by_meeting: CasesByMeeting = Field(description="Cases opened, by meetings held")
    cases_closed: int = Field(description="Cases closed (終結) in the year")


class MeetingFigures(BaseModel):
    total: int
    by_kind: dict[str, int] = Field(description="support_meeting, multi_agency_meeting")


class ReferralFigures(BaseModel):
    total: int
    by_status: dict[str, int]
    by_outcome: dict[str, int]
    accepted: int
    median_hours_to_acceptance: float | None = Field(
        description="From sending to acceptance; null when none was accepted."
    )


class StatsOut(BaseModel):
    municipality: str
    fiscal_year: int = Field(description="年度 Y: 1 April Y to 31 March Y+1, Japan time")
    from_: date = Field(alias="from")
    to: date
    timezone: str
    consultations: ConsultationFigures
    compound_cases: CompoundFigures
    meetings: MeetingFigures
    referrals: ReferralFigures


@router.get("", response_model=StatsOut, response_model_by_alias=True)
def get_stats(
    principal: Annotated[Principal, Depends(require("stats.read"))],
    db: Annotated[Session, Depends(get_db)],
    municipality: Annotated[str | None, Query(max_length=32, description="Own town")] = None,
    year: Annotated[
        int | None, Query(ge=2000, le=2100, description="年度 [default: the current one]")
    ] = None,
) -> StatsOut:
    municipality = municipality or principal.municipality
    ensure_municipality(principal, municipality)
    year = year if year is not None else service.fiscal_year_of(utcnow())
    figures = service.figures(db, municipality, year)
    audit.record(db, principal, "read", "stats", f"{municipality}:{year}", basis="statistics")
    db.commit()
    return StatsOut.model_validate(figures)
