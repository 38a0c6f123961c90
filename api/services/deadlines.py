"""When a body must acknowledge a referral: business days on a Japanese office calendar."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

JST = ZoneInfo("Asia/Tokyo")
CLOSE_OF_BUSINESS = time(17, 15)  # 地方公共団体の執務時間 (8:30-17:15)


@cache
def _holidays(year: int) -> holidays.HolidayBase:
    return holidays.Japan(years=year)


def is_business_day(day: date) -> bool:
    # Municipal offices close on weekends, national holidays and 12/29-1/3 (年末年始).
    year_end = (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)
    return day.weekday() < 5 and day not in _holidays(day.year) and not year_end


def add_business_days(start: date, days: int) -> date:
    day = start
    while days > 0:
        day += timedelta(days=1)
        if is_business_day(day):
            days -= 1
    return day


def acknowledgement_due(sent_at: datetime, business_days: int, urgent: bool) -> datetime:
    """Urgent: by the end of the same calendar day (danger does not wait for office hours).
    Otherwise: close of business on the n-th business day after the day it was sent."""
    local = sent_at.astimezone(JST)
    if urgent:
        return datetime.combine(local.date(), time(23, 59, 59), JST)
    return datetime.combine(add_business_days(local.date(), business_days), CLOSE_OF_BUSINESS, JST)
