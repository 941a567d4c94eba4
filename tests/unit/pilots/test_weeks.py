"""ISO weeks in UTC: parsing, bounds, year boundaries, previous / next and the future."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from shared.pilots.weeks import (
    InvalidWeek,
    IsoWeek,
    last_complete_week,
    parse_past_or_current_week,
    parse_week_id,
    week_of,
    weeks_in_year,
)
from shared.platform.errors import BadRequest


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_a_week_id_parses_to_its_monday_to_monday_utc_bounds() -> None:
    week = parse_week_id("2026-W49")
    assert (week.year, week.week, week.week_id, str(week)) == (2026, 49, "2026-W49", "2026-W49")
    assert week.monday == date(2026, 11, 30) and week.monday.isoweekday() == 1
    assert week.sunday == date(2026, 12, 6)
    assert week.bounds() == (utc(2026, 11, 30), utc(2026, 12, 7))
    assert week.end - week.start == timedelta(days=7)


def test_2026_has_53_weeks_and_w53_straddles_new_year() -> None:
    assert weeks_in_year(2026) == 53
    week = parse_week_id("2026-W53")
    assert week.monday == date(2026, 12, 28)
    assert week.sunday == date(2027, 1, 3)
    assert week.start == utc(2026, 12, 28)
    assert week.end == utc(2027, 1, 4)
    assert week.contains(utc(2027, 1, 3, 23, 59, 59, 999999))
    assert not week.contains(utc(2027, 1, 4))
    assert week_of(utc(2027, 1, 1, 12)) == week
    assert week_of(utc(2026, 12, 31)) == week


def test_2027_w01_starts_on_the_first_monday_after_2026_w53() -> None:
    first = parse_week_id("2027-W01")
    assert first.monday == date(2027, 1, 4)
    assert first.start == parse_week_id("2026-W53").end
    assert first.previous() == parse_week_id("2026-W53")
    assert parse_week_id("2026-W53").next() == first
    assert week_of(utc(2027, 1, 4)) == first
    assert week_of(utc(2027, 1, 3, 23, 59, 59)) == parse_week_id("2026-W53")


def test_years_with_52_weeks_wrap_from_w52_and_jan_days_can_belong_to_the_old_year() -> None:
    assert weeks_in_year(2025) == 52 and weeks_in_year(2027) == 52
    assert parse_week_id("2026-W01").previous() == parse_week_id("2025-W52")
    assert parse_week_id("2027-W52").next() == parse_week_id("2028-W01")
    # 1 January 2021 was a Friday: it belongs to 2020-W53.
    assert week_of(utc(2021, 1, 1)) == parse_week_id("2020-W53")
    # 29 December 2025 is a Monday: it starts 2026-W01.
    assert week_of(utc(2025, 12, 29)) == parse_week_id("2026-W01")


@pytest.mark.parametrize(
    "value",
    [
        "2025-W53",  # 2025 has 52 weeks
        "2027-W53",
        "2026-W00",
        "2026-W54",
        "2026-W9",
        "2026-w09",
        "2026W09",
        "2026-W09-1",
        " 2026-W09",
        "2026-W09\n",
        "26-W09",
        "1999-W10",
        "9999-W01",
        "２０２６-W09",  # full-width digits
        "",
        None,
        202609,
    ],
)
def test_malformed_or_impossible_weeks_are_refused_with_a_400(value: object) -> None:
    with pytest.raises(InvalidWeek) as caught:
        parse_week_id(value)
    assert isinstance(caught.value, BadRequest)
    assert caught.value.status == 400 and caught.value.code == "invalid_week"


def test_weeks_are_built_only_for_real_weeks() -> None:
    assert IsoWeek.of(2020, 53).week_id == "2020-W53"
    with pytest.raises(InvalidWeek):
        IsoWeek.of(2021, 53)


def test_week_of_reads_naive_datetimes_as_utc_and_converts_offsets() -> None:
    assert week_of(datetime(2026, 11, 30, 0, 0)) == parse_week_id("2026-W49")
    # Sunday 23:30 in New York is already Monday in UTC.
    eastern = datetime.fromisoformat("2026-12-06T23:30:00-05:00")
    assert week_of(eastern) == parse_week_id("2026-W50")


def test_future_means_not_started_yet() -> None:
    week = parse_week_id("2026-W49")
    assert week.is_future(utc(2026, 11, 29, 23, 59, 59))
    assert not week.is_future(utc(2026, 11, 30))
    assert not week.is_future(utc(2026, 12, 3))  # the current week is not in the future
    assert not week.is_complete(utc(2026, 12, 6, 23, 59))
    assert week.is_complete(utc(2026, 12, 7))
    assert not week.is_future(datetime(2026, 12, 1))  # naive is UTC


def test_the_monday_timer_takes_last_week_even_across_the_year_end() -> None:
    assert last_complete_week(utc(2027, 1, 4, 0, 5)) == parse_week_id("2026-W53")
    assert last_complete_week(utc(2026, 12, 7, 6)) == parse_week_id("2026-W49")
    assert last_complete_week(utc(2026, 12, 6, 23, 59)) == parse_week_id("2026-W48")


def test_a_recompute_week_must_be_well_formed_and_not_in_the_future() -> None:
    now = utc(2026, 12, 2, 9)
    assert parse_past_or_current_week("2026-W49", now).week_id == "2026-W49"
    assert parse_past_or_current_week("2026-W48", now).week_id == "2026-W48"
    with pytest.raises(InvalidWeek, match="has not started"):
        parse_past_or_current_week("2026-W50", now)
    with pytest.raises(InvalidWeek):
        parse_past_or_current_week("2026-W5O", now)


def test_weeks_order_chronologically() -> None:
    weeks = [parse_week_id(value) for value in ("2027-W01", "2026-W53", "2026-W02")]
    assert [week.week_id for week in sorted(weeks)] == ["2026-W02", "2026-W53", "2027-W01"]
