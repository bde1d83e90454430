"""Restricted-hour windows: parse ``"HH:MM-HH:MM;..."``, weekday/weekend, minute-of-week masks.

Truck no-parking zones and restricted roads carry their hours as text such as
``"07:00-09:00;17:00-19:00"`` or ``"22:00-06:00"`` (a window that crosses midnight). This module
turns such text into a :class:`WeeklySchedule`, a boolean mask over the 10 080 minutes of a week
(Monday 00:00 is minute 0), so that millions of GPS times are tested with one array lookup.

Conventions (documented once, used everywhere):

* **Inclusive start, exclusive end.** ``07:00-09:00`` covers 07:00:00 up to but not including
  09:00:00. A truck seen at exactly 07:00 is inside; at exactly 09:00 it is outside.
* **Crossing midnight.** A window whose end is not after its start (``22:00-06:00``) runs into the
  next day. It belongs to the day it *starts*: a weekday window ``22:00-06:00`` on Friday covers
  Friday 22:00 to Saturday 06:00, even when the weekend has no restriction of its own.
* ``00:00-24:00`` and ``全天`` mean the whole day; an empty text means no restriction.
* **Working and rest days.** Monday-Friday use the weekday (工作日) windows, Saturday-Sunday the
  weekend (周末) ones; with a :class:`HolidayCalendar` statutory holidays use the weekend windows
  and adjusted working days (调休) the weekday ones.
* **Time zone.** Asia/Shanghai (UTC+8, no daylight saving since 1991). Times without an offset
  are local Asia/Shanghai times; times with an offset (``+08:00``, ``Z``, ``+00:00``) are
  converted to Asia/Shanghai first. Times are handled as integer seconds since the Unix epoch.

Examples
--------
>>> s = WeeklySchedule.from_text("07:00-09:00", weekend="")
>>> t = to_epoch_seconds(["2022-08-01 07:00", "2022-08-01 09:00", "2022-08-06 07:30"])
>>> s.contains(t).tolist()        # Monday 07:00 in, Monday 09:00 out, Saturday out
[True, False, False]
>>> night = WeeklySchedule.from_text("22:00-06:00")
>>> night.contains(to_epoch_seconds(["2022-08-02T05:59:59+08:00", "2022-08-01T22:30:00Z"])).tolist()
[True, False]
>>> int(night.overlap_seconds(to_epoch_seconds(["2022-08-01 21:50"]),
...                           to_epoch_seconds(["2022-08-01 22:10"]))[0])
600
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ..errors import InputError

__all__ = [
    "TimeWindow",
    "WeeklySchedule",
    "HolidayCalendar",
    "local_day_numbers",
    "parse_windows",
    "to_epoch_seconds",
    "minute_of_week",
    "local_iso",
    "local_date",
    "TZ",
    "TZ_OFFSET_S",
    "MINUTES_PER_WEEK",
]

#: The time zone of every time in zlgis truck data.
TZ = "Asia/Shanghai"
#: Asia/Shanghai is UTC+8 all year (no daylight saving since 1991).
TZ_OFFSET_S = 8 * 3600
MINUTES_PER_DAY = 1440
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
# 1970-01-01 was a Thursday: weekday index 3 with Monday = 0.
_EPOCH_WEEKDAY = 3

_WINDOW_SEP = re.compile(r"[;；,，、/\s]+")
_WINDOW = re.compile(r"^(\d{1,2})[:：](\d{2})\s*[-–—~～至到]\s*(\d{1,2})[:：](\d{2})$")
_ALL_DAY = {"全天", "全日", "00:00-24:00", "0:00-24:00", "24h", "24小时"}
_SAME_AS_WEEKDAY = {"同工作日", "同平日", "同上"}
_NONE = {"", "无", "不限", "-", "nan", "none"}


@dataclass(frozen=True)
class TimeWindow:
    """One daily window ``[start, end)`` in minutes after midnight; ``end <= start`` crosses it.

    >>> TimeWindow(22 * 60, 6 * 60).crosses_midnight
    True
    >>> TimeWindow(0, 1440).minutes
    1440
    """

    start: int
    end: int

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    @property
    def minutes(self) -> int:
        """Length of the window in minutes."""
        if self.end > self.start:
            return self.end - self.start
        return MINUTES_PER_DAY - self.start + self.end

    def __str__(self) -> str:
        e = self.end
        return f"{self.start // 60:02d}:{self.start % 60:02d}-{e // 60:02d}:{e % 60:02d}"


def parse_windows(text: Any, *, path: str | None = None, layer: str | None = None,
                  row: int | None = None, field: str | None = None) -> tuple[TimeWindow, ...]:
    """Parse ``"HH:MM-HH:MM;HH:MM-HH:MM"`` into windows.

    Separators ``;`` ``；`` ``,`` ``，`` ``、`` and dashes ``-`` ``~`` ``～`` ``至`` are accepted;
    ``全天`` means the whole day; empty text, ``无`` or ``不限`` mean no window.

    Raises
    ------
    InputError
        Naming the file, layer, row and field, when the text is not a list of windows.

    Examples
    --------
    >>> [str(w) for w in parse_windows("07:00-09:00；17:00～19:30")]
    ['07:00-09:00', '17:00-19:30']
    >>> parse_windows("22:00-06:00")[0].crosses_midnight
    True
    >>> parse_windows(None)
    ()
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ()
    s = str(text).strip()
    if s.lower() in _NONE:
        return ()
    if s in _ALL_DAY:
        return (TimeWindow(0, MINUTES_PER_DAY),)
    out = []
    # split on separators that are not inside a window ("07:00 - 09:00" keeps its spaces)
    s = re.sub(r"\s*([-–—~～至到])\s*", r"\1", s)
    for part in _WINDOW_SEP.split(s):
        if not part:
            continue
        if part in _ALL_DAY:
            out.append(TimeWindow(0, MINUTES_PER_DAY))
            continue
        m = _WINDOW.match(part)
        if not m:
            raise InputError(f"时段“{part}”格式无效，应为 HH:MM-HH:MM，多个时段以分号分隔",
                             path=path, layer=layer, row=row, field=field)
        h1, m1, h2, m2 = map(int, m.groups())
        if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
            raise InputError(f"时段“{part}”中的时间超出范围（00:00-24:00）",
                             path=path, layer=layer, row=row, field=field)
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if start == end:
            raise InputError(f"时段“{part}”起止时间相同；全天请写 00:00-24:00 或“全天”",
                             path=path, layer=layer, row=row, field=field)
        out.append(TimeWindow(start, end))
    return tuple(out)


