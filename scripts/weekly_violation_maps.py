#!/usr/bin/env python3
"""Weekly violation maps and ledger, for cron (thin wrapper over ``zlgis weekly``).

Every Monday at 06:00, check the week that just ended and publish it under /srv/zlgis/out:

    0 6 * * 1  cd /opt/zlgis && .venv/bin/python scripts/weekly_violation_maps.py \\
               --catalog layers/catalog.yaml --out /srv/zlgis/out --quiet

Without --week/--as-of it checks the last completed ISO week. Exit codes: 0 done, 1 bad data or
ledger sheet, 2 unreadable input, 3 another run still holds the lock. Errors are one Chinese line
on stderr (cron mails it); the ledger and the previous outputs are left intact on any failure.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zlgis.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["weekly", *sys.argv[1:]]))
