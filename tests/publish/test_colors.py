"""The map palette: WCAG contrast and colour-vision-deficiency distinctness."""

from __future__ import annotations

import itertools

import pytest

from zlgis.publish.colors import best_text_color, contrast_ratio, delta_e, min_delta_e, simulate_cvd
from zlgis.publish.styles import (
    CONTROL_LINE_COLORS,
    CONTROL_LINE_DASHES,
    PONDING_CLASSES,
    SEVERITY_COLORS,
    layer_style,
)

#: ΔE*76 below which two colours are taken as confusable on a map (about 2x the "just
#: noticeable" 2.3 times a factor for small symbols on a busy background; Szafir 2018 finds
#: ~10-20 needed for marks of a few pixels).
DISTINCT = 20.0


def test_wcag_reference_values():
    # WCAG 2.1 definition: black on white is 21:1, a colour on itself 1:1; #777 on white 4.48
    assert contrast_ratio("#000", "#fff") == pytest.approx(21.0)
    assert contrast_ratio("#e31a1c", "#e31a1c") == pytest.approx(1.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


def test_cvd_simulation_merges_red_and_green():
    # a deuteranope sees pure red and pure green far closer than a normal viewer does
    assert delta_e("#ff0000", "#00ff00", "deuteranopia") < delta_e("#ff0000", "#00ff00") / 3
    # greys are unchanged by every simulation
    for kind in ("protanopia", "deuteranopia", "tritanopia"):
        assert simulate_cvd("#808080", kind) == pytest.approx([128 / 255] * 3, abs=0.01)


def test_severities_stay_apart_for_every_reader():
    for a, b in itertools.combinations(SEVERITY_COLORS.values(), 2):
        assert min_delta_e(a, b) >= DISTINCT, (a, b)
    # and apart from the red line they are often drawn on
    for c in SEVERITY_COLORS.values():
        assert min_delta_e(c, CONTROL_LINE_COLORS["red_lines"]) >= DISTINCT, c


def test_rule_numbers_are_readable_on_their_severity():
    # WCAG 1.4.3: text 4.5:1 on its background
    for c in SEVERITY_COLORS.values():
        assert contrast_ratio(best_text_color(c), c) >= 4.5, c


def test_control_lines_confusable_in_colour_differ_in_dash():
    """Statutory colours cannot change: pairs too close for some reader are told apart by the
    dash pattern (WCAG 1.4.1, colour is not the only visual means)."""
    close = [(a, b) for a, b in itertools.combinations(CONTROL_LINE_COLORS, 2)
             if min_delta_e(CONTROL_LINE_COLORS[a], CONTROL_LINE_COLORS[b]) < DISTINCT]
    # red/green for deuteranopes at least: the check is not empty
    assert ("red_lines", "green_lines") in close
    for a, b in close:
        assert CONTROL_LINE_DASHES[a] != CONTROL_LINE_DASHES[b], (a, b)
        assert layer_style(a)["dashArray"] == CONTROL_LINE_DASHES[a]


def test_control_lines_are_lines_with_a_light_fill_at_most():
    low = set()
    for lid, color in CONTROL_LINE_COLORS.items():
        s = layer_style(lid)
        assert s["color"] == color and s["fillOpacity"] <= 0.1
        # WCAG 1.4.11: a line is a graphical object, 3:1 against the light basemap (#f2efe9
        # is OpenStreetMap's land colour); statutory colours below it are drawn heavier
        if contrast_ratio(color, "#f2efe9") < 3.0:
            low.add(lid)
            assert s["weight"] >= 2.5, lid
        else:
            assert s["weight"] <= 2, lid
    assert low == {"green_lines", "yellow_lines"}


def test_ponding_classes_get_darker_with_depth():
    lum = [contrast_ratio(c, "#ffffff") for _, c, _ in PONDING_CLASSES]
    assert lum == sorted(lum)
    for (_, a, _), (_, b, _) in itertools.pairwise(PONDING_CLASSES):
        assert delta_e(a, b) >= 10
