"""What every saved map page gets: stable element ids, and the finding-focus script.

The weekly maps link every Excel row to ``map_internal.html#<finding_id>`` (:data:`FOCUS_JS`,
passed to :func:`~zlgis.publish.map_page.save_map`), and reruns of a week must give identical
files (:func:`stable_ids`, applied by ``save_map``).
"""

from __future__ import annotations

import re

__all__ = ["FOCUS_JS", "stable_ids"]


#: Opens the finding named in the URL fragment (``map_internal.html#<finding_id>``, the link of
#: every Excel row): zooms to it and opens its popup. The id is only compared, never inserted
#: into the page.
FOCUS_JS = """<script>
(function () {
  function focus() {
    var id = decodeURIComponent((window.location.hash || '').slice(1));
    if (!id || !window.zlgis || !zlgis.map) return;
    var hit = null;
    zlgis.layers.forEach(function (e) {
      if (hit || !e.key || String(e.key).indexOf('findings_') !== 0) return;
      e.build();
      if (!e.layer) return;
      e.layer.eachLayer(function (l) {
        var p = l.feature && l.feature.properties;
        if (!hit && p && p.finding_id === id) hit = l;
      });
    });
    if (!hit) return;
    var ll = hit.getLatLng ? hit.getLatLng() : hit.getBounds().getCenter();
    zlgis.map.setView(ll, 19);
    window.zlgisFocused = id;
    setTimeout(function () { if (hit.openPopup) hit.openPopup(ll); }, 300);
  }
  window.addEventListener('load', focus);
  window.addEventListener('hashchange', focus);
})();
</script>
"""


#: Folium's random element ids: ``map_<32 hex>``, ``feature_group_<32 hex>`` ... (data values
#: are never preceded by an identifier and an underscore, so they are left alone).
HEX_ID = re.compile(r"(?<=[a-z]_)[0-9a-f]{32}(?![0-9a-f])")

#: :data:`HEX_ID` with its underscore: a pattern starting with a plain character is searched
#: for with a fast scan (the look-behind made the search try every position of the page); the
#: letter before the underscore is checked by :func:`stable_ids`.
_UNDERSCORE_HEX = re.compile(r"_([0-9a-f]{32})(?![0-9a-f])")


def stable_ids(text: str) -> str:
    """``text`` with each id :data:`HEX_ID` matches replaced by its number in order of first
    appearance (32 hex digits)."""
    mapping: dict[str, str] = {}

    def repl(m: re.Match[str]) -> str:
        at = m.start()
        if at == 0 or not "a" <= text[at - 1] <= "z":
            return m.group(0)
        return "_" + mapping.setdefault(m.group(1), f"{len(mapping):032x}")

    return _UNDERSCORE_HEX.sub(repl, text)

