"""Tests for zlgis.analysis.timewindows: parsing, edges, midnight, offsets, overlaps."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zlgis.analysis.timewindows import (
    MINUTES_PER_WEEK,
    HolidayCalendar,
    TimeWindow,
    WeeklySchedule,
    local_date,
    local_iso,
    minute_of_week,
    parse_windows,
    to_epoch_seconds,
)
from zlgis.errors import InputError

MONDAY = "2022-08-01"  # a Monday
FRIDAY = "2022-08-05"
SATURDAY = "2022-08-06"
SUNDAY = "2022-08-07"


def secs(*times: str) -> np.ndarray:
    return to_epoch_seconds(list(times))


# ------------------------------------------------------------------ parsing

def test_parse_several_windows_and_separators() -> None:
    ws = parse_windows("07:00-09:00；17:00～19:30,22:00 - 06:00")
    assert [(w.start, w.end) for w in ws] == [(420, 540), (1020, 1170), (1320, 360)]
    assert ws[2].crosses_midnight and not ws[0].crosses_midnight
    assert ws[2].minutes == 480


@pytest.mark.parametrize("text", ["", None, "无", "不限", float("nan")])
def test_parse_empty_means_no_window(text) -> None:
    assert parse_windows(text) == ()


@pytest.mark.parametrize("text", ["全天", "00:00-24:00"])
def test_parse_whole_day(text) -> None:
    (w,) = parse_windows(text)
    assert (w.start, w.end, w.minutes) == (0, 1440, 1440)
    assert WeeklySchedule.from_text(text).restricted_minutes == MINUTES_PER_WEEK


@pytest.mark.parametrize("text", ["7-9点", "25:00-06:00", "07:00-07:00", "07:60-08:00",
                                  "07:00-24:30"])
def test_parse_errors_name_layer_row_field(text) -> None:
    with pytest.raises(InputError) as err:
        parse_windows(text, layer="truck_no_parking_zones", row=3, field="weekday_hours")
    msg = str(err.value)
    assert "truck_no_parking_zones" in msg and "第 3 行" in msg and "weekday_hours" in msg


# ------------------------------------------------------------------ edges of a window

def test_start_inclusive_end_exclusive() -> None:
    s = WeeklySchedule.from_text("07:00-09:00")
    t = secs(f"{MONDAY} 06:59:59", f"{MONDAY} 07:00:00", f"{MONDAY} 08:59:59",
             f"{MONDAY} 09:00:00")
    assert s.contains(t).tolist() == [False, True, True, False]


def test_weekday_and_weekend_hours_differ() -> None:
    s = WeeklySchedule.from_text("07:00-09:00", "10:00-12:00")
    t = secs(f"{FRIDAY} 08:00", f"{SATURDAY} 08:00", f"{SATURDAY} 11:00", f"{SUNDAY} 11:59:59",
             f"{MONDAY} 11:00")
    assert s.contains(t).tolist() == [True, False, True, True, False]


def test_empty_weekend_means_unrestricted_weekend_missing_weekend_repeats_weekday() -> None:
    t = secs(f"{SATURDAY} 08:00")
    assert not WeeklySchedule.from_text("07:00-09:00", "").contains(t)[0]
    assert WeeklySchedule.from_text("07:00-09:00", None).contains(t)[0]


# ------------------------------------------------------------------ midnight

def test_window_across_midnight() -> None:
    s = WeeklySchedule.from_text("22:00-06:00")
    t = secs(f"{MONDAY} 21:59:59", f"{MONDAY} 22:00", "2022-08-02 00:00", "2022-08-02 05:59:59",
             "2022-08-02 06:00")
    assert s.contains(t).tolist() == [False, True, True, True, False]


def test_friday_night_window_runs_into_unrestricted_saturday() -> None:
    # the window belongs to the day it starts: Friday 22:00 -> Saturday 06:00
    s = WeeklySchedule.from_text("22:00-06:00", "")
    t = secs(f"{SATURDAY} 05:00", f"{SATURDAY} 23:00", f"{SUNDAY} 05:00", f"{MONDAY} 05:00")
    assert s.contains(t).tolist() == [True, False, False, False]


def test_sunday_night_window_wraps_into_monday() -> None:
    s = WeeklySchedule.from_text("", "23:00-01:00")
    t = secs(f"{SUNDAY} 23:30", "2022-08-08 00:30", "2022-08-08 01:00", f"{SATURDAY} 23:30")
    assert s.contains(t).tolist() == [True, True, False, True]


# ------------------------------------------------------------------ time zones and offsets

def test_times_with_and_without_offsets_agree() -> None:
    naive = secs(f"{MONDAY} 07:30:00")
    assert (secs(f"{MONDAY}T07:30:00+08:00") == naive).all()
    assert (secs(f"{MONDAY}T07:30:00+0800") == naive).all()
    assert (secs(f"{MONDAY}T07:30:00") == naive).all()
    assert (secs("2022-07-31T23:30:00Z") == naive).all()
    assert (secs("2022-07-31T23:30:00+00:00") == naive).all()


def test_mixed_naive_and_aware_times_in_one_column() -> None:
    t = to_epoch_seconds([f"{MONDAY} 07:30", "2022-07-31T23:30:00Z", f"{MONDAY}T07:30:00+08:00",
                          pd.Timestamp(f"{MONDAY} 07:30"),
                          dt.datetime(2022, 8, 1, 7, 30, tzinfo=dt.timezone.utc)])
    assert len(set(t[:4].tolist())) == 1
    assert t[4] == t[0] + 8 * 3600
    s = WeeklySchedule.from_text("07:00-08:00")
    assert s.contains(t).tolist() == [True, True, True, True, False]


def test_datetime_columns_naive_and_aware() -> None:
    naive = pd.Series(pd.to_datetime([f"{MONDAY} 07:30"]))
    aware = naive.dt.tz_localize("Asia/Shanghai")
    utc = aware.dt.tz_convert("UTC")
    assert to_epoch_seconds(naive)[0] == to_epoch_seconds(aware)[0] == to_epoch_seconds(utc)[0]


def test_bad_time_names_row_and_field() -> None:
    with pytest.raises(InputError) as err:
        to_epoch_seconds([f"{MONDAY} 07:00", "昨天下午"], layer="truck_pings", field="time")
    assert "第 2 行" in str(err.value) and "time" in str(err.value)


def test_minute_of_week_and_local_helpers() -> None:
    t = secs(f"{MONDAY} 00:00", f"{SUNDAY} 23:59")
    assert minute_of_week(t).tolist() == [0, MINUTES_PER_WEEK - 1]
    assert local_iso(secs(f"{MONDAY} 23:30")) == [f"{MONDAY}T23:30:00+08:00"]
    # 23:30 local is 15:30 UTC the same day; 00:30 local is the previous UTC day
    assert str(local_date(secs("2022-08-02 00:30"))[0]) == "2022-08-02"


# ------------------------------------------------------------------ overlap of stops with windows

def test_stop_beginning_before_and_ending_inside_a_window() -> None:
    s = WeeklySchedule.from_text("07:00-09:00")
    ov = s.overlap_seconds(secs(f"{MONDAY} 06:40"), secs(f"{MONDAY} 07:15:30"))
    assert ov.tolist() == [15 * 60 + 30]


def test_stop_ending_exactly_at_window_start_does_not_overlap() -> None:
    s = WeeklySchedule.from_text("07:00-09:00")
    assert s.overlap_seconds(secs(f"{MONDAY} 06:00"), secs(f"{MONDAY} 07:00")).tolist() == [0]
    assert s.overlap_seconds(secs(f"{MONDAY} 09:00"), secs(f"{MONDAY} 10:00")).tolist() == [0]


def test_overlap_across_midnight_and_weeks() -> None:
    s = WeeklySchedule.from_text("22:00-06:00")
    ov = s.overlap_seconds(secs(f"{MONDAY} 20:00"), secs("2022-08-02 08:00"))
    assert ov.tolist() == [8 * 3600]
    two_weeks = s.overlap_seconds(secs(f"{MONDAY} 00:00"), secs("2022-08-15 00:00"))
    assert two_weeks.tolist() == [2 * s.restricted_minutes * 60]


@settings(max_examples=60, deadline=None)
@given(start=st.integers(0, 3 * 7 * 86400), length=st.integers(0, 3 * 86400),
       hours=st.sampled_from(["07:00-09:00;17:00-19:00", "22:00-06:00", "00:00-24:00",
                              "06:30-06:31", ""]),
       weekend=st.sampled_from([None, "", "10:00-23:59", "21:00-03:00"]))
def test_overlap_matches_brute_force(start: int, length: int, hours: str, weekend) -> None:
    s = WeeklySchedule.from_text(hours, weekend)
    t0 = int(secs(f"{MONDAY} 00:00")[0]) + start
    t1 = t0 + length
    brute = int(s.contains(np.arange(t0, t1, dtype=np.int64)).sum()) if length else 0
    assert int(s.overlap_seconds([t0], [t1])[0]) == brute


def test_time_window_str_round_trip() -> None:
    for text in ["07:00-09:00", "22:00-06:00", "00:00-24:00"]:
        (w,) = parse_windows(text)
        assert str(w) == text
        assert parse_windows(str(w)) == (w,)
    assert TimeWindow(60, 30).crosses_midnight


# ------------------------------------------------------------------ holidays and adjusted workdays

CAL = HolidayCalendar(holidays=[dt.date(2022, 6, 3), "2022-10-03"],
                      workdays=[dt.date(2022, 10, 8)])


def test_holiday_friday_uses_weekend_hours() -> None:
    s = WeeklySchedule.from_text("07:00-09:00", "10:00-12:00", calendar=CAL)
    t = secs("2022-06-03 08:00", "2022-06-03 11:00", "2022-06-02 08:00", "2022-06-02 11:00")
    assert s.contains(t).tolist() == [False, True, True, False]
    # without the calendar, 3 June 2022 is a plain Friday
    assert s.with_calendar(None).contains(t).tolist() == [True, False, True, False]


def test_adjusted_working_saturday_uses_weekday_hours() -> None:
    s = WeeklySchedule.from_text("07:00-09:00", "", calendar=CAL)
    t = secs("2022-10-08 08:00", "2022-10-15 08:00")  # 调休 Saturday, ordinary Saturday
    assert s.contains(t).tolist() == [True, False]


def test_night_window_belongs_to_the_day_it_starts_with_holidays() -> None:
    # weekday night window; 2 June (Thu) is a working day, 3 June a holiday
    s = WeeklySchedule.from_text("22:00-06:00", "", calendar=CAL)
    t = secs("2022-06-03 05:00", "2022-06-03 23:00", "2022-06-04 05:00")
    assert s.contains(t).tolist() == [True, False, False]


def test_calendar_from_config_and_bad_date() -> None:
    assert HolidayCalendar.from_config({"holidays": [], "workdays": []}) is None
    cal = HolidayCalendar.from_config({"holidays": ["2022-06-03"], "source": "x"})
    assert dt.date(2022, 6, 3) in cal.holidays
    with pytest.raises(InputError):
        HolidayCalendar(holidays=["6月3日"])


def test_calendar_without_holidays_equals_the_weekly_mask() -> None:
    plain = WeeklySchedule.from_text("07:00-09:00;22:00-06:00", "10:00-01:00")
    cal = plain.with_calendar(HolidayCalendar(holidays=[dt.date(1999, 1, 1)]))
    t = int(secs(f"{MONDAY} 00:00")[0]) + np.arange(0, 3 * 7 * 86400, 97)
    assert (plain.contains(t) == cal.contains(t)).all()


@settings(max_examples=40, deadline=None)
@given(start=st.integers(0, 20 * 86400), length=st.integers(0, 3 * 86400),
       hours=st.sampled_from(["07:00-09:00;17:00-19:00", "22:00-06:00", "00:00-24:00", ""]),
       weekend=st.sampled_from([None, "", "21:00-03:00"]))
def test_calendar_overlap_matches_brute_force(start: int, length: int, hours: str,
                                              weekend) -> None:
    s = WeeklySchedule.from_text(hours, weekend, calendar=CAL)
    t0 = int(secs("2022-05-28 00:00")[0]) + start  # covers 3 June and the days around it
    t1 = t0 + length
    brute = int(s.contains(np.arange(t0, t1, dtype=np.int64)).sum()) if length else 0
    assert int(s.overlap_seconds([t0], [t1])[0]) == brute
