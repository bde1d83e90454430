#!/usr/bin/env python
"""Generate the synthetic demo city (thin wrapper of ``zlgis demo-data``).

Usage: scripts/make_demo_city.py --out data/demo [--seed 2022] [--buildings 25000]
"""

import sys

from zlgis.cli import main

if __name__ == "__main__":
    sys.exit(main(["demo-data", *sys.argv[1:]]))
