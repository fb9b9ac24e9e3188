#!/usr/bin/env bash
# bench/api-load.sh: the API under load (issue 15, item 4): GET /api/v1/executions, a page of 50 filtered by
# status, with 100,000 executions in the catalog, 64 concurrent clients, for --seconds; p50/p99 latency
# and requests per second printed by oha (crates.io: `cargo install oha --locked`).
#
#   bench/api-load.sh [--executions 100000] [--clients 64] [--seconds 20] [--path P] [--scan "1 4 16 64"]
#                     [--append-results]
#
# --scan: before the measurement, 5 s at each of these client counts (req/s, p50, p99 per count): whether
# the service's throughput grows with concurrency or one resource caps it.
# --path: another API path to load the same way (e.g. /api/v1/me, or /healthz: no catalog query), to see
# where the time of the list goes.
#
# Setup (untimed): the bench PostgreSQL 17 server (bench/generate.sh, smallest fixture) holds a fresh
# catalog database; 100,000 executions of 100 tasks are inserted with SQL (80 % success, spread over a
# year); `pgward serve` starts on it with its workers off (only the API is measured); the first admin
# and an API token are made through the API. Goal (issue 15): p99 <= 20 ms and >= 2,000 req/s on 2 cores.
#
# pgward: PGWARD_BIN, or a release build (see bench/lib.sh). oha: OHA, on PATH, or
# $PGWARD_CACHE/cargo-tools/bin/oha.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${PGWARD_CACHE:-$HOME/.cache/pgward}"
# shellcheck disable=SC1091
[ -f "$CACHE/env.sh" ] && . "$CACHE/env.sh"
PG_BIN="${PGWARD_BENCH_PG_BIN:-${PGWARD_PG_ROOT:-$CACHE/pg}/17/bin}"
while IFS='=' read -r _name _; do
  case "$_name" in PGWARD_*__* | PGWARD_DATA_DIR) unset "$_name" ;; esac
done < <(env)

N=100000
CLIENTS=64
SECONDS_=20
APIPATH="/api/v1/executions?status=success&limit=50"
APPEND=0
SCAN=""
while [ $# -gt 0 ]; do
  case "$1" in
  --executions) N="${2:?}"; shift 2 ;;
  --clients) CLIENTS="${2:?}"; shift 2 ;;
  --seconds) SECONDS_="${2:?}"; shift 2 ;;
  --path) APIPATH="${2:?}"; shift 2 ;;
  --scan) SCAN="${2:?}"; shift 2 ;;
  --append-results) APPEND=1; shift ;;
  -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

say() { echo "bench: $*" >&2; }
die() {
  echo "bench: error: $*" >&2
  exit 1
}
OHA="${OHA:-$(command -v oha || echo "$CACHE/cargo-tools/bin/oha")}"
[ -x "$OHA" ] || die "oha not found: cargo install oha --locked --root $CACHE/cargo-tools"
[ -x "$PG_BIN/psql" ] || die "no psql 17 in $PG_BIN (run scripts/deps.sh)"

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
find_pgward

