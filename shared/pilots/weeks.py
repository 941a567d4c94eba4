"""ISO 8601 weeks in UTC: the `weekId` of pilot snapshots and attestations (`2026-W49`).

An ISO week starts on Monday 00:00 UTC and ends the next Monday 00:00 UTC (exclusive). Week 1 of an ISO
year is the week holding that year's first Thursday, so an ISO year has 52 or 53 weeks and its first or last
days may belong to the neighbouring calendar year: 2026-W53 runs from Monday 2026-12-28 to Sunday 2027-01-03,
and 2027-W01 starts on Monday 2027-01-04.

A `weekId` is exactly `YYYY-Www` (four-digit year, upper-case W, two-digit week): `2026-W9`, `2026w09` and
`2026-W09-1` are refused, as are weeks the year does not have (2025-W53) and years outside
MIN_YEAR..MAX_YEAR. Snapshots show a week as dates: weekStart is its Monday and weekEnd its Sunday
(both inclusive, `YYYY-MM-DD`); queries use the instants `start` (inclusive) and `end` (exclusive).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from shared.platform.errors import BadRequest

WEEK_ID_PATTERN = re.compile(r"(?P<year>[0-9]{4})-W(?P<week>[0-9]{2})")
# Pilots started long after 2000; the upper bound keeps next() and previous() inside datetime's range.
MIN_YEAR = 2000
MAX_YEAR = 9998


class InvalidWeek(BadRequest):
    """A weekId that is malformed or names a week the ISO calendar does not have."""

    code = "invalid_week"


def weeks_in_year(year: int) -> int:
    """52 or 53: the ISO week number of 28 December, which always lies in the year's last week."""
    return date(year, 12, 28).isocalendar().week


@dataclass(frozen=True, slots=True, order=True)
class IsoWeek:
    """One ISO week (year, week number); build it with parse_week_id, week_of or IsoWeek.of."""

    year: int
    week: int

    def __post_init__(self) -> None:
        if not MIN_YEAR <= self.year <= MAX_YEAR or not 1 <= self.week <= weeks_in_year(self.year):
            raise InvalidWeek(f"{self.year}-W{self.week:02d} is not a week of the ISO calendar")

    @classmethod
    def of(cls, year: int, week: int) -> IsoWeek:
        """The week `week` of ISO year `year` (InvalidWeek when the year has no such week)."""
        return cls(year, week)

    @property
    def week_id(self) -> str:
        """The canonical `YYYY-Www` form."""
        return f"{self.year:04d}-W{self.week:02d}"

    @property
    def monday(self) -> date:
        """The week's first day."""
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def sunday(self) -> date:
        """The week's last day."""
        return self.monday + timedelta(days=6)

    @property
    def start(self) -> datetime:
        """Monday 00:00 UTC, the first instant of the week (inclusive)."""
        return datetime.combine(self.monday, datetime.min.time(), tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The next Monday 00:00 UTC, the first instant after the week (exclusive)."""
        return self.start + timedelta(days=7)

    def bounds(self) -> tuple[datetime, datetime]:
        """(start inclusive, end exclusive) as aware UTC datetimes."""
        return self.start, self.end

    def contains(self, moment: datetime) -> bool:
        """Whether an instant falls inside the week (a naive datetime is taken as UTC)."""
        aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return self.start <= aware < self.end

    def previous(self) -> IsoWeek:
        """The week before (2027-W01 → 2026-W53)."""
        return week_of(self.start - timedelta(days=1))

    def next(self) -> IsoWeek:
        """The week after (2026-W53 → 2027-W01)."""
        return week_of(self.end)

    def is_future(self, now: datetime) -> bool:
        """Whether the week has not started yet at `now`; the current week is not in the future."""
        aware = now if now.tzinfo else now.replace(tzinfo=UTC)
        return self.start > aware

    def is_complete(self, now: datetime) -> bool:
        """Whether the week is over at `now` (its numbers can no longer grow)."""
        aware = now if now.tzinfo else now.replace(tzinfo=UTC)
        return self.end <= aware

    def __str__(self) -> str:
        return self.week_id


def parse_week_id(value: object) -> IsoWeek:
    """A `YYYY-Www` weekId as an IsoWeek; InvalidWeek (400) for anything else."""
    if not isinstance(value, str):
        raise InvalidWeek("weekId must be a string like 2026-W49")
    match = WEEK_ID_PATTERN.fullmatch(value)
    if match is None:
        raise InvalidWeek("weekId must look like 2026-W49 (ISO year, W, two-digit week)")
    return IsoWeek(int(match["year"]), int(match["week"]))


def week_of(moment: datetime) -> IsoWeek:
    """The ISO week holding an instant, in UTC (a naive datetime is taken as UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    calendar = aware.astimezone(UTC).isocalendar()
    return IsoWeek(calendar.year, calendar.week)


def last_complete_week(now: datetime) -> IsoWeek:
    """The most recent week that is over at `now`: what the Monday snapshot timer computes."""
    return week_of(now).previous()


def parse_past_or_current_week(value: object, now: datetime) -> IsoWeek:
    """A weekId for a recompute: well-formed and not in the future at `now` (400 otherwise)."""
    week = parse_week_id(value)
    if week.is_future(now):
        raise InvalidWeek(f"{week.week_id} has not started yet")
    return week
