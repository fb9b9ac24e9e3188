#!/usr/bin/env bash
# bench/generate.sh: a PostgreSQL 17 server with a pagila database of a requested size, for bench/backup.sh.
#
#   bench/generate.sh --size-gb 1 --profile text     # start (or reuse) the server, load (or reuse) the database
#   bench/generate.sh --scale 10 --profile numeric   # pick the fixture scale directly
#   bench/generate.sh --status                       # server state and the databases it holds
#   bench/generate.sh --stop                         # stop the server (the data stays for the next run)
#   bench/generate.sh --destroy                      # stop the server and delete its data directory
#
# State lives in ${PGWARD_BENCH_DIR:-/tmp/pgward-bench}/pg17 (data directory, log, socket). The server runs
# as the unprivileged user `pgward` when started by root (initdb refuses root), listens on a free loopback
# port chosen at each start, trusts loopback connections (superuser `postgres`, no password: benchmark data
# only) and is tuned for bulk loading (fsync off, wal_level minimal, no autovacuum), which is harmless for
# the read-only dumps the benchmark takes.
#
# --size-gb is converted to the fixture's `scale` with the plain-dump size per scale unit measured for
# tests/data/pagila-data.sql (PostgreSQL 17, see BYTES_PER_SCALE_* below; GB = 2^30 bytes). One database per
# profile and scale (pgward_bench_<profile>_s<scale>) is loaded once, vacuumed/frozen/analyzed, marked
# complete with a database comment and reused by later runs; a half-loaded one (interrupted run) is
# dropped and reloaded.
#
# stdout: key=value lines (url=, profile=, scale=, database=, database_size_bytes=,
# plain_dump_estimate_bytes=, plus human-readable sizes); progress goes to stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${PGWARD_CACHE:-$HOME/.cache/pgward}"
PG_ROOT="${PGWARD_PG_ROOT:-$CACHE/pg}"
PG_BIN="${PGWARD_BENCH_PG_BIN:-$PG_ROOT/17/bin}"
PG_USER="${PGWARD_PG_USER:-pgward}"
STATE="${PGWARD_BENCH_DIR:-/tmp/pgward-bench}"
PGDIR="$STATE/pg17"
DATA="$PGDIR/data"
RUN="$PGDIR/run"
LOG="$PGDIR/server.log"

# Plain-format pg_dump bytes per scale unit, measured with pg_dump 17 (text: 6.23 MB at scale 1, 55.4 MB
# at 9; numeric: 5.15 MB at 1, 41.2 MB at 8; the slope creeps up slowly as ids get longer, the fixture's
# header quotes 1.85 GB at scale 300). So 1 GB (2^30 bytes) is scale 174 text / 208 numeric.
BYTES_PER_SCALE_text=6160000
BYTES_PER_SCALE_numeric=5150000
# mixed (bench/mixed.sql, not pagila): plain pg_dump 17 bytes at scale 2 (22.3 MB).
BYTES_PER_SCALE_mixed=11140000

say() { echo "generate: $*" >&2; }
die() {
  echo "generate: error: $*" >&2
  exit 1
}

usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  exit "${1:-0}"
}

# Run a command as the server's owner (initdb and postgres refuse root).
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u "$PG_USER" -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

running() { [ -f "$DATA/PG_VERSION" ] && as_pg "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

# The port of the running server (4th line of postmaster.pid).
port() { sed -n 4p "$DATA/postmaster.pid"; }

url_for() { echo "postgresql://postgres@127.0.0.1:$(port)/$1"; }

psql_admin() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -At "$(url_for postgres)" "$@"; }

stop_server() {
  if running; then
    say "stopping the server in $DATA"
    as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
  else
    say "no server running in $DATA"
  fi
}

start_server() {
  [ -x "$PG_BIN/postgres" ] || die "no PostgreSQL 17 in $PG_BIN (run scripts/deps.sh)"
  if [ "$(id -u)" = 0 ]; then
    id "$PG_USER" >/dev/null 2>&1 || die "user $PG_USER missing (scripts/deps.sh creates it)"
  fi
  mkdir -p "$STATE"
  chmod 0755 "$STATE"
  if [ ! -f "$DATA/PG_VERSION" ]; then
    say "initdb $DATA"
    rm -rf "$PGDIR"
    mkdir -p "$PGDIR"
    [ "$(id -u)" = 0 ] && chown "$PG_USER:" "$PGDIR"
    as_pg mkdir -p "$RUN"
    as_pg "$PG_BIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C >"$PGDIR/initdb.log" 2>&1 ||
      die "initdb failed, see $PGDIR/initdb.log"
    # Bulk-load settings. Durability is irrelevant for generated benchmark data.
    as_pg tee -a "$DATA/postgresql.conf" >/dev/null <<'EOF'

# --- bench/generate.sh ---
listen_addresses = '127.0.0.1'
max_connections = 20
shared_buffers = 512MB
maintenance_work_mem = 512MB
work_mem = 64MB
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
wal_buffers = 64MB
max_wal_size = 16GB
checkpoint_timeout = 1h
autovacuum = off
max_parallel_maintenance_workers = 0
logging_collector = off
EOF
  fi
  if running; then
    return
  fi
  local p
  p="$(free_port)"
  say "starting PostgreSQL 17 on 127.0.0.1:$p (log: $LOG)"
  as_pg "$PG_BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 120 \
    -o "-p $p -k $RUN" start >/dev/null || die "server did not start, see $LOG"
}