gen_out="$("$ROOT/bench/generate.sh" --scale 1 --profile text)" || die "bench/generate.sh failed"
URL="$(sed -n 's/^url=//p' <<<"$gen_out")"
SERVER_URL="${URL%/*}"
CATALOG_DB="pgward_load_catalog_$$"
work="$(mktemp -d)"
chmod 755 "$work"
serve_pid=""
cleanup() {
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  "$PG_BIN/psql" -X -q "$SERVER_URL/postgres" -c "DROP DATABASE IF EXISTS $CATALOG_DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$SERVER_URL/postgres" -c "CREATE DATABASE $CATALOG_DB" >/dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
say "starting pgward serve on $base (catalog $CATALOG_DB, workers off)"
PGWARD_DATA_DIR="$work/data" PGWARD_SERVER__BIND="127.0.0.1:$port" \
  PGWARD_CATALOG__URL="$SERVER_URL/$CATALOG_DB" \
  PGWARD_SECRETS__KEY="$(head -c 32 /dev/urandom | base64)" \
  PGWARD_WORKER__IN_PROCESS=false PGWARD_LOG__LEVEL=warn \
  PGWARD_POSTGRES__BIN_DIRS="[\"${PGWARD_PG_ROOT:-$CACHE/pg}\"]" \
  "$PGW" serve >"$work/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 1 600); do
  curl -fsS "$base/readyz" >/dev/null 2>&1 && break
  kill -0 "$serve_pid" 2>/dev/null || { cat "$work/serve.log" >&2; die "pgward serve exited"; }
  sleep 0.2
done

say "inserting $N executions"
"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$SERVER_URL/$CATALOG_DB" <<SQL >/dev/null
INSERT INTO executions (id, task_id, task_name, trigger, status, scheduled_for, timezone, started_at,
                        finished_at, object_key, objects, bytes_read, size, sha256, message)
SELECT gen_random_uuid(), NULL, 'task ' || (g % 100), 'schedule',
       CASE WHEN g % 5 = 0 THEN 'failed' ELSE 'success' END,
       now() - make_interval(mins => g * 5), 'UTC',
       now() - make_interval(mins => g * 5), now() - make_interval(mins => g * 5) + interval '40 s',
       'task-' || (g % 100) || '/' || g || '.dump',
       jsonb_build_array(jsonb_build_object('destination_id', gen_random_uuid(), 'key',
                         'task-' || (g % 100) || '/' || g || '.dump', 'size', 1000000 + g)),
       5000000 + g, 1000000 + g, md5(g::text) || md5(g::text), NULL
FROM generate_series(1, $N) g;
ANALYZE executions;
SQL

curl -fsS -X POST "$base/api/v1/auth/setup" -H 'content-type: application/json' \
  -d '{"email":"bench@example.com","password":"bench password long enough","name":"bench"}' >/dev/null
access=$(curl -fsS -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"email":"bench@example.com","password":"bench password long enough"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
token=$(curl -fsS -X POST "$base/api/v1/tokens" -H "Authorization: Bearer $access" \
  -H 'content-type: application/json' -d '{"name":"bench","role":"viewer"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
target="$base$APIPATH"
curl -fsS -o /dev/null -H "Authorization: Bearer $token" "$target" || die "the list call fails"

say "warm-up, then $SECONDS_ s with $CLIENTS clients"
"$OHA" --no-tui -z 3s -c "$CLIENTS" -H "Authorization: Bearer $token" "$target" >/dev/null
scan_lines=""
for c in $SCAN; do
  "$OHA" --no-tui --output-format json -z 5s -c "$c" -H "Authorization: Bearer $token" "$target" >"$work/scan.json"
  scan_lines+="$(python3 - "$work/scan.json" "$c" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s, p = r["summary"], r["latencyPercentiles"]
print("  - %s client(s): %d req/s, p50 %.2f ms, p99 %.2f ms" % (sys.argv[2], s["requestsPerSec"], p["p50"] * 1000, p["p99"] * 1000))
PY
)"$'\n'
done
"$OHA" --no-tui --output-format json -z "${SECONDS_}s" -c "$CLIENTS" \
  -H "Authorization: Bearer $token" "$target" >"$work/oha.json"
read -r rps p50 p99 ok total < <(python3 - "$work/oha.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s, p = r["summary"], r["latencyPercentiles"]
codes = r.get("statusCodeDistribution", {})
print(round(s["requestsPerSec"]), round(p["p50"] * 1000, 1), round(p["p99"] * 1000, 1),
      codes.get("200", 0), sum(codes.values()))
PY
)
report="$(mktemp)"
{
  echo "### API under load ($(date -u +%Y-%m-%d), $PROFILE_NOTE of pgward, $(nproc) cores)"
  echo
  echo "GET $APIPATH, $N executions in the catalog, $CLIENTS clients, ${SECONDS_} s (oha $("$OHA" --version | awk '{print $2}')):"
  echo
  echo "- requests per second: **$rps** (goal >= 2,000: $([ "$rps" -ge 2000 ] && echo met || echo missed))"
  echo "- latency p50 $p50 ms, p99 **$p99 ms** (goal <= 20 ms: $(python3 -c "print('met' if $p99 <= 20 else 'missed')"))"
  echo "- answers 200: $ok of $total"
  [ -n "$scan_lines" ] && printf -- '- by client count (5 s each, before the measurement):\n%s' "$scan_lines"
  echo "- command: \`${PGWARD_BIN:+PGWARD_BIN=$PGWARD_BIN }bench/api-load.sh --executions $N --clients $CLIENTS --seconds $SECONDS_ --path '$APIPATH'${SCAN:+ --scan '$SCAN'}\`"
} >"$report"
cat "$report"
if [ "$APPEND" = 1 ]; then
  { echo; cat "$report"; } >>"$ROOT/bench/RESULTS.md"
  say "appended to bench/RESULTS.md"
fi
