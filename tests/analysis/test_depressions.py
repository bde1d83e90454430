"""Depression measures (zlgis/analysis/depressions.py) against the per-label scipy reductions."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from zlgis.analysis.depressions import _label_stats, label_depressions, ponding_depth
from zlgis.analysis.fill import fill_depressions


def test_one_pass_label_stats_equal_ndimage_reductions():
    rng = np.random.default_rng(4)
    z = ndimage.gaussian_filter(rng.random((300, 400)), 2) * 20
    z = np.round(z, 1)  # plateaus: several equally deep cells in a depression
    depth = ponding_depth(z, fill_depressions(z))
    lab, n = label_depressions(depth)
    assert n > 50
    counts, vol, maxd, deepest = _label_stats(lab, depth, n)
    idx = np.arange(1, n + 1)
    np.testing.assert_array_equal(counts[1:], np.bincount(lab.ravel(), minlength=n + 1)[1:])
    np.testing.assert_array_equal(
        vol[1:], np.bincount(lab.ravel(), weights=depth.ravel(), minlength=n + 1)[1:])
    np.testing.assert_array_equal(maxd[1:], ndimage.maximum(depth, lab, index=idx))
    # the deepest cell, first in raster order among ties (as the previous lexsort chose it)
    flat = lab.ravel()
    sel = np.flatnonzero(flat)
    order = np.lexsort((-depth.ravel()[sel], flat[sel]))
    first = np.unique(flat[sel][order], return_index=True)[1]
    np.testing.assert_array_equal(deepest[1:], sel[order][first])
    ties = np.bincount(flat[sel][depth.ravel()[sel] == maxd[flat[sel]]], minlength=n + 1)
    assert (ties > 1).any()  # the tie rule was exercised
