#!/usr/bin/env bash
# Set up everything zlgis needs on a Debian machine with Python 3.11: system packages (as root or
# through sudo), a virtual environment in .venv with zlgis and its test tools, and the map assets
# from npm. Safe to run again: it only installs what is missing.
#
# PostgreSQL with PostGIS (for a ledger or layers on a database server, and their tests) only when
# asked: `ZLGIS_WITH_POSTGIS=1 bash scripts/setup.sh` or `bash scripts/setup.sh --with-postgis`.
set -euo pipefail
cd "$(dirname "$0")/.."

WITH_POSTGIS=${ZLGIS_WITH_POSTGIS:-0}
for arg in "$@"; do
  case "$arg" in
    --with-postgis) WITH_POSTGIS=1 ;;
    *) echo "setup: unknown option $arg (known: --with-postgis)" >&2; exit 2 ;;
  esac
done

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3

# Debian packages: Chromium for the map tests, a CJK font for figures, Node/npm for map assets,
# busybox (its httpd: a plain static server with range requests, for the vector-tile map tests).
APT_PACKAGES=(chromium fonts-noto-cjk nodejs npm python3-venv busybox)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  case "$pkg" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
    python3-venv) "$PY" -c 'import ensurepip, venv' >/dev/null 2>&1 && continue ;;
  esac
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# PostgreSQL (Debian's default version) and its PostGIS 3, only when asked.
if [ "$WITH_POSTGIS" = "1" ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  pg_major() { ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1; }
  if [ -z "$(pg_major)" ]; then
    echo "setup: installing PostgreSQL"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
      postgresql postgresql-contrib >/dev/null
  fi
  postgis_pkg="postgresql-$(pg_major)-postgis-3"
  if ! dpkg -s "$postgis_pkg" >/dev/null 2>&1; then
    echo "setup: installing $postgis_pkg"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
      "$postgis_pkg" >/dev/null
  fi
fi

# Python environment.
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.zlgis-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing Python packages into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[test,docs]"
  touch "$stamp"
fi
# Byte-code of zlgis's own modules, as installing a wheel writes it for its modules: an
# editable install writes none, and where PYTHONDONTWRITEBYTECODE is set (CI, containers) every
# command and every worker process would compile the modules it imports again (about 0.3 s of
# CPU in a demo weekly run). Stale files are recompiled on import; nothing else changes.
.venv/bin/python -m compileall -q -j 0 zlgis >/dev/null

# Map assets (Leaflet and plugins) from npm, for maps that work with no internet.
if [ -f scripts/setup_assets.sh ]; then
  bash scripts/setup_assets.sh
fi
echo "setup: ready"
