"""Colour checks for map palettes: WCAG contrast and colour-vision-deficiency distinctness.

Map colours are chosen in :mod:`zlgis.publish.styles`; this module measures them so that tests
can hold the palette to two rules:

- **Contrast** (WCAG 2.1 §1.4.3 / §1.4.11): text and symbols on their background reach a
  contrast ratio of 4.5:1 (text) or 3:1 (graphical objects).
- **Colour-blind readers**: colours that carry different meanings stay apart (CIELAB ΔE*76)
  after simulating protanopia, deuteranopia and tritanopia with the matrices of Machado, Oliveira
  & Fernandes (2009), "A Physiologically-based Model for Simulation of Color Vision Deficiency",
  IEEE TVCG 15(6), severity 1.0, applied in linear sRGB.

Examples
--------
>>> round(contrast_ratio("#000000", "#ffffff"), 1)
21.0
>>> round(delta_e("#e31a1c", "#e31a1c"), 3)
0.0
>>> best_text_color("#fde0ef")
'#000000'
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["CVD_MATRICES", "hex_to_rgb", "relative_luminance", "contrast_ratio",
           "simulate_cvd", "to_lab", "delta_e", "min_delta_e", "best_text_color"]

#: Machado et al. (2009) simulation matrices, severity 1.0 (linear sRGB).
CVD_MATRICES: dict[str, np.ndarray] = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779],
                            [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}


def hex_to_rgb(color: str) -> np.ndarray:
    """``#rrggbb`` (or ``#rgb``) as sRGB floats in [0, 1]."""
    h = color.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    return np.array([int(h[i:i + 2], 16) for i in (0, 2, 4)], dtype=float) / 255.0


def _linear(rgb: np.ndarray) -> np.ndarray:
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def _encode(lin: np.ndarray) -> np.ndarray:
    lin = np.clip(lin, 0.0, 1.0)
    return np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1 / 2.4) - 0.055)


def relative_luminance(color: str) -> float:
    """WCAG 2.1 relative luminance of an sRGB colour."""
    return float(_linear(hex_to_rgb(color)) @ np.array([0.2126, 0.7152, 0.0722]))


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2.1 contrast ratio (1 to 21) between two colours."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def simulate_cvd(color: str, kind: str) -> np.ndarray:
    """sRGB floats of ``color`` as seen with ``kind`` (a key of :data:`CVD_MATRICES`)."""
    return _encode(CVD_MATRICES[kind] @ _linear(hex_to_rgb(color)))


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of sRGB floats."""
    m = np.array([[0.4124564, 0.3575761, 0.1804375],
                  [0.2126729, 0.7151522, 0.0721750],
                  [0.0193339, 0.1191920, 0.9503041]])
    xyz = m @ _linear(np.asarray(rgb, dtype=float)) / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def delta_e(a: str, b: str, vision: str = "normal") -> float:
    """CIELAB ΔE*76 between two colours for ``vision`` (``normal`` or a CVD kind)."""
    if vision == "normal":
        ra, rb = hex_to_rgb(a), hex_to_rgb(b)
    else:
        ra, rb = simulate_cvd(a, vision), simulate_cvd(b, vision)
    return float(np.linalg.norm(to_lab(ra) - to_lab(rb)))


def min_delta_e(a: str, b: str) -> float:
    """The smallest ΔE*76 between two colours over normal vision and the three CVD kinds."""
    return min(delta_e(a, b, v) for v in ("normal", *CVD_MATRICES))


def best_text_color(background: str, choices: Sequence[str] = ("#000000", "#ffffff")) -> str:
    """The text colour of ``choices`` with the highest contrast on ``background``."""
    return max(choices, key=lambda c: contrast_ratio(c, background))
