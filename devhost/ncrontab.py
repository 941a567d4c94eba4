"""Six-field NCRONTAB schedules (second minute hour day month day-of-week) as timer triggers use them, in UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# The longest each month can be (February in a leap year), to reject schedules that never fire.
_MAX_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_SEARCH_YEARS = 8


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    names_start: int = 0


_FIELDS = (
    _Field("second", 0, 59),
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day", 1, 31),
    _Field("month", 1, 12, MONTH_NAMES, 1),
    # 7 is accepted as Sunday and folded to 0 after parsing.
    _Field("day-of-week", 0, 7, DAY_NAMES, 0),
)


@dataclass(frozen=True, slots=True)
class CronSchedule:
    """A parsed schedule: the allowed values of each field."""

    expression: str
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    days_restricted: bool
    weekdays_restricted: bool

    def matches_day(self, moment: datetime) -> bool:
        """Whether the date fits day-of-month and day-of-week (either one when both are restricted, as cron does)."""
        day_ok = moment.day in self.days
        # Python counts Monday as 0; cron counts Sunday as 0.
        weekday_ok = (moment.weekday() + 1) % 7 in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return day_ok or weekday_ok
        return day_ok and weekday_ok

    def next_after(self, after: datetime) -> datetime:
        """The first occurrence strictly after `after` (naive means UTC), as an aware UTC datetime."""
        moment = _as_utc(after).replace(microsecond=0) + timedelta(seconds=1)
        limit = moment + timedelta(days=366 * _SEARCH_YEARS)
        while moment <= limit:
            if moment.month not in self.months:
                moment = _first_of_next_month(moment)
                continue
            if not self.matches_day(moment):
                moment = (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0)
                continue
            if moment.hour not in self.hours:
                moment = (moment + timedelta(hours=1)).replace(minute=0, second=0)
                continue
            if moment.minute not in self.minutes:
                moment = (moment + timedelta(minutes=1)).replace(second=0)
                continue
            if moment.second not in self.seconds:
                moment += timedelta(seconds=1)
                continue
            return moment
        raise ValueError(f"schedule {self.expression!r} has no occurrence within {_SEARCH_YEARS} years of {after}")


@lru_cache(maxsize=256)
def parse(expression: str) -> CronSchedule:
    """Parse a six-field NCRONTAB expression; ValueError when it is malformed or can never fire."""
    parts = expression.split()
    if len(parts) != len(_FIELDS):
        raise ValueError(
            f"NCRONTAB {expression!r} needs 6 fields (second minute hour day month day-of-week), got {len(parts)}"
        )
    values = [_parse_field(part, spec, expression) for part, spec in zip(parts, _FIELDS, strict=True)]
    weekdays = frozenset(0 if day == 7 else day for day in values[5])
    schedule = CronSchedule(
        expression=expression,
        seconds=values[0],
        minutes=values[1],
        hours=values[2],
        days=values[3],
        months=values[4],
        weekdays=weekdays,
        days_restricted=not parts[3].startswith("*"),
        weekdays_restricted=not parts[5].startswith("*"),
    )
    never_fires = not any(min(schedule.days) <= _MAX_MONTH_DAYS[month - 1] for month in schedule.months)
    if schedule.days_restricted and not schedule.weekdays_restricted and never_fires:
        raise ValueError(f"NCRONTAB {expression!r} names days that none of its months have")
    return schedule


def next_occurrence(expression: str, after: datetime) -> datetime:
    """The first time strictly after `after` (naive means UTC) that the schedule fires, as aware UTC."""
    return parse(expression).next_after(after)


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _first_of_next_month(moment: datetime) -> datetime:
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return moment.replace(year=year, month=month, day=1, hour=0, minute=0, second=0)


def _parse_field(text: str, spec: _Field, expression: str) -> frozenset[int]:
    values: set[int] = set()
    for item in text.split(","):
        if item == "":
            raise ValueError(f"NCRONTAB {expression!r}: empty item in the {spec.name} field")
        range_text, _, step_text = item.partition("/")
        step = 1
        if step_text or item.endswith("/"):
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(f"NCRONTAB {expression!r}: bad step {item!r} in the {spec.name} field")
            step = int(step_text)
        if range_text == "*":
            low, high = spec.low, spec.high
        elif "-" in range_text:
            low_text, _, high_text = range_text.partition("-")
            low, high = _value(low_text, spec, expression), _value(high_text, spec, expression)
            if low > high:
                raise ValueError(f"NCRONTAB {expression!r}: range {range_text!r} runs backwards")
        else:
            low = _value(range_text, spec, expression)
            # `5/15` means from 5 to the end of the field in steps of 15.
            high = spec.high if step_text else low
        values.update(range(low, high + 1, step))
    return frozenset(values)


def _value(text: str, spec: _Field, expression: str) -> int:
    upper = text.upper()
    if upper in spec.names:
        return spec.names.index(upper) + spec.names_start
    if not text.isdigit():
        raise ValueError(f"NCRONTAB {expression!r}: {text!r} is not a valid {spec.name}")
    number = int(text)
    if not spec.low <= number <= spec.high:
        raise ValueError(f"NCRONTAB {expression!r}: {spec.name} {number} is outside {spec.low}-{spec.high}")
    return number
