#!/usr/bin/env bash
# bench/scheduler.sh: the scheduler under load (issue 15, item 4): 1,000 active tasks due in the same minute,
# 3 `pgward worker` processes on one catalog. Goal: all 1,000 runs enqueued within 2 s of the scheduled
# instant, and no task run twice.
#
#   bench/scheduler.sh [--tasks 1000] [--workers 3] [--interval SECS] [--lead SECS] [--append-results]
#
# --interval: worker.scheduler_interval_secs of the workers (default: unset, pgward's default, 15 s).
#   The workers' passes run every interval from each worker's start, not at minute boundaries, so the
#   wait from the scheduled instant to the next pass is anywhere in [0, interval).
# --phase: start the workers so that their periodic pass comes at about this many seconds after the
# scheduled instant (0 <= phase < interval; default: no control, the pass comes when it comes). --phase 14
# with the default interval shows the worst case: the pass just missed the boundary.
# --lead: the scheduled minute is the first minute boundary at least this many seconds after the tasks
# start being created (default 90; creating them must finish before it).
#
# Setup (untimed): a catalog database and a tiny source database (one table of 100 rows) on a PostgreSQL 17
# server of its own ($PGWARD_BENCH_DIR/scheduler-pg, max_connections 200, stopped on exit); `pgward serve` with its in-process workers
# off (the API only); first admin, API token, the tiny database, a local destination, then --tasks tasks
# through POST /api/v1/tasks, each with the cron `M H * * *` of the chosen minute (UTC); then --workers
# `pgward worker` processes (each runs the periodic pass every scheduler_interval_secs; a transaction-level
# advisory lock lets one lead each pass, and the unique index on (task, scheduled time) forbids a second
# row). After the minute boundary B the script polls the catalog until every task has its row (or
# B + 2 intervals + 60 s), waits one more interval (further passes must add nothing), then stops the workers
# and counts:
#
# - enqueued: execution rows with trigger `schedule` and scheduled_for = B, of the bench's tasks;
# - seconds from B to the 1st, median and last of them (created_at, set by pgward when it inserts the row:
#   the row is the queue entry; the queue job that wakes a worker is pushed after the pass commits, its
#   time is printed too, from apalis.jobs);
# - duplicates: rows beyond one per task (any scheduled time, any status), and (task, scheduled_for)
#   pairs with more than one row.
#
# The backups these runs start (of the tiny database, to the local destination) are not measured; the
# workers are stopped once the counts are taken. pgward: PGWARD_BIN, or a release build (see bench/lib.sh).
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

N=1000
WORKERS=3
INTERVAL=""
LEAD=90
PHASE=""
APPEND=0
while [ $# -gt 0 ]; do
  case "$1" in
  --tasks) N="${2:?}"; shift 2 ;;
  --workers) WORKERS="${2:?}"; shift 2 ;;
  --interval) INTERVAL="${2:?}"; shift 2 ;;
  --lead) LEAD="${2:?}"; shift 2 ;;
  --phase) PHASE="${2:?}"; shift 2 ;;
  --append-results) APPEND=1; shift ;;
  -h | --help) sed -n '2,36p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
for v in "$N" "$WORKERS" "$LEAD" ${INTERVAL:+"$INTERVAL"}; do
  [[ "$v" =~ ^[1-9][0-9]*$ ]] || { echo "numbers must be positive integers" >&2; exit 2; }
done

say() { echo "bench: $*" >&2; }
die() {
  echo "bench: error: $*" >&2
  exit 1
}
if [ -n "$PHASE" ]; then
  if ! [[ "$PHASE" =~ ^[0-9]+(\.[0-9]+)?$ ]] || ! awk -v p="$PHASE" -v i="${INTERVAL:-15}" 'BEGIN { exit !(p < i) }'; then
    die "--phase must be a number of seconds below the interval"
  fi
fi
[ -x "$PG_BIN/psql" ] || die "no psql 17 in $PG_BIN (run scripts/deps.sh)"
command -v curl >/dev/null || die "curl is required"
command -v python3 >/dev/null || die "python3 is required"

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
find_pgward
EFFECTIVE_INTERVAL="${INTERVAL:-15}" # pgward's default worker.scheduler_interval_secs
INTERVAL_NOTE="default"
[ -n "$INTERVAL" ] && INTERVAL_NOTE="set with PGWARD_WORKER__SCHEDULER_INTERVAL_SECS"

