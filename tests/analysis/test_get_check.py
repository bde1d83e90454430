"""zlgis/analysis/__init__.py: get_check, and the garbage collector in worker processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import gc, json, sys, weakref
from zlgis.analysis import get_check
from zlgis.workers import forked

class Frame:
    pass

def task():
    garbage = Frame()
    garbage.me = garbage  # a reference cycle left by an earlier check
    ref = weakref.ref(garbage)
    del garbage
    before = gc.get_freeze_count()
    fn = get_check("gas")
    return {"name": fn.__name__, "before": before, "after": gc.get_freeze_count(),
            "garbage_kept": ref() is not None}

parent_before = gc.get_freeze_count()
fn = get_check("trees")  # in the calling process: nothing frozen
parent = {"name": fn.__name__, "frozen": gc.get_freeze_count() - parent_before}
assert "zlgis.analysis.gas" not in sys.modules
with forked([task, lambda: 0], jobs=2) as (worker, _):
    print(json.dumps({"parent": parent, "worker": worker.result()}))
"""


def test_get_check_freezes_a_new_check_module_in_workers_only():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env,
                         cwd=str(ROOT), check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["parent"] == {"name": "run_check", "frozen": 0}
    w = got["worker"]
    assert w["name"] == "run_check"
    # the gas module's objects frozen in the worker (more than the parent's frozen heap)
    assert w["after"] > w["before"] > 0
    # the earlier check's garbage was collected before freezing, not kept for good
    assert w["garbage_kept"] is False
