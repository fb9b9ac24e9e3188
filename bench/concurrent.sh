#!/usr/bin/env bash
# bench/concurrent.sh: many small backups at once on one node (issue 15, item 4): 50 tasks run through
# POST /api/v1/tasks/{id}/run at the same moment against one `pgward serve` (its in-process workers, the
# default). Goal: all succeed, concurrency stays within the configured bound; peak memory printed.
#
#   bench/concurrent.sh [--tasks 50] [--servers 2] [--concurrency N] [--per-server N] [--append-results]
#
# --concurrency / --per-server: worker.concurrency and worker.per_server_concurrency of serve (default:
# unset, pgward's defaults, 2 and 2). The bound is min(concurrency, servers × per-server) (per-server 0: no
# per-server limit).
#
# Setup (untimed): --servers PostgreSQL 17 servers of their own ($PGWARD_BENCH_DIR/concurrent-pg1, -pg2, ...;
# max_connections 200, stopped on exit); the catalog on the first; --tasks small databases (a copy of one
# template: 20,000 rows, ~3 MB on disk) spread round-robin over the servers; `pgward serve` with default
# settings otherwise; first admin and API token, the databases (weekly health checks, so none runs during
# the measurement), one local destination, one task per database (custom format, the server's default
# compression, a schedule that never comes due).
#
# Measured: the serve process's idle VmRSS after 2 s of quiet, its peak reset (`echo 5 > clear_refs`), then
# all runs requested at once (one thread per task), the catalog polled every 0.5 s until every run ended.
# From the catalog: runs by final status; the largest number running at the same time, from the runs'
# [started_at, finished_at) intervals (a sweep, no sampling), overall and per database server (server_key);
# the wall time from the first request to the last finished_at. Memory: serve's VmHWM minus its idle VmRSS
# (pg_dump children are separate processes, not counted), and, sampled every 0.1 s, the largest summed RSS
# of serve and all its descendants (pg_dump included). pgward: PGWARD_BIN, or a release build (bench/lib.sh).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${PGWARD_CACHE:-$HOME/.cache/pgward}"
PG_ROOT="${PGWARD_PG_ROOT:-$CACHE/pg}"
# shellcheck disable=SC1091
[ -f "$CACHE/env.sh" ] && . "$CACHE/env.sh"
PG_BIN="${PGWARD_BENCH_PG_BIN:-$PG_ROOT/17/bin}"
unset PGWARD_CONFIG RUST_LOG RUST_BACKTRACE RUST_LIB_BACKTRACE
while IFS='=' read -r _name _; do
  case "$_name" in PGWARD_*__* | PGWARD_DATA_DIR) unset "$_name" ;; esac
done < <(env)

N=50
SERVERS=2
CONC=""
PER_SERVER=""
APPEND=0
while [ $# -gt 0 ]; do
  case "$1" in
  --tasks) N="${2:?}"; shift 2 ;;
  --servers) SERVERS="${2:?}"; shift 2 ;;
  --concurrency) CONC="${2:?}"; shift 2 ;;
  --per-server) PER_SERVER="${2:?}"; shift 2 ;;
  --append-results) APPEND=1; shift ;;
  -h | --help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
for v in "$N" "$SERVERS" ${CONC:+"$CONC"}; do
  [[ "$v" =~ ^[1-9][0-9]*$ ]] || { echo "--tasks, --servers and --concurrency must be positive integers" >&2; exit 2; }
done
[ -z "$PER_SERVER" ] || [[ "$PER_SERVER" =~ ^[0-9]+$ ]] || { echo "--per-server must be a number" >&2; exit 2; }

say() { echo "bench: $*" >&2; }
die() {
  echo "bench: error: $*" >&2
  exit 1
}
[ -x "$PG_BIN/psql" ] || die "no psql 17 in $PG_BIN (run scripts/deps.sh)"
command -v curl >/dev/null || die "curl is required"
command -v python3 >/dev/null || die "python3 is required"

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
find_pgward
EFF_CONC="${CONC:-2}"             # pgward's default worker.concurrency
EFF_PER_SERVER="${PER_SERVER:-2}" # and worker.per_server_concurrency
if [ "$EFF_PER_SERVER" = 0 ]; then
  BOUND="$EFF_CONC"