# The catalog and the tiny database on a PostgreSQL server of their own: four pgward processes' pools
# need more connections than the generate.sh server allows (20).
aux_pg_start scheduler-pg
SERVER_URL="$AUX_URL"
PG_STARTED="$AUX_STARTED"
CATALOG_DB="pgward_sched_catalog_$$"
SOURCE_DB="pgward_sched_tiny_$$"
work="$(mktemp -d "${TMPDIR:-/tmp}/pgward-sched.XXXXXX")"
chmod 755 "$work"
serve_pid=""
worker_pids=()
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"

psql_on() { "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 "$SERVER_URL/$1" "${@:2}"; }
stop_pid() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
stop_workers() {
  local p
  for p in "${worker_pids[@]}"; do stop_pid "$p"; done
  worker_pids=()
}
cleanup() {
  local rc=$?
  stop_workers
  [ -n "$serve_pid" ] && stop_pid "$serve_pid"
  psql_on postgres -c "DROP DATABASE IF EXISTS $CATALOG_DB WITH (FORCE)" >/dev/null 2>&1 || true
  psql_on postgres -c "DROP DATABASE IF EXISTS $SOURCE_DB WITH (FORCE)" >/dev/null 2>&1 || true
  [ "$PG_STARTED" = 1 ] && aux_pg_stop scheduler-pg
  if [ "$rc" = 0 ]; then rm -rf "$work"; else say "logs kept in $work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

psql_on postgres -c "CREATE DATABASE $CATALOG_DB" >/dev/null
psql_on postgres -c "CREATE DATABASE $SOURCE_DB" >/dev/null
psql_on "$SOURCE_DB" -c "CREATE TABLE t (id int PRIMARY KEY, note text); INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 100) g" >/dev/null

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port="$(free_port)"
base="http://127.0.0.1:$port"
mkdir -p "$work/backups"
COMMON_ENV=(
  "PGWARD_CATALOG__URL=$SERVER_URL/$CATALOG_DB"
  "PGWARD_SECRETS__KEY=$(head -c 32 /dev/urandom | base64)"
  "PGWARD_POSTGRES__BIN_DIRS=[\"$PG_ROOT\"]"
  "PGWARD_STORAGE__LOCAL_ROOTS=[\"$work/backups\"]"
  'PGWARD_OUTBOUND__ALLOW_LOOPBACK=["databases","destinations"]'
  'PGWARD_OUTBOUND__ALLOW_CATALOG_SERVER=true'
  'PGWARD_LOG__FORMAT=text'
  'NO_COLOR=1'
)
WORKER_ENV=()
[ -n "$INTERVAL" ] && WORKER_ENV+=("PGWARD_WORKER__SCHEDULER_INTERVAL_SECS=$INTERVAL")
say "starting pgward serve on $base (catalog $CATALOG_DB, in-process workers off)"
env "${COMMON_ENV[@]}" "PGWARD_DATA_DIR=$work/serve" "PGWARD_SERVER__BIND=127.0.0.1:$port" \
  PGWARD_WORKER__IN_PROCESS=false "$PGW" serve >"$work/serve.log" 2>&1 &
serve_pid=$!
for i in $(seq 300); do
  curl -fsS -o /dev/null "$base/readyz" 2>/dev/null && break
  kill -0 "$serve_pid" 2>/dev/null || die "pgward serve exited: $(tail -20 "$work/serve.log")"
  [ "$i" = 300 ] && die "pgward serve not ready after 60 s: $(tail -20 "$work/serve.log")"
  sleep 0.2
done

# api METHOD PATH [JSON]: the response body; dies on anything but 2xx.
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

PASSWORD="bench-$(python3 -c 'import secrets; print(secrets.token_hex(12))')"
api POST /api/v1/auth/setup "{\"email\":\"bench@pgward.invalid\",\"password\":\"$PASSWORD\",\"name\":\"bench\"}" >/dev/null
TOKEN="$(api POST /api/v1/auth/login "{\"email\":\"bench@pgward.invalid\",\"password\":\"$PASSWORD\"}" | jget 'd["access_token"]')"
TOKEN="$(api POST /api/v1/tokens '{"name": "bench", "expires_in_days": 1}' | jget 'd["token"]')"
DB_ID="$(api POST /api/v1/databases "{\"name\":\"tiny\",\"connection_string\":\"$SERVER_URL/$SOURCE_DB\",\"health_interval_secs\":604800}" | jget 'd["id"]')"
DEST_ID="$(api POST /api/v1/destinations "{\"name\":\"local\",\"health_interval_secs\":604800,\"config\":{\"kind\":\"local\",\"path\":\"$work/backups/sched\"}}" | jget 'd["id"]')"

# The scheduled instant: the first minute boundary at least LEAD seconds from now.
now_s="$(date -u +%s)"
B=$(((now_s + LEAD + 59) / 60 * 60))
CRON="$(date -u -d "@$B" +'%-M %-H') * * *"
say "creating $N tasks through the API, cron '$CRON' (UTC), due at $(date -u -d "@$B" +%H:%M:%S) UTC"
t0="$(date +%s.%N)"
python3 - "$base" "$TOKEN" "$N" "$DB_ID" "$DEST_ID" "$CRON" >"$work/tasks.txt" <<'PY'
import http.client, json, sys, threading
from urllib.parse import urlparse
base, token, n, db, dest, cron = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
u = urlparse(base)
ids, errors, lock = [], [], threading.Lock()
def run(start):
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    for i in range(start, n, 4):
        body = json.dumps({"name": "sched-%04d" % i, "database_id": db, "destination_ids": [dest],
                           "format": "custom", "schedule": cron, "timezone": "UTC"})
        c.request("POST", "/api/v1/tasks", body, {"Content-Type": "application/json",
                                                  "Authorization": "Bearer " + token})
        r = c.getresponse()
        data = r.read()
        with lock:
            if r.status == 201:
                ids.append(json.loads(data)["id"])
            else:
                errors.append("%s %s" % (r.status, data[:300]))
threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
for t in threads: t.start()
for t in threads: t.join()
if errors:
    sys.exit("task creation failed (%d): %s" % (len(errors), errors[0]))
print("\n".join(ids))
PY
t1="$(date +%s.%N)"
CREATE_S="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
[ "$(wc -l <"$work/tasks.txt")" = "$N" ] || die "expected $N task ids"
say "created $N tasks in $CREATE_S s"
late="$(psql_on "$CATALOG_DB" -c "SELECT count(*) FROM tasks WHERE updated_at >= to_timestamp($B)")"
[ "$late" = 0 ] || die "$late tasks were created after the scheduled minute; rerun with a larger --lead"

if [ -n "$PHASE" ]; then
  # The first pass runs at start: start at B + phase - k × interval, the latest such time from now on.
  start_at="$(awk -v b="$B" -v p="$PHASE" -v i="$EFFECTIVE_INTERVAL" -v n="$(date +%s.%N)" \
    'BEGIN { k = int((b + p - n - 1) / i); printf "%.3f", b + p - k * i }')"
  awk -v t="$start_at" -v b="$B" 'BEGIN { exit !(t < b) }' || die "too little time before the scheduled minute for --phase; raise --lead"
  say "starting the workers at $(date -u -d "@$start_at" +%H:%M:%S.%N | cut -c1-12) so that a pass comes at +$PHASE s"
  sleep "$(awk -v t="$start_at" -v n="$(date +%s.%N)" 'BEGIN { printf "%.3f", t - n }')"
fi
say "starting $WORKERS pgward worker processes (scheduler interval ${EFFECTIVE_INTERVAL} s)"
for w in $(seq "$WORKERS"); do
  env "${COMMON_ENV[@]}" ${WORKER_ENV[@]+"${WORKER_ENV[@]}"} "PGWARD_DATA_DIR=$work/worker$w" \
    "$PGW" worker >"$work/worker$w.log" 2>&1 &
  worker_pids+=($!)
done
started=()
for w in $(seq "$WORKERS"); do
  for i in $(seq 300); do
    grep -q 'workers and scheduler started' "$work/worker$w.log" && break
    kill -0 "${worker_pids[$((w - 1))]}" 2>/dev/null || die "worker $w exited: $(tail -20 "$work/worker$w.log")"
    [ "$i" = 300 ] && die "worker $w not started after 60 s: $(tail -20 "$work/worker$w.log")"
    sleep 0.2
  done
  # The periodic pass ticks at start, then every interval: its phase against the boundary.
  started+=("$(date +%s.%N)")
done
now_s="$(date -u +%s)"
[ "$now_s" -lt "$B" ] || die "the workers started after the scheduled minute; rerun with a larger --lead"
say "waiting $((B - now_s)) s for the boundary, then until all $N runs exist"

COUNT_SQL="SELECT count(*) FROM executions WHERE trigger = 'schedule' AND scheduled_for = to_timestamp($B)"
deadline=$((B + 2 * EFFECTIVE_INTERVAL + 60))
sleep "$((B - now_s))"
n_rows=0
while :; do
  n_rows="$(psql_on "$CATALOG_DB" -c "$COUNT_SQL")"
  [ "$n_rows" -ge "$N" ] && break
  [ "$(date -u +%s)" -ge "$deadline" ] && break
  sleep 0.2
done
say "$n_rows rows at +$(($(date -u +%s) - B)) s; one more interval ($EFFECTIVE_INTERVAL s) to see whether a later pass adds any"
sleep "$((EFFECTIVE_INTERVAL + 2))"
# The leading pass pushes the queue jobs after it commits, one at a time: wait for them too (at most 60 s
# more), so that the job figure below is complete.
JOBS_SQL="SELECT count(DISTINCT convert_from(job, 'UTF8')::jsonb->>'execution_id') FROM apalis.jobs WHERE job_type = 'pgward::run_backup'"
for _ in $(seq 300); do
  [ "$(psql_on "$CATALOG_DB" -c "$JOBS_SQL" 2>/dev/null || echo 0)" -ge "$n_rows" ] && break
  sleep 0.2
done
# What the processes complained of while the runs were scheduled (before the workers are stopped).
warn="$(cat "$work"/worker*.log "$work/serve.log" | grep -c ' ERROR \| WARN ' || true)"
BQ='`'
warn_lines="$(cat "$work"/worker*.log "$work/serve.log" | grep ' ERROR \| WARN ' |
  sed 's/^[^ ]* *//; s/execution_id=[0-9a-f-]*/execution_id=…/g' | cut -c1-240 | sort | uniq -c | sort -rn | head -3 |
  sed "s/^ *//; s/^/  - $BQ/; s/\$/$BQ/" || true)"
stop_workers
LOAD_END="$(cut -d' ' -f1-3 /proc/loadavg)"

read -r enq first p50 last <<<"$(psql_on "$CATALOG_DB" -F ' ' -c "
  SELECT count(*),
         round(extract(epoch FROM min(created_at) - to_timestamp($B))::numeric, 3),
         round(extract(epoch FROM percentile_disc(0.5) WITHIN GROUP (ORDER BY created_at) - to_timestamp($B))::numeric, 3),
         round(extract(epoch FROM max(created_at) - to_timestamp($B))::numeric, 3)
  FROM executions WHERE trigger = 'schedule' AND scheduled_for = to_timestamp($B)")"
read -r extra_rows dup_pairs tasks_without <<<"$(psql_on "$CATALOG_DB" -F ' ' -c "
  SELECT (SELECT count(*) - count(DISTINCT task_id) FROM executions WHERE task_id IS NOT NULL),
         (SELECT count(*) FROM (SELECT 1 FROM executions GROUP BY task_id, scheduled_for HAVING count(*) > 1) d),
         (SELECT count(*) FROM tasks t WHERE NOT EXISTS (SELECT 1 FROM executions e WHERE e.task_id = t.id))")"
# The queue jobs pushed for these runs: apalis ids are ULIDs, whose first 10 characters are the push time
# in milliseconds (run_at has whole seconds only). A run's first job is the scheduler's; later ones wake runs
# that waited for a per-server slot.
jobs_line="$(psql_on "$CATALOG_DB" -F ' ' -c "
  SELECT id, convert_from(job, 'UTF8')::jsonb->>'execution_id' FROM apalis.jobs WHERE job_type = 'pgward::run_backup'" |
  python3 -c '
import sys
alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
b = int(sys.argv[1])
ids, first = 0, {}
for line in sys.stdin:
    jid, ex = line.split()
    ms = 0
    for ch in jid[:10].upper():
        ms = ms * 32 + alphabet.index(ch)
    ids += 1
    first[ex] = min(first.get(ex, ms), ms)
print(ids, len(first), "%.3f" % (max(first.values()) / 1000 - b) if first else "-")
' "$B" 2>/dev/null || echo "- - -")"
read -r jobs jobs_distinct jobs_last <<<"$jobs_line"
statuses="$(psql_on "$CATALOG_DB" -F '=' -c "SELECT status, count(*) FROM executions GROUP BY 1 ORDER BY 1" | paste -sd' ')"
phases=""
for s in "${started[@]}"; do
  phases+="$(awk -v s="$s" -v b="$B" -v i="$EFFECTIVE_INTERVAL" 'BEGIN { d = (b - s) % i; printf "%.1f ", (d == 0 ? 0 : i - d) }')"
done
dups=$((extra_rows + dup_pairs))
met=missed
if [ "$enq" -ge "$N" ] && [ "$dups" = 0 ] && awk -v l="${last:-999}" 'BEGIN { exit !(l <= 2) }'; then met=met; fi

report="$(mktemp)"
{
  echo "### Scheduler: $N tasks due in the same minute, $WORKERS workers ($(date -u +%Y-%m-%dT%H:%M:%SZ), $PROFILE_NOTE, $(nproc) cores)"
  echo
  echo "$N tasks (custom format, one tiny database, a local destination) created through POST /api/v1/tasks in $CREATE_S s, all with the cron \`$CRON\` (UTC); $WORKERS \`pgward worker\` processes, worker.scheduler_interval_secs = $EFFECTIVE_INTERVAL ($INTERVAL_NOTE), other settings default; scheduled instant $(date -u -d "@$B" +%H:%M:%S) UTC."
  echo
  echo "- enqueued: **$enq of $N** execution rows for the scheduled instant"
  echo "- seconds from the scheduled instant to the rows' created_at: first $first, median $p50, last (p100) **$last** (goal <= 2 s)"
  echo "- the last run's first queue job (the scheduler's push after its pass commits) at +$jobs_last s ($jobs_distinct executions with jobs; $jobs jobs in all, the rest wake runs that waited for a per-server slot)"
  echo "- duplicates: **$dups** ($extra_rows rows beyond one per task, $dup_pairs (task, scheduled time) pairs with more than one row; $tasks_without tasks without a row), checked after one more interval"
  echo "- the workers' first pass after the boundary was expected at +${phases% } s (worker start + k × interval; the workers were started together)"
  echo "- goal (all enqueued within 2 s, 0 duplicates): **$met**"
  echo "- execution statuses when the workers were stopped: $statuses; warnings/errors in the logs until then: $warn$([ -n "$warn_lines" ] && echo " (the most frequent, with their count:)")"
  [ -n "$warn_lines" ] && echo "$warn_lines"
  echo "- load average $LOAD_START at start, $LOAD_END at end; commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown), binary $(stat -c %y "$PGW" | cut -d. -f1)"
  echo "- command: \`${PGWARD_BIN:+PGWARD_BIN=$PGWARD_BIN }bench/scheduler.sh --tasks $N --workers $WORKERS${INTERVAL:+ --interval $INTERVAL}${PHASE:+ --phase $PHASE} --lead $LEAD\`"
} >"$report"
cat "$report"
if [ "$APPEND" = 1 ]; then
  { echo; cat "$report"; } >>"$ROOT/bench/RESULTS.md"
  say "appended to bench/RESULTS.md"
fi
rm -f "$report"
