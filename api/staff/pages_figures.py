"""The town's figures for a fiscal year (年度): a table, bar charts and a CSV download.

The numbers are api/services/stats.py's (the same as GET /api/v1/stats), counts only;
reading them is audited as the API's read of the stats.
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api import audit
from api.db.models import utcnow
from api.db.session import get_db
from api.services import stats as service
from api.staff import session
from api.staff.charts import bar_chart
from api.staff.render import label, outcome, render
from api.staff.session import StaffSession

router = APIRouter()
Db = Annotated[Session, Depends(get_db)]
Reader = Annotated[StaffSession, Depends(session.page("stats.read"))]
Year = Annotated[int | None, Query(ge=2000, le=2100)]

CASES_BY_MEETING = {
    "multi_agency_meeting": "重層的支援会議で話し合った",
    "support_meeting_only": "支援会議のみ",
    "no_meeting": "会議なし",
}


def sections(f: dict[str, Any]) -> list[tuple[str, list[tuple[str, int | float | None]]]]:
    """The figures as (section, [(item, value)]): one layout for the table, charts and CSV."""
    c, k, m, r = f["consultations"], f["compound_cases"], f["meetings"], f["referrals"]
    return [
        (
            "相談",
            [("相談件数", c["total"]), ("うち緊急", c["urgent"])]
            + [(f"経路：{label(ch)}", n) for ch, n in c["by_channel"].items()],
        ),
        ("相談の分野", [(label(d), n) for d, n in c["by_domain"].items()]),
        ("相談のパターン", [(label(p), n) for p, n in c["by_pattern"].items()]),
        (
            "複合ケース",
            [
                ("複合と判定された相談", k["consultations"]),
                ("開始したケース", k["cases_opened"]),
                ("終結したケース", k["cases_closed"]),
            ]
            + [(CASES_BY_MEETING[key], n) for key, n in k["cases_by_meeting"].items()],
        ),
        ("会議", [(label(kind), n) for kind, n in m["by_kind"].items()]),
        (
            "つなぎ",
            [
                ("つなぎ件数", r["total"]),
                ("受理までの時間（中央値、時間）", r["median_hours_to_acceptance"]),
            ]
            + [(f"状態：{label(s)}", n) for s, n in r["by_status"].items()],
        ),
        ("つなぎの結果", [(outcome(o), n) for o, n in r["by_outcome"].items()]),
    ]


CHARTED = ("相談の分野", "相談のパターン", "複合ケース", "会議", "つなぎの結果")


def _figures(db: Session, staff: StaffSession, year: int | None) -> dict[str, Any]:
    municipality = staff.principal.municipality or ""
    year = year if year is not None else service.fiscal_year_of(utcnow())
    figures = service.figures(db, municipality, year)
    audit.record(db, staff.principal, "read", "stats", f"{municipality}:{year}", basis="statistics")
    db.commit()
    return figures


@router.get("/figures")
def figures_page(request: Request, staff: Reader, db: Db, year: Year = None) -> Response:
    figures = _figures(db, staff, year)
    table = sections(figures)
    charts = [
        (title, bar_chart(title, [(name, int(v or 0)) for name, v in rows], f"chart-{i}"))
        for i, (title, rows) in enumerate(table)
        if title in CHARTED
    ]
    this_year = service.fiscal_year_of(utcnow())
    return render(
        request,
        "figures.html",
        staff,
        f=figures,
        table=table,
        charts=charts,
        years=range(this_year, this_year - 6, -1),
    )


@router.get("/figures.csv")
def figures_csv(staff: Reader, db: Db, year: Year = None) -> Response:
    """UTF-8 with a BOM, so that Excel opens the Japanese as Japanese."""
    figures = _figures(db, staff, year)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["年度", "区分", "項目", "値"])
    for section, rows in sections(figures):
        for name, value in rows:
            writer.writerow([figures["fiscal_year"], section, name, "" if value is None else value])
    name = f"tsunagu-{figures['municipality']}-{figures['fiscal_year']}.csv"
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