status() {
  if ! running; then
    echo "state=stopped"
    echo "data_dir=$DATA"
    exit 0
  fi
  echo "state=running"
  echo "data_dir=$DATA"
  echo "port=$(port)"
  psql_admin -F ' ' -c "SELECT 'database=' || datname, pg_database_size(datname), coalesce(shobj_description(oid, 'pg_database'), '')
                        FROM pg_database WHERE datname LIKE 'pgward_bench_%' ORDER BY 1"
}

SIZE_GB=""
SCALE=""
PROFILE=text
ACTION=generate
while [ $# -gt 0 ]; do
  case "$1" in
  --size-gb) SIZE_GB="${2:?--size-gb needs a value}"; shift 2 ;;
  --scale) SCALE="${2:?--scale needs a value}"; shift 2 ;;
  --profile) PROFILE="${2:?--profile needs a value}"; shift 2 ;;
  --stop) ACTION=stop; shift ;;
  --status) ACTION=status; shift ;;
  --destroy) ACTION=destroy; shift ;;
  -h | --help) usage 0 ;;
  *) echo "unknown argument: $1" >&2; usage 2 ;;
  esac
done

case "$ACTION" in
stop) stop_server; exit 0 ;;
status) status; exit 0 ;;
destroy)
  stop_server
  say "removing $PGDIR"
  rm -rf "$PGDIR"
  exit 0
  ;;
esac

case "$PROFILE" in
text) BPS=$BYTES_PER_SCALE_text ;;
numeric) BPS=$BYTES_PER_SCALE_numeric ;;
mixed) BPS=$BYTES_PER_SCALE_mixed ;;
*) die "--profile must be text, numeric or mixed" ;;
esac
if [ -z "$SCALE" ]; then
  [ -n "$SIZE_GB" ] || die "give --size-gb GB or --scale N"
  SCALE="$(awk -v g="$SIZE_GB" -v b="$BPS" 'BEGIN {
    if (g !~ /^[0-9]*\.?[0-9]+$/ || g <= 0) exit 1
    s = int(g * 1073741824 / b + 0.5); if (s < 1) s = 1; print s }')" || die "--size-gb must be a positive number"
fi
if ! [[ "$SCALE" =~ ^[0-9]+$ ]] || [ "$SCALE" -lt 1 ] || [ "$SCALE" -gt 5000 ]; then
  die "scale must be 1..5000, got $SCALE"
fi

start_server
DB="pgward_bench_${PROFILE}_s${SCALE}"
MARK="pgward-bench complete: profile=$PROFILE scale=$SCALE"

state="$(psql_admin -c "SELECT coalesce(shobj_description(oid, 'pg_database'), '-') FROM pg_database WHERE datname = '$DB'")"
if [ "$state" = "$MARK" ]; then
  say "reusing database $DB"
else
  if [ -n "$state" ]; then
    say "database $DB is incomplete (interrupted load?): dropping it"
    psql_admin -c "DROP DATABASE \"$DB\" WITH (FORCE)"
  fi
  say "loading $DB (scale $SCALE, profile $PROFILE; roughly 1-2 s per scale unit)"
  psql_admin -c "CREATE DATABASE \"$DB\" TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'"
  t0=$(date +%s)
  if [ "$PROFILE" = mixed ]; then
    # A shop's tables (words, jsonb, numerics, timestamps), generated in SQL.
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -v scale="$SCALE" -f "$ROOT/bench/mixed.sql" "$(url_for "$DB")" >&2
  else
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -v scale="$SCALE" -v profile="$PROFILE" \
      -f "$ROOT/tests/data/pagila-schema.sql" -f "$ROOT/tests/data/pagila-data.sql" "$(url_for "$DB")" >&2
  fi
  say "loaded in $(($(date +%s) - t0)) s; VACUUM (FREEZE, ANALYZE) so every dump sees settled pages"
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -c "VACUUM (FREEZE, ANALYZE)" -c "CHECKPOINT" "$(url_for "$DB")"
  psql_admin -c "COMMENT ON DATABASE \"$DB\" IS '$MARK'"
fi

size="$(psql_admin -c "SELECT pg_database_size('$DB')")"
est=$((SCALE * BPS))
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1048576 }'; }
echo "url=$(url_for "$DB")"
echo "database=$DB"
echo "profile=$PROFILE"
echo "scale=$SCALE"
echo "database_size_bytes=$size"
echo "database_size=$(mb "$size")"
echo "plain_dump_estimate_bytes=$est"
echo "plain_dump_estimate=$(mb "$est")"