def _day_mask(windows: Sequence[TimeWindow], day: int, mask: NDArray[np.bool_]) -> None:
    base = day * MINUTES_PER_DAY
    for w in windows:
        if w.end > w.start:
            mask[base + w.start: base + w.end] = True
        else:  # crosses midnight: start day to the end, then into the next day (wraps the week)
            mask[base + w.start: base + MINUTES_PER_DAY] = True
            nxt = ((day + 1) % 7) * MINUTES_PER_DAY
            mask[nxt: nxt + w.end] = True


def _two_day_mask(windows: Sequence[TimeWindow]) -> NDArray[np.bool_]:
    """Minutes restricted by windows starting on a day: that day (0-1439) and the next (1440-)."""
    m = np.zeros(2 * MINUTES_PER_DAY, dtype=bool)
    for w in windows:
        if w.end > w.start:
            m[w.start: w.end] = True
        else:
            m[w.start: MINUTES_PER_DAY] = True
            m[MINUTES_PER_DAY: MINUTES_PER_DAY + w.end] = True
    return m


class HolidayCalendar:
    """Statutory rest days and adjusted working days (调休), for weekday/weekend windows.

    A zone's 工作日 hours apply on working days and its 周末 hours on rest days. A rest day is a
    Saturday or Sunday that is not an adjusted working day, or a statutory holiday. Dates are
    local (Asia/Shanghai) calendar days.

    Examples
    --------
    >>> import datetime as dt
    >>> cal = HolidayCalendar(holidays=[dt.date(2022, 6, 3)], workdays=[dt.date(2022, 10, 8)])
    >>> days = local_day_numbers(to_epoch_seconds(["2022-06-03 08:00", "2022-10-08 08:00",
    ...                                            "2022-06-06 08:00"]))
    >>> cal.rest_day(days).tolist()        # holiday Friday, working Saturday, plain Monday
    [True, False, False]
    """

    def __init__(self, holidays: Iterable[Any] = (), workdays: Iterable[Any] = (),
                 source: str = "") -> None:
        self.holidays = frozenset(_as_date(d) for d in holidays)
        self.workdays = frozenset(_as_date(d) for d in workdays)
        self.source = source
        epoch = _dt.date(1970, 1, 1)
        self._hol = np.array(sorted((d - epoch).days for d in self.holidays), dtype=np.int64)
        self._work = np.array(sorted((d - epoch).days for d in self.workdays), dtype=np.int64)

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None) -> "HolidayCalendar | None":
        """From a config section with ``holidays`` and ``workdays`` lists (None when empty)."""
        if not section:
            return None
        cal = cls(section.get("holidays") or (), section.get("workdays") or (),
                  str(section.get("source", "")))
        return cal if (cal.holidays or cal.workdays) else None

    def rest_day(self, days: ArrayLike) -> NDArray[np.bool_]:
        """True for local day numbers (days since 1970-01-01) that are rest days."""
        days = np.asarray(days, dtype=np.int64)
        weekend = (days + _EPOCH_WEEKDAY) % 7 >= 5
        return (weekend & ~np.isin(days, self._work)) | np.isin(days, self._hol)

    def __repr__(self) -> str:
        return f"HolidayCalendar({len(self.holidays)} holidays, {len(self.workdays)} workdays)"


