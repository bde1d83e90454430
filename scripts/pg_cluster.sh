#!/usr/bin/env bash
# A throwaway PostgreSQL cluster with PostGIS for the tests (and for trying zlgis against a server).
#
#   bash scripts/pg_cluster.sh start   # initdb in a temporary folder, start on a free port of
#                                      # 127.0.0.1, create database zlgis_test with PostGIS
#                                      # (and zlgis_test_template, a copy the tests clone)
#   bash scripts/pg_cluster.sh env     # print the shell lines to use it: eval "$(... env)"
#   bash scripts/pg_cluster.sh status  # exit 0 when it runs
#   bash scripts/pg_cluster.sh stop    # stop it and remove the folder
#
# `start` writes .pg-cluster/env in the repository (read by the `pg_url` test fixture):
#   ZLGIS_TEST_PG_URL=postgresql://zlgis@127.0.0.1:PORT/zlgis_test   (no password in the URL)
#   PGPASSFILE=/tmp/zlgis-pg.XXXX/pgpass                              (mode 600, libpq reads it)
#   ZLGIS_TEST_PG_DIR=/tmp/zlgis-pg.XXXX                              (data, socket, log)
# The superuser `zlgis` logs in over TCP with a random password (scram-sha-256), so a wrong
# password is refused as on a bureau's server. PostgreSQL refuses to run as root: as root the
# cluster runs as the `postgres` system user (Debian's package creates it; created here if not).
# Binaries: $PG_BIN, else the newest /usr/lib/postgresql/*/bin (Debian's postgresql-15).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE=${ZLGIS_PG_STATE:-$ROOT/.pg-cluster}
ENVFILE=$STATE/env
DB=zlgis_test
SUPERUSER=zlgis

pg_bin() {
  if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return; fi
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$d" ]; then
    echo "pg_cluster: PostgreSQL is not installed (ZLGIS_WITH_POSTGIS=1 bash scripts/setup.sh)" >&2
    exit 2
  fi
  echo "$d"
}

# run a command as the cluster's owner (root cannot run initdb/postgres)
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$OWNER" -- "$@"
  else
    "$@"
  fi
}

setup_owner() {
  OWNER=$(id -un)
  if [ "$(id -u)" -eq 0 ]; then
    OWNER=postgres
    if ! id -u "$OWNER" >/dev/null 2>&1; then
      useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin "$OWNER"
    fi
  fi
}

free_port() {
  python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

read_env() {
  # shellcheck disable=SC1090
  [ -f "$ENVFILE" ] && . "$ENVFILE"
}

is_running() {
  read_env || return 1
  [ -n "${ZLGIS_TEST_PG_DIR:-}" ] && [ -f "$ZLGIS_TEST_PG_DIR/data/postmaster.pid" ] || return 1
  "$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$ZLGIS_TEST_PG_PORT" -t 2
}

start() {
  if is_running; then
    echo "pg_cluster: already running on port $ZLGIS_TEST_PG_PORT ($ENVFILE)"
    return 0
  fi
  [ -f "$ENVFILE" ] && stop >/dev/null 2>&1 || true
  local bin dir port pw
  bin=$(pg_bin)
  setup_owner
  dir=$(mktemp -d /tmp/zlgis-pg.XXXXXX)
  chmod 755 "$dir"
  pw=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
  printf '%s\n' "$pw" > "$dir/pw.txt"
  chown -R "$OWNER" "$dir"
  chmod 600 "$dir/pw.txt"
  as_owner "$bin/initdb" -D "$dir/data" -U "$SUPERUSER" --pwfile="$dir/pw.txt" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; rm -rf "$dir"; exit 1; }
  rm -f "$dir/pw.txt"
  port=$(free_port)
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start -o \
    "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir \
     -c max_connections=60 -c shared_buffers=64MB -c logging_collector=off" >/dev/null \
    || { cat "$dir/server.log" >&2; rm -rf "$dir"; exit 1; }
  as_owner "$bin/psql" -q -h "$dir" -p "$port" -U "$SUPERUSER" -d postgres -v ON_ERROR_STOP=1 \
    -c "CREATE DATABASE $DB" >/dev/null
  as_owner "$bin/psql" -q -h "$dir" -p "$port" -U "$SUPERUSER" -d "$DB" -v ON_ERROR_STOP=1 \
    -c "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null \
    || { echo "pg_cluster: CREATE EXTENSION postgis failed (install postgresql-15-postgis-3)" >&2;
         as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1; rm -rf "$dir"; exit 1; }
  # a template nobody connects to: tests clone a fresh database with PostGIS from it quickly
  as_owner "$bin/psql" -q -h "$dir" -p "$port" -U "$SUPERUSER" -d postgres -v ON_ERROR_STOP=1 \
    -c "CREATE DATABASE ${DB}_template TEMPLATE $DB IS_TEMPLATE true" >/dev/null
  # the client side (tests, zlgis) runs as the caller: its own pgpass file, mode 600
  printf '127.0.0.1:%s:*:%s:%s\n' "$port" "$SUPERUSER" "$pw" > "$dir/pgpass"
  chown "$(id -u)" "$dir/pgpass"
  chmod 600 "$dir/pgpass"
  mkdir -p "$STATE"
  cat > "$ENVFILE.tmp" <<EOF
ZLGIS_TEST_PG_URL=postgresql://$SUPERUSER@127.0.0.1:$port/$DB
PGPASSFILE=$dir/pgpass
ZLGIS_TEST_PG_DIR=$dir
ZLGIS_TEST_PG_PORT=$port
ZLGIS_TEST_PG_OWNER=$OWNER
EOF
  mv "$ENVFILE.tmp" "$ENVFILE"
  echo "pg_cluster: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') with PostGIS on 127.0.0.1:$port ($dir)"
  echo "pg_cluster: ZLGIS_TEST_PG_URL=postgresql://$SUPERUSER@127.0.0.1:$port/$DB (password in $dir/pgpass)"
}

stop() {
  if ! read_env; then
    echo "pg_cluster: no cluster ($ENVFILE absent)"
    return 0
  fi
  local bin dir=${ZLGIS_TEST_PG_DIR:-}
  bin=$(pg_bin)
  OWNER=${ZLGIS_TEST_PG_OWNER:-$(id -un)}
  if [ -n "$dir" ] && [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 \
      || as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  case "$dir" in /tmp/zlgis-pg.*) rm -rf "$dir" ;; esac
  rm -f "$ENVFILE"
  rmdir "$STATE" 2>/dev/null || true
  echo "pg_cluster: stopped and removed"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env)
    read_env || { echo "pg_cluster: no cluster; run: bash scripts/pg_cluster.sh start" >&2; exit 1; }
    echo "export ZLGIS_TEST_PG_URL=$ZLGIS_TEST_PG_URL"
    echo "export PGPASSFILE=$PGPASSFILE"
    ;;
  status)
    if is_running; then echo "pg_cluster: running on port $ZLGIS_TEST_PG_PORT"; else
      echo "pg_cluster: not running"; exit 1; fi
    ;;
  *) echo "usage: $0 start|stop|env|status" >&2; exit 2 ;;
esac
