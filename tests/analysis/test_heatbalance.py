"""Capacitated assignment with contiguity (zlgis/analysis/heatbalance.py) against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from zlgis.analysis.heatbalance import is_contiguous, solve_assignment
from zlgis.errors import InputError


def brute_force(load, cost, edges, roots, capacity):
    """Every assignment of n stations to K companies; the cheapest feasible contiguous one."""
    n, K = cost.shape
    best, arg = np.inf, None
    for a in itertools.product(range(K), repeat=n):
        a = np.array(a)
        if any(a[r] != k for k, r in enumerate(roots)):
            continue
        if any(load[a == k].sum() > capacity[k] + 1e-9 for k in range(K)):
            continue
        if not is_contiguous(a, edges, roots):
            continue
        c = cost[np.arange(n), a].sum()
        if c < best - 1e-9:
            best, arg = c, a
    return arg, best


def _instance(rng, n, K):
    # stations on a random planar-ish graph: a path plus a few chords (supply areas touching)
    edges = [(i, i + 1) for i in range(n - 1)]
    edges += [tuple(sorted(rng.choice(n, 2, replace=False))) for _ in range(n // 3)]
    load = rng.integers(1, 10, n).astype(float)
    cost = rng.uniform(0, 10, (n, K)) * load[:, None]
    roots = list(rng.choice(n, K, replace=False))
    capacity = np.full(K, load.sum() * rng.uniform(0.45, 0.8))
    return load, cost, edges, roots, capacity


@pytest.mark.parametrize("seed", range(12))
def test_optimal_against_brute_force(seed):
    rng = np.random.default_rng(seed)
    n, K = (8, 2) if seed % 2 else (6, 3)
    load, cost, edges, roots, capacity = _instance(rng, n, K)
    want, best = brute_force(load, cost, edges, roots, capacity)
    if want is None:   # no feasible assignment: the solver must say so, not answer
        with pytest.raises(InputError):
            solve_assignment(load, cost, edges=edges, roots=roots, capacity=capacity)
        return
    got, obj = solve_assignment(load, cost, edges=edges, roots=roots, capacity=capacity)
    assert obj == pytest.approx(best, abs=1e-6)
    assert is_contiguous(got, edges, roots)
    assert all(load[got == k].sum() <= capacity[k] + 1e-9 for k in range(K))


def test_contiguity_changes_the_answer():
    # a ring of 6: the cheapest unconstrained answer gives company 1 two separate pieces
    edges = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 0)]
    load = np.ones(6)
    cost = np.array([[0, 9], [9, 0], [0, 9], [9, 0], [0, 9], [9, 0]], float)
    a, obj = solve_assignment(load, cost, edges=edges, roots=[0, 1])
    assert is_contiguous(a, edges, [0, 1])
    assert obj > 0          # the free answer (cost 0) alternates companies: not contiguous
    assert not is_contiguous([0, 1, 0, 1, 0, 1], edges, [0, 1])


def test_infeasible_capacity_is_a_clear_error():
    with pytest.raises(InputError, match="区域调配无解"):
        solve_assignment(np.array([5.0, 5.0]), np.zeros((2, 2)), edges=[(0, 1)], roots=[0, 1],
                         capacity=[4.0, 4.0])


def test_importing_pulp_keeps_no_frame_of_the_caller():
    """PuLP keeps each missing solver's ImportError with its traceback: imported from a check's
    frame, it kept that frame and every caller's (the weekly run's loaded layers) for good.
    Imported through _import_pulp, the caller's objects are freed (a fresh interpreter: pulp is
    imported once per process)."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent("""
        import gc, sys, weakref
        from zlgis.analysis import heatbalance

        class Layers:
            pass

        def check(detached):
            held = Layers()
            if detached:
                heatbalance._import_pulp()
            else:
                import pulp  # noqa: F401
            return weakref.ref(held)

        ref = check(sys.argv[1] == "detached")
        gc.collect()
        print("freed" if ref() is None else "kept")
    """)
    out = {how: subprocess.run([sys.executable, "-c", script, how], capture_output=True,
                               text=True, check=True).stdout.strip()
           for how in ("detached", "plain")}
    assert out == {"detached": "freed", "plain": "kept"}  # "plain": the leak this guards against
