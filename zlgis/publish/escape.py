"""Escaping for everything that goes from data into a web page.

Folium inserts popup, tooltip and layer-control text as raw HTML (``innerHTML``), so a field
holding ``<img src=x onerror=...>`` would run in a citizen's browser. zlgis therefore never hands
data to folium as HTML: map popups and tooltips are built in the browser with ``textContent``
(see :mod:`zlgis.publish.maps`), and every string that is placed into HTML text (legends, titles,
attributions, layer names, the index page) goes through :func:`escape_html`. Data embedded in a
``<script>`` is serialised with :func:`js_json`, which cannot close the script element. Links are
only ever ``http``/``https`` (:func:`safe_url`).

Examples
--------
>>> escape_html('<img src=x onerror="alert(1)">')
'&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
>>> safe_url("javascript:alert(1)") is None
True
>>> safe_url(" https://example.org/a?b=1 ")
'https://example.org/a?b=1'
>>> "</script>" in js_json({"a": "</script><script>x()</script>"})
False
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

__all__ = ["escape_html", "safe_url", "js_json", "display_value", "PERSONAL_FIELD"]

#: Field names that are personal whatever a catalog says: never on a public map or portal page.
PERSONAL_FIELD = re.compile(
    r"(phone|mobile|tel$|plate|owner|requester|keeper|inspector|worker|chief|id_card|idcard|"
    r"person|contact|电话|手机|车牌|身份证|产权人|诉求人|联系人|姓名)", re.IGNORECASE)

_JS_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027",
               "\u2028": "\\u2028", "\u2029": "\\u2029"}


def escape_html(value: Any) -> str:
    """HTML-escape any value for use in element text or a quoted attribute.

    ``None`` and NaN give an empty string; quotes are escaped too.

    >>> escape_html("a & b 'c'")
    'a &amp; b &#x27;c&#x27;'
    >>> escape_html(None)
    ''
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def safe_url(url: Any) -> str | None:
    """The URL if it is an absolute ``http``/``https`` URL with a host, else ``None``.

    Rejects ``javascript:``, ``data:``, ``vbscript:``, protocol-relative and relative URLs, and
    URLs with control characters or whitespace inside (which browsers strip, so
    ``java\\tscript:`` would otherwise slip through).

    >>> safe_url("HTTP://a.b/c")
    'HTTP://a.b/c'
    >>> [safe_url(u) for u in ("java\\tscript:alert(1)", "//evil.org", "data:text/html,x")]
    [None, None, None]
    """
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or any(ord(ch) < 33 or ord(ch) == 127 for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def js_json(obj: Any) -> str:
    """JSON text that is safe to place inside an HTML ``<script>`` element.

    ``<``, ``>``, ``&``, ``'`` and the JavaScript line separators are written as ``\\u`` escapes,
    so no data value can end the script or open a comment.

    >>> js_json(["<b>"])
    '["\\\\u003cb\\\\u003e"]'
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for ch, rep in _JS_ESCAPES.items():
        text = text.replace(ch, rep)
    return text


def display_value(value: Any, *, decimals: int = 2) -> str | None:
    """Plain display text of a data value (Chinese for booleans), ``None`` when missing.

    The result is text, not HTML: put it in the page with ``textContent`` or escape it.

    >>> display_value(True), display_value(3.14159), display_value(float("nan"))
    ('是', '3.14', None)
    >>> display_value(pd.Timestamp("2024-07-01 08:30"))
    '2024-07-01 08:30'
    """
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return "是" if value else "否"
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            return None
        v = round(float(value), decimals)
        return str(int(v)) if v.is_integer() else f"{v:.{decimals}f}".rstrip("0").rstrip(".")
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, pd.Timestamp) or isinstance(value, datetime):
        if pd.isna(value):
            return None
        ts = pd.Timestamp(value)
        if ts.hour == ts.minute == ts.second == 0:
            return ts.strftime("%Y-%m-%d")
        return ts.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return json.dumps(dict(value), ensure_ascii=False)
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    text = str(value)
    return text if text.strip() else None
