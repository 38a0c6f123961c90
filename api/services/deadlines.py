"""When a body must acknowledge a referral, and by when a person answers a resident who
asked for one: business days and office hours on a Japanese office calendar."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

JST = ZoneInfo("Asia/Tokyo")
OPENING = time(8, 30)  # 地方公共団体の執務時間 (8:30-17:15)
CLOSE_OF_BUSINESS = time(17, 15)
PERSON_ANSWERS_WITHIN = timedelta(hours=1)


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


def in_office_hours(moment: datetime) -> bool:
    local = moment.astimezone(JST)
    return is_business_day(local.date()) and OPENING <= local.time() < CLOSE_OF_BUSINESS


def person_answer_by(now: datetime) -> datetime:
    """By when staff answer a resident who asked to talk to a person (人と話したい): within
    the hour in office hours; otherwise within the first hour after the office next opens."""
    local = now.astimezone(JST)
    if in_office_hours(local):
        return local + PERSON_ANSWERS_WITHIN
    # Before opening on a business day, the office opens later that same day.
    opens_today = is_business_day(local.date()) and local.time() < OPENING
    day = local.date() if opens_today else add_business_days(local.date(), 1)
    return datetime.combine(day, OPENING, JST) + PERSON_ANSWERS_WITHIN