def _as_date(d: Any) -> _dt.date:
    if isinstance(d, _dt.datetime):
        return d.date()
    if isinstance(d, _dt.date):
        return d
    try:
        return _dt.date.fromisoformat(str(d).strip())
    except ValueError:
        raise InputError(f"节假日日期“{d}”格式无效，应为 YYYY-MM-DD", field="calendar") from None


def local_day_numbers(t: ArrayLike) -> NDArray[np.int64]:
    """Local (Asia/Shanghai) day numbers (days since 1970-01-01) of epoch seconds."""
    return (np.asarray(t, dtype=np.int64) + TZ_OFFSET_S) // 86400


@dataclass(frozen=True)
class WeeklySchedule:
    """Restricted minutes of a week as a boolean mask (Monday 00:00 = minute 0).

    Parameters
    ----------
    mask : ndarray of bool, shape (10080,)
    text : str
        Human-readable description (kept for outputs and popups).
    day_masks : ndarray of bool, shape (2, 2880), optional
        Minutes restricted by the windows starting on a working day (row 0) and a rest day
        (row 1): that day, then the spill of windows crossing midnight into the next day.
    calendar : HolidayCalendar, optional
        Statutory holidays and adjusted working days. Without it Monday-Friday are working
        days and Saturday-Sunday rest days (the fast minute-of-week path).
    """

    mask: NDArray[np.bool_]
    text: str = ""
    day_masks: NDArray[np.bool_] | None = None
    calendar: HolidayCalendar | None = None

    @classmethod
    def from_windows(cls, weekday: Sequence[TimeWindow],
                     weekend: Sequence[TimeWindow] | None = None, text: str = "", *,
                     calendar: HolidayCalendar | None = None) -> "WeeklySchedule":
        """Build from weekday windows (Mon-Fri) and weekend windows (Sat-Sun; None = weekday's)."""
        weekend = weekday if weekend is None else weekend
        mask = np.zeros(MINUTES_PER_WEEK, dtype=bool)
        for day in range(7):
            _day_mask(weekday if day < 5 else weekend, day, mask)
        days = np.stack([_two_day_mask(weekday), _two_day_mask(weekend)])
        return cls(mask, text, days, calendar)

    @classmethod
    def from_text(cls, weekday: Any, weekend: Any = None, *, weekend_field: str | None = None,
                  calendar: HolidayCalendar | None = None, **where: Any) -> "WeeklySchedule":
        """Parse weekday (and optional weekend) window text; ``weekend=None`` repeats weekday.

        ``where`` (path, layer, row, field) names the source in error messages (the weekend
        text's field is ``weekend_field``). An empty
        weekend text (``""``) means no restriction at weekends; ``同工作日`` repeats the weekday
        hours.

        >>> WeeklySchedule.from_text("07:00-09:00", "").restricted_minutes
        600
        """
        wd = parse_windows(weekday, **where)
        if isinstance(weekend, str) and weekend.strip() in _SAME_AS_WEEKDAY:
            weekend = None
        if weekend is None or (isinstance(weekend, float) and np.isnan(weekend)):
            we = None
            text = "、".join(map(str, wd)) or "不限"
        else:
            we = parse_windows(weekend, **{**where, "field": weekend_field or where.get("field")})
            text = (f"工作日 {'、'.join(map(str, wd)) or '不限'}；"
                    f"周末 {'、'.join(map(str, we)) or '不限'}")
        return cls.from_windows(wd, we, text, calendar=calendar)

    @property
    def restricted_minutes(self) -> int:
        """Restricted minutes per week."""
        return int(self.mask.sum())

    @property
    def empty(self) -> bool:
        return not self.mask.any()

    def contains(self, t: ArrayLike) -> NDArray[np.bool_]:
        """True where epoch seconds ``t`` fall in a restricted minute (start in, end out)."""
        if self.calendar is None or self.day_masks is None:
            return self.mask[minute_of_week(t)]
        local = np.asarray(t, dtype=np.int64) + TZ_OFFSET_S
        day = local // 86400
        m = (local // 60) % MINUTES_PER_DAY
        today = self.calendar.rest_day(day).astype(np.intp)
        yesterday = self.calendar.rest_day(day - 1).astype(np.intp)
        return self.day_masks[today, m] | self.day_masks[yesterday, MINUTES_PER_DAY + m]

    def overlap_seconds(self, start: ArrayLike, end: ArrayLike) -> NDArray[np.int64]:
        """Restricted seconds inside each interval ``[start, end)`` (epoch seconds), vectorised.

        A stop that begins before a window and ends inside it overlaps by the part inside.
        """
        start = np.asarray(start, dtype=np.int64)
        end = np.asarray(end, dtype=np.int64)
        if self.calendar is None or self.day_masks is None:
            return self._cum_seconds(end) - self._cum_seconds(start)
        out = np.zeros(len(start), dtype=np.int64)
        for i, (s0, e0) in enumerate(zip(start.tolist(), end.tolist())):
            if e0 <= s0:
                continue
            d0 = (s0 + TZ_OFFSET_S) // 86400
            d1 = (e0 + TZ_OFFSET_S) // 86400
            rest = self.calendar.rest_day(np.arange(d0 - 1, d1 + 1)).astype(np.intp)
            dm = self.day_masks[rest]
            mm = (dm[1:, :MINUTES_PER_DAY] | dm[:-1, MINUTES_PER_DAY:]).ravel()  # days d0..d1
            cum = _cumsum(mm)

            def g(t: int) -> int:
                mins, sec = divmod(t + TZ_OFFSET_S - d0 * 86400, 60)
                return int(cum[mins]) * 60 + (int(mm[mins]) * sec if mins < len(mm) else 0)

            out[i] = g(e0) - g(s0)
        return out

    def with_calendar(self, calendar: HolidayCalendar | None) -> "WeeklySchedule":
        """The same windows, with working and rest days taken from ``calendar``."""
        return replace(self, calendar=calendar)

    def _cum_seconds(self, t: NDArray[np.int64]) -> NDArray[np.int64]:
        # restricted seconds from the epoch's local Monday 00:00 before t
        cum = _cumsum(self.mask)
        local = t + TZ_OFFSET_S + _EPOCH_WEEKDAY * 86400  # seconds since a local Monday 00:00
        minutes, sec = np.divmod(local, 60)
        weeks, mow = np.divmod(minutes, MINUTES_PER_WEEK)
        return (weeks * cum[-1] + cum[mow]) * 60 + self.mask[mow] * sec


def _cumsum(mask: NDArray[np.bool_]) -> NDArray[np.int64]:
    out = np.zeros(mask.size + 1, dtype=np.int64)
    np.cumsum(mask, out=out[1:])
    return out


def to_epoch_seconds(values: Any, *, path: str | None = None, layer: str | None = None,
                     field: str | None = None) -> NDArray[np.int64]:
    """Times (text, datetime, pandas) as int64 seconds since the epoch (UTC).

    Naive times are Asia/Shanghai local times; aware ones (``+08:00``, ``Z``) are converted.
    Unparseable or missing times raise :class:`InputError` naming the first bad row (1-based,
    counting data rows).

    >>> a, b = to_epoch_seconds(["2022-08-01 08:00", "2022-08-01T00:00:00Z"])
    >>> bool(a == b)
    True
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        dt = s
    else:
        dt = None
        for fmt in ("ISO8601", "mixed"):
            try:
                dt = pd.to_datetime(s, errors="coerce", format=fmt)
            except (ValueError, TypeError):
                continue
            if pd.api.types.is_datetime64_any_dtype(dt.dtype) and not (
                    fmt == "ISO8601" and dt.isna().any()):
                break
            dt = None
        if dt is None:
            # mixed naive and aware values: naive ones are local Asia/Shanghai times
            dt = pd.to_datetime(pd.Series([_one(v) for v in s], index=s.index),
                                errors="coerce", utc=True)
    bad = dt.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"时间“{s.iloc[i]}”无法识别（应为 2022-08-01 07:30 或带 +08:00 的 ISO 时间）",
                         path=path, layer=layer, row=i + 1, field=field)
    if getattr(dt.dt, "tz", None) is None:
        ns = dt.to_numpy().astype("datetime64[ns]").astype(np.int64)
        return ns // 1_000_000_000 - TZ_OFFSET_S
    ns = dt.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype("datetime64[ns]")
    return ns.astype(np.int64) // 1_000_000_000


def _one(v: Any) -> Any:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return pd.NaT
    try:
        ts = pd.Timestamp(v)
    except (ValueError, TypeError):
        return pd.NaT
    if ts is pd.NaT:
        return pd.NaT
    return ts.tz_localize(TZ) if ts.tzinfo is None else ts


def minute_of_week(t: ArrayLike) -> NDArray[np.int64]:
    """Minute of the local (Asia/Shanghai) week, Monday 00:00 = 0, for epoch seconds ``t``.

    >>> int(minute_of_week(to_epoch_seconds(["2022-08-01 07:30"]))[0])  # a Monday
    450
    """
    local = np.asarray(t, dtype=np.int64) + TZ_OFFSET_S
    return (local // 60 + _EPOCH_WEEKDAY * MINUTES_PER_DAY) % MINUTES_PER_WEEK


def local_iso(t: ArrayLike) -> list[str]:
    """Epoch seconds as ISO text with the +08:00 offset.

    >>> local_iso(to_epoch_seconds(["2022-08-01 07:30"]))
    ['2022-08-01T07:30:00+08:00']
    """
    local = (np.asarray(t, dtype=np.int64) + TZ_OFFSET_S).astype("datetime64[s]")
    return [f"{str(v)}+08:00" for v in local]


def local_date(t: ArrayLike) -> NDArray[Any]:
    """Local calendar day (``datetime64[D]``) of epoch seconds.

    >>> str(local_date(to_epoch_seconds(["2022-08-01T23:30:00+08:00"]))[0])
    '2022-08-01'
    """
    return (np.asarray(t, dtype=np.int64) + TZ_OFFSET_S).astype("datetime64[s]").astype(
        "datetime64[D]")