else
  BOUND=$((EFF_PER_SERVER * SERVERS))
  [ "$BOUND" -gt "$EFF_CONC" ] && BOUND="$EFF_CONC"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/pgward-conc.XXXXXX")"
chmod 755 "$work"
serve_pid=""
sampler_pid=""
server_urls=()
started_servers=()
CATALOG_DB="pgward_conc_catalog_$$"
TEMPLATE_DB="pgward_conc_template_$$"
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
psql_at() { "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 "$@"; }
cleanup() {
  local rc=$? u s d
  [ -n "$sampler_pid" ] && kill "$sampler_pid" 2>/dev/null
  if [ -n "$serve_pid" ]; then
    kill "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" 2>/dev/null || true
  fi
  for u in ${server_urls[@]+"${server_urls[@]}"}; do
    for d in $(psql_at "$u/postgres" -c "SELECT datname FROM pg_database WHERE datname LIKE 'pgward\_conc\_%\_$$' OR datname LIKE 'pgward\_conc\_db%\_$$'" 2>/dev/null); do
      psql_at "$u/postgres" -c "DROP DATABASE IF EXISTS \"$d\" WITH (FORCE)" >/dev/null 2>&1 || true
    done
  done
  for s in ${started_servers[@]+"${started_servers[@]}"}; do aux_pg_stop "$s"; done
  if [ "$rc" = 0 ]; then rm -rf "$work"; else say "logs kept in $work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for s in $(seq "$SERVERS"); do
  aux_pg_start "concurrent-pg$s"
  server_urls+=("$AUX_URL")
  [ "$AUX_STARTED" = 1 ] && started_servers+=("concurrent-pg$s")
done
CAT_URL="${server_urls[0]}"
psql_at "$CAT_URL/postgres" -c "CREATE DATABASE $CATALOG_DB" >/dev/null
say "creating $N small databases on $SERVERS server(s)"
for s in $(seq 0 $((SERVERS - 1))); do
  u="${server_urls[$s]}"
  psql_at "$u/postgres" -c "CREATE DATABASE $TEMPLATE_DB" >/dev/null
  psql_at "$u/$TEMPLATE_DB" -c "CREATE TABLE orders (id int PRIMARY KEY, customer int, amount numeric(10,2), note text, at timestamptz);
    INSERT INTO orders SELECT g, g % 997, (g % 10000) / 100.0, md5(g::text), '2026-01-01'::timestamptz + g * interval '1 min'
    FROM generate_series(1, 20000) g" -c "VACUUM (FREEZE, ANALYZE) orders" >/dev/null
done
DB_URLS=()
for i in $(seq "$N"); do
  u="${server_urls[$(((i - 1) % SERVERS))]}"
  name="$(printf 'pgward_conc_db%02d_%s' "$i" "$$")"
  psql_at "$u/postgres" -c "CREATE DATABASE $name TEMPLATE $TEMPLATE_DB" >/dev/null
  DB_URLS+=("$u/$name")
done

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port="$(free_port)"
base="http://127.0.0.1:$port"
mkdir -p "$work/backups"
SERVE_ENV=(
  "PGWARD_DATA_DIR=$work/data"
  "PGWARD_SERVER__BIND=127.0.0.1:$port"
  "PGWARD_CATALOG__URL=$CAT_URL/$CATALOG_DB"
  "PGWARD_SECRETS__KEY=$(head -c 32 /dev/urandom | base64)"
  "PGWARD_POSTGRES__BIN_DIRS=[\"$PG_ROOT\"]"
  "PGWARD_STORAGE__LOCAL_ROOTS=[\"$work/backups\"]"
  'PGWARD_OUTBOUND__ALLOW_LOOPBACK=["databases","destinations"]'
  'PGWARD_OUTBOUND__ALLOW_CATALOG_SERVER=true'
  'NO_COLOR=1'
)
[ -n "$CONC" ] && SERVE_ENV+=("PGWARD_WORKER__CONCURRENCY=$CONC")
[ -n "$PER_SERVER" ] && SERVE_ENV+=("PGWARD_WORKER__PER_SERVER_CONCURRENCY=$PER_SERVER")
say "starting pgward serve on $base (worker.concurrency $EFF_CONC, per_server_concurrency $EFF_PER_SERVER)"
env "${SERVE_ENV[@]}" "$PGW" serve >"$work/serve.log" 2>&1 &
serve_pid=$!
for i in $(seq 300); do
  curl -fsS -o /dev/null "$base/readyz" 2>/dev/null && break
  kill -0 "$serve_pid" 2>/dev/null || die "pgward serve exited: $(tail -20 "$work/serve.log")"
  [ "$i" = 300 ] && die "pgward serve not ready after 60 s: $(tail -20 "$work/serve.log")"
  sleep 0.2
done

TOKEN=""
api() {
  local m="$1" p="$2" body="${3:-}" code
  local args=(-sS -o "$work/resp.json" -w '%{http_code}' -X "$m" -H 'Content-Type: application/json')
  [ -n "$TOKEN" ] && args+=(-H "Authorization: Bearer $TOKEN")
  [ -n "$body" ] && args+=(--data-binary "$body")
  code="$(curl "${args[@]}" "$base$p")" || die "$m $p: curl failed"
  case "$code" in
  2??) cat "$work/resp.json" ;;
  *) die "$m $p: HTTP $code: $(head -c 2000 "$work/resp.json"); serve: $(tail -5 "$work/serve.log")" ;;
  esac
}
jget() { python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

say "API: first user, token, $N databases, a local destination, $N tasks"
PASSWORD="bench-$(python3 -c 'import secrets; print(secrets.token_hex(12))')"
api POST /api/v1/auth/setup "{\"email\":\"bench@pgward.invalid\",\"password\":\"$PASSWORD\",\"name\":\"bench\"}" >/dev/null
TOKEN="$(api POST /api/v1/auth/login "{\"email\":\"bench@pgward.invalid\",\"password\":\"$PASSWORD\"}" | jget 'd["access_token"]')"
TOKEN="$(api POST /api/v1/tokens '{"name": "bench", "expires_in_days": 1}' | jget 'd["token"]')"
DEST_ID="$(api POST /api/v1/destinations "{\"name\":\"local\",\"health_interval_secs\":604800,\"config\":{\"kind\":\"local\",\"path\":\"$work/backups/conc\"}}" | jget 'd["id"]')"
: >"$work/tasks.txt"
for i in $(seq "$N"); do
  db_id="$(api POST /api/v1/databases "{\"name\":\"small-$i\",\"connection_string\":\"${DB_URLS[$((i - 1))]}\",\"health_interval_secs\":604800}" | jget 'd["id"]')"
  api POST /api/v1/tasks "{\"name\":\"conc-$i\",\"database_id\":\"$db_id\",\"destination_ids\":[\"$DEST_ID\"],\"format\":\"custom\",\"schedule\":\"0 0 29 2 *\",\"timezone\":\"UTC\"}" |
    jget 'd["id"]' >>"$work/tasks.txt"
done

# New databases and destinations are health-checked at the next periodic pass (health_next_at unset): let
# that happen before the measurement.
for i in $(seq 100); do
  unchecked="$(psql_at "$CAT_URL/$CATALOG_DB" -c "SELECT (SELECT count(*) FROM databases WHERE health_next_at IS NULL) + (SELECT count(*) FROM destinations WHERE health_next_at IS NULL)")"
  [ "$unchecked" = 0 ] && break
  [ "$i" = 100 ] && say "warning: $unchecked databases/destinations still wait for their first health check"
  sleep 0.5
done
sleep 3

status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
# Every 0.1 s: the largest summed RSS (kB) of serve and its descendants, into $work/tree.max.
sample_tree() {
  python3 - "$serve_pid" "$work/tree.max" <<'PY'
import os, sys, time
root, out = int(sys.argv[1]), sys.argv[2]
best = 0
def kids(pid):
    # Children are listed per thread (a child started from a tokio worker thread is under that thread).
    out = []
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return out
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                out.extend(int(x) for x in f.read().split())
        except OSError:
            pass
    return out
def rss(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0
while os.path.exists("/proc/%d" % root):
    total, todo = 0, [root]
    while todo:
        p = todo.pop()
        total += rss(p)
        todo.extend(kids(p))
    if total > best:
        best = total
        with open(out, "w") as f:
            f.write("%d\n" % best)
    time.sleep(0.1)
PY
}

sleep 2
IDLE_KB="$(status_kb "$serve_pid" VmRSS)"
echo 5 >"/proc/$serve_pid/clear_refs"
echo 0 >"$work/tree.max"
sample_tree &
sampler_pid=$!
say "requesting $N runs at once (idle VmRSS $IDLE_KB kB)"
T0="$(date +%s.%N)"
python3 - "$base" "$TOKEN" "$work/tasks.txt" >"$work/run.txt" <<'PY'
import http.client, json, sys, threading
from urllib.parse import urlparse
base, token, ids = sys.argv[1], sys.argv[2], open(sys.argv[3]).read().split()
u = urlparse(base)
barrier = threading.Barrier(len(ids))
codes = {}
def run(tid):
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    c.connect()
    barrier.wait()
    c.request("POST", "/api/v1/tasks/%s/run" % tid, "", {"Authorization": "Bearer " + token})
    r = c.getresponse()
    r.read()
    codes[tid] = r.status
threads = [threading.Thread(target=run, args=(t,)) for t in ids]
for t in threads: t.start()
for t in threads: t.join()
for tid, code in codes.items():
    print(tid, code)
PY
T1="$(date +%s.%N)"
not_accepted="$(awk '$2 != 202' "$work/run.txt" | wc -l)"
codes="$(awk '{ print $2 }' "$work/run.txt" | sort | uniq -c | awk '{ printf "%s×%s ", $1, $2 }')"
retried=0
if [ "$not_accepted" -gt 0 ]; then
  say "$not_accepted run requests were not accepted (${codes% }); asking again one at a time"
  while read -r tid code; do
    [ "$code" = 202 ] && continue
    api POST "/api/v1/tasks/$tid/run" >/dev/null
    retried=$((retried + 1))
  done <"$work/run.txt"
fi

say "waiting for all $N runs to end"
deadline=$(($(date +%s) + 1800))
while :; do
  open_runs="$(psql_at "$CAT_URL/$CATALOG_DB" -c "SELECT count(*) FROM executions WHERE status IN ('queued', 'running')")"
  total="$(psql_at "$CAT_URL/$CATALOG_DB" -c "SELECT count(*) FROM executions")"
  [ "$open_runs" = 0 ] && [ "$total" -ge "$N" ] && break
  [ "$(date +%s)" -ge "$deadline" ] && { say "timeout: $open_runs runs still open after 30 min"; break; }
  sleep 0.5
done
HWM_KB="$(status_kb "$serve_pid" VmHWM)"
kill "$sampler_pid" 2>/dev/null || true
wait "$sampler_pid" 2>/dev/null || true
sampler_pid=""
TREE_KB="$(cat "$work/tree.max")"
LOAD_END="$(cut -d' ' -f1-3 /proc/loadavg)"

statuses="$(psql_at "$CAT_URL/$CATALOG_DB" -F '=' -c "SELECT status, count(*) FROM executions GROUP BY 1 ORDER BY 1" | paste -sd' ')"
n_success="$(psql_at "$CAT_URL/$CATALOG_DB" -c "SELECT count(*) FROM executions WHERE status = 'success'")"
failures="$(psql_at "$CAT_URL/$CATALOG_DB" -c "SELECT left(coalesce(message, ''), 200) FROM executions WHERE status <> 'success' LIMIT 3")"
# The sweep over [started_at, finished_at): +1 at each start, -1 at each end (ends first at equal times).
read -r max_running max_per_server wall first_start run_p50 run_max bytes <<<"$(psql_at "$CAT_URL/$CATALOG_DB" -F ' ' -c "
  WITH ev AS (
    SELECT server_key, started_at AS t, 1 AS d FROM executions WHERE started_at IS NOT NULL
    UNION ALL
    SELECT server_key, coalesce(finished_at, now()), -1 FROM executions WHERE started_at IS NOT NULL),
  overall AS (SELECT sum(d) OVER (ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS n FROM ev),
  per AS (SELECT sum(d) OVER (PARTITION BY server_key ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS n FROM ev)
  SELECT (SELECT coalesce(max(n), 0) FROM overall), (SELECT coalesce(max(n), 0) FROM per),
         round(extract(epoch FROM max(finished_at) - to_timestamp($T0))::numeric, 2),
         round(extract(epoch FROM min(started_at) - to_timestamp($T0))::numeric, 2),
         round(extract(epoch FROM percentile_cont(0.5) WITHIN GROUP (ORDER BY finished_at - started_at))::numeric, 2),
         round(extract(epoch FROM max(finished_at - started_at))::numeric, 2),
         coalesce(sum(size), 0)
  FROM executions")"
files="$(find "$work/backups/conc" -type f -name '*.dump*' ! -name '*manifest*' 2>/dev/null | wc -l)"
warn="$(grep -c ' ERROR \| WARN ' "$work/serve.log" || true)"
request_s="$(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.2f", b - a }')"
met=missed
[ "$n_success" = "$N" ] && [ "$max_running" -le "$BOUND" ] && met=met

BOUND_TEXT="min(concurrency $EFF_CONC, $SERVERS servers × per-server $EFF_PER_SERVER)"
[ "$EFF_PER_SERVER" = 0 ] && BOUND_TEXT="concurrency $EFF_CONC (no per-server limit)"
RETRY_NOTE=""
[ "$retried" -gt 0 ] && RETRY_NOTE=", $retried not accepted at once and asked again one at a time"
report="$(mktemp)"
{
  echo "### $N concurrent small backups on one node ($(date -u +%Y-%m-%dT%H:%M:%SZ), $PROFILE_NOTE, $(nproc) cores)"
  echo
  echo "One \`pgward serve\` (in-process workers), worker.concurrency = $EFF_CONC${CONC:+ (set)}, worker.per_server_concurrency = $EFF_PER_SERVER${PER_SERVER:+ (set)}, other settings default; $N databases of 20,000 rows on $SERVERS PostgreSQL 17 server(s), one task each (custom format, default compression) to one local destination; all $N runs requested at once (POST /api/v1/tasks/{id}/run, one thread each; answered within $request_s s: ${codes% }$RETRY_NOTE)."
  echo
  echo "- runs: **$n_success of $N succeeded** ($statuses); $files dump files (besides manifests) in the destination"
  echo "- most running at once (from started_at/finished_at): **$max_running** overall, $max_per_server on one database server; configured bound $BOUND_TEXT = **$BOUND**"
  echo "- wall time from the requests to the last finished_at: **$wall s** (first start at +$first_start s); one run: median $run_p50 s, longest $run_max s; $bytes bytes stored in all"
  echo "- memory of the serve process: idle VmRSS $((IDLE_KB / 1024)) MiB, peak VmHWM $((HWM_KB / 1024)) MiB, **peak above idle $(((HWM_KB - IDLE_KB) / 1024)) MiB**; serve and its children (pg_dump) together, sampled every 0.1 s: at most $((TREE_KB / 1024)) MiB"
  echo "- goal (all succeed, concurrency within the bound): **$met**"
  [ -n "$failures" ] && echo "- messages of runs that did not succeed (up to 3): $(paste -sd'|' <<<"$failures")"
  echo "- warnings/errors in serve's log: $warn; load average $LOAD_START at start, $LOAD_END at end; commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown), binary $(stat -c %y "$PGW" | cut -d. -f1)"
  echo "- command: \`${PGWARD_BIN:+PGWARD_BIN=$PGWARD_BIN }bench/concurrent.sh --tasks $N --servers $SERVERS${CONC:+ --concurrency $CONC}${PER_SERVER:+ --per-server $PER_SERVER}\`"
} >"$report"
cat "$report"
if [ "$APPEND" = 1 ]; then
  { echo; cat "$report"; } >>"$ROOT/bench/RESULTS.md"
  say "appended to bench/RESULTS.md"
fi
rm -f "$report"
