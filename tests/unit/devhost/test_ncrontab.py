"""Six-field NCRONTAB schedules, in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from devhost.ncrontab import next_occurrence, parse


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def occurrences(expression: str, start: datetime, count: int) -> list[datetime]:
    found, moment = [], start
    for _ in range(count):
        moment = next_occurrence(expression, moment)
        found.append(moment)
    return found


def test_every_five_minutes():
    assert occurrences("0 */5 * * * *", at(2026, 3, 1, 10, 2, 30), 3) == [
        at(2026, 3, 1, 10, 5),
        at(2026, 3, 1, 10, 10),
        at(2026, 3, 1, 10, 15),
    ]


def test_daily_at_three_crosses_the_month_and_year():
    assert occurrences("0 0 3 * * *", at(2026, 12, 31, 3, 0, 0), 2) == [at(2027, 1, 1, 3), at(2027, 1, 2, 3)]


def test_weekdays_at_half_past_nine():
    # 2026-11-27 is a Friday.
    assert occurrences("0 30 9 * * MON-FRI", at(2026, 11, 27, 10, 0), 3) == [
        at(2026, 11, 30, 9, 30),
        at(2026, 12, 1, 9, 30),
        at(2026, 12, 2, 9, 30),
    ]


def test_monthly_on_the_first():
    assert occurrences("0 0 0 1 * *", at(2026, 1, 15), 3) == [at(2026, 2, 1), at(2026, 3, 1), at(2026, 4, 1)]


def test_strictly_after_an_occurrence():
    assert next_occurrence("0 */5 * * * *", at(2026, 3, 1, 10, 5)) == at(2026, 3, 1, 10, 10)
    assert next_occurrence("* * * * * *", at(2026, 3, 1, 10, 5, 0) + timedelta(milliseconds=400)) == at(
        2026, 3, 1, 10, 5, 1
    )


def test_naive_means_utc_and_other_zones_are_converted():
    assert next_occurrence("0 0 3 * * *", datetime(2026, 5, 1, 2, 0)) == at(2026, 5, 1, 3)
    paris = timezone(timedelta(hours=2))
    # 04:30 in UTC+2 is 02:30 UTC.
    assert next_occurrence("0 0 3 * * *", datetime(2026, 5, 1, 4, 30, tzinfo=paris)) == at(2026, 5, 1, 3)


def test_lists_ranges_steps_and_names():
    schedule = parse("5,10 1-10/3 */6 1-31/10 jan,JUL-AUG sun")
    assert schedule.seconds == {5, 10}
    assert schedule.minutes == {1, 4, 7, 10}
    assert schedule.hours == {0, 6, 12, 18}
    assert schedule.days == {1, 11, 21, 31}
    assert schedule.months == {1, 7, 8}
    assert schedule.weekdays == {0}
    assert parse("0 0 0 * * 7").weekdays == {0}
    assert parse("0 0 0 * * 5/1").weekdays == {5, 6, 0}
    assert parse("0 15/20 * * * *").minutes == {15, 35, 55}


def test_day_of_month_and_day_of_week_combine_like_cron():
    # Both restricted: the 13th OR a Friday.
    found = occurrences("0 0 0 13 * FRI", at(2026, 11, 1), 4)
    assert found == [at(2026, 11, 6), at(2026, 11, 13), at(2026, 11, 20), at(2026, 11, 27)]
    # Only day-of-week restricted: every Sunday, whatever the day of month.
    assert next_occurrence("0 0 0 * * 0", at(2026, 11, 27)) == at(2026, 11, 29)


def test_february_29th_is_found_in_the_next_leap_year():
    assert next_occurrence("0 0 12 29 2 *", at(2026, 3, 1)) == at(2028, 2, 29, 12)


@pytest.mark.parametrize(
    "expression",
    [
        "0 */5 * * *",
        "0 0 0 0 * * *",
        "60 * * * * *",
        "* 60 * * * *",
        "* * 24 * * *",
        "* * * 0 * *",
        "* * * 32 * *",
        "* * * * 13 *",
        "* * * * * 8",
        "* * * * FOO *",
        "* * * * * MONDAY",
        "*/0 * * * * *",
        "*/x * * * * *",
        "5/ * * * * *",
        "10-5 * * * * *",
        "1,,2 * * * * *",
        "0 0 0 30 2 *",
        "00:05:00",
        "",
    ],
)
def test_invalid_expressions_raise_at_parse_time(expression: str):
    with pytest.raises(ValueError):
        parse(expression)
