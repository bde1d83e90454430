"""Run every benchmark under bench/: ``.venv/bin/python bench/run.py [NAME ...] [--quick]``.

Each ``bench/bench_*.py`` module has ``main(quick: bool) -> dict`` that times zlgis against a
baseline in the same process and returns its figures; this runner prints them as JSON lines.
Benchmarks are never run by the test suite.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    files = sorted(HERE.glob("bench_*.py"))
    if args.names:
        files = [f for f in files if any(n in f.stem for n in args.names)]
    print(json.dumps({"date": time.strftime("%Y-%m-%d"), "machine": platform.node(),
                      "python": platform.python_version(), "cpus": __import__("os").cpu_count()}))
    for f in files:
        spec = importlib.util.spec_from_file_location(f.stem, f)
        module = importlib.util.module_from_spec(spec)
        assert spec.loader is not None
        spec.loader.exec_module(module)
        t0 = time.perf_counter()
        result = module.main(quick=args.quick)
        result = {"bench": f.stem, "total_s": round(time.perf_counter() - t0, 1), **result}
        print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
