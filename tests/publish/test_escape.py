"""Tests of zlgis.publish.escape."""

from __future__ import annotations

import datetime as dt
import html
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from zlgis.publish.escape import display_value, escape_html, js_json, safe_url

PAYLOADS = [
    '<script>alert(1)</script>', '<img src=x onerror="alert(1)">', "\"'><svg onload=alert(1)>",
    "' onmouseover='alert(1)' x='", "</script><script>alert(1)</script>", "&lt;already&gt;",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_escape_html_leaves_no_markup(payload):
    out = escape_html(payload)
    assert not set("<>\"'") & set(out)
    assert html.unescape(out) == payload


@given(st.text())
def test_escape_html_round_trips_any_text(text):
    out = escape_html(text)
    assert "<" not in out and ">" not in out and '"' not in out and "'" not in out
    assert html.unescape(out) == text


def test_escape_html_missing_values():
    assert escape_html(None) == "" and escape_html(float("nan")) == ""
    assert escape_html(12) == "12"


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
    "java\nscript:x", "data:text/html;base64,PHNjcmlwdD4=", "vbscript:msgbox", "//evil.example/x",
    "/relative/path", "http:///nohost", "ftp://host/file", "", None, 42,
    "https://ok.example/\u0000x"])
def test_safe_url_rejects(url):
    assert safe_url(url) is None


@pytest.mark.parametrize("url", ["http://a.example", "https://www.tianditu.gov.cn/x?a=1&b=2"])
def test_safe_url_accepts_http(url):
    assert safe_url(url) == url


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                    lambda c: st.lists(c) | st.dictionaries(st.text(), c), max_leaves=10))
def test_js_json_is_script_safe_and_lossless(obj):
    out = js_json(obj)
    assert "<" not in out and ">" not in out and "&" not in out and "'" not in out
    assert "\u2028" not in out and "\u2029" not in out
    assert json.loads(out) == obj


def test_display_value_types():
    assert display_value(True) == "是" and display_value(np.bool_(False)) == "否"
    assert display_value(2.0) == "2" and display_value(np.float64(1.23456)) == "1.23"
    assert display_value(np.int64(7)) == "7"
    assert display_value(None) is None and display_value(np.nan) is None
    assert display_value(pd.NaT) is None and display_value("  ") is None
    assert display_value(pd.Timestamp("2024-07-01")) == "2024-07-01"
    assert display_value(dt.datetime(2024, 7, 1, 8, 30)) == "2024-07-01 08:30"
    assert display_value(dt.date(2024, 7, 1)) == "2024-07-01"
    assert display_value("<b>") == "<b>"   # text, not HTML: escaping is the page's job
