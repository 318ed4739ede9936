"""Simulated time: epoch milliseconds, ISO-8601 rendering and working calendars."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

HOUR = 3_600_000
DAY = 24 * HOUR
MINUTE = 60_000

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_minute_prefix: dict[int, str] = {}


def to_ms(dt: datetime) -> int:
    """Epoch milliseconds; a naive datetime is taken as UTC."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return (dt - EPOCH) // timedelta(milliseconds=1)


def iso(ms: int, zulu: bool = True) -> str:
    """ISO-8601 UTC with milliseconds, ending in `Z` or `+00:00`."""
    minute, rest = divmod(ms, MINUTE)
    prefix = _minute_prefix.get(minute)
    if prefix is None:
        prefix = datetime.fromtimestamp(minute * 60, UTC).strftime("%Y-%m-%dT%H:%M:")
        if len(_minute_prefix) > 200_000:
            _minute_prefix.clear()
        _minute_prefix[minute] = prefix
    sec, milli = divmod(rest, 1000)
    return f"{prefix}{sec:02d}.{milli:03d}{'Z' if zulu else '+00:00'}"


def weekday(ms: int) -> int:
    """Monday = 0; 1970-01-01 was a Thursday."""
    return (ms // DAY + 3) % 7


def hour_of_day(ms: int) -> int:
    return (ms // HOUR) % 24


class Calendar:
    """Open hours per weekday, as a 7 x 24 table."""

    def __init__(self, hours_by_weekday: dict[int, tuple[int, int]]) -> None:
        self.open = [[False] * 24 for _ in range(7)]
        for dow, (first, last) in hours_by_weekday.items():
            for h in range(first, last):
                self.open[dow][h] = True

    def is_open(self, ms: int) -> bool:
        return self.open[weekday(ms)][hour_of_day(ms)]

    def next_open(self, ms: int) -> int:
        """`ms` itself when open, else the start of the next open hour."""
        if self.is_open(ms):
            return ms
        hour = ms // HOUR + 1
        for _ in range(24 * 8):
            if self.open[(hour // 24 + 3) % 7][hour % 24]:
                return hour * HOUR
            hour += 1
        raise ValueError("calendar has no open hour")


PLANT_HOURS = Calendar({**{d: (0, 24) for d in range(5)}, 5: (6, 14)})
WAREHOUSE_HOURS = Calendar({d: (6, 22) for d in range(6)})
COUNT_HOURS = Calendar({d: (7, 19) for d in range(5)})
