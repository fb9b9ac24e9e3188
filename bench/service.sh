#!/usr/bin/env bash
# bench/service.sh: memory of the `pgward serve` process (API + in-process worker) during a backup to S3 and
# during restores from S3, driven through the REST API like a user would.
#
#   bench/service.sh --size-gb 1 --profile text [--runs 3] [--append-results]   # then --size-gb 4 (flatness)
#
# Options:
#   --size-gb GB        size of the generated database (plain-dump bytes; see bench/generate.sh)
#   --scale N           or the fixture scale directly
#   --profile P         text (default), numeric or mixed
#   --runs N            repeat backup + restores N times and report the median (default 1)
#   --jobs J            pg_restore --jobs of the parallel restore (default 2); a single-job restore (which
#                       streams from S3 without scratch space) is measured too unless J is 1
#   --keep              keep the scratch directory (serve's log, API responses) and the restored databases
#   --append-results    append the report to bench/RESULTS.md
#
# Setup (untimed): bench/generate.sh fills a database on the bench PostgreSQL 17 server; a catalog database
# is created on that same server; a moto_server S3 emulator starts on a free port with a bucket; `pgward
# serve` starts with that catalog (workers in-process); the script sets up the first user, an API token,
# registers the database and an S3 destination on moto and creates a task (custom format, default
# compression, a schedule that never comes due during the run). Per run: idle VmRSS of the serve process,
# peak reset (`echo 5 > /proc/PID/clear_refs`), "run now", poll to success, VmHWM: the backup's peak above
# idle; then the same around a restoration of that backup into a new database on the same server (jobs J,
# then jobs 1). pg_dump/pg_restore are child processes and not counted: this is pgward's own memory.
# Target (issue 12): peak above idle <= 64 MiB for backup and restore, spread <= 8 MiB between 1 and 4 GB
# (kept per binary and profile in $PGWARD_BENCH_DIR/service-rss-history.tsv).
#
# pgward: PGWARD_BIN, or a release build (cargo build --release -p pgward-server --bin pgward, up-to-date
# check on every run) in ${CARGO_TARGET_DIR:-$HOME/.cache/pgward/target}.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${PGWARD_CACHE:-$HOME/.cache/pgward}"
PG_ROOT="${PGWARD_PG_ROOT:-$CACHE/pg}"
PG_BIN="${PGWARD_BENCH_PG_BIN:-$PG_ROOT/17/bin}"
STATE="${PGWARD_BENCH_DIR:-/tmp/pgward-bench}"
export PGWARD_BENCH_DIR="$STATE"
OUT="$STATE/service-$$"
# shellcheck disable=SC1091
[ -f "$CACHE/env.sh" ] && . "$CACHE/env.sh"
# Nothing from the caller's environment may change what pgward does: every PGWARD_* setting of the server
# is set below, and a backtrace capture would cost memory (see bench/backup.sh).
unset PGWARD_CONFIG RUST_LOG RUST_BACKTRACE RUST_LIB_BACKTRACE
while IFS='=' read -r _name _; do
  case "$_name" in PGWARD_*__* | PGWARD_DATA_DIR) unset "$_name" ;; esac
done < <(env)

SIZE_GB=""
SCALE=""
PROFILE=text
RUNS=1
JOBS=2
KEEP=0
APPEND=0
while [ $# -gt 0 ]; do
  case "$1" in
  --size-gb) SIZE_GB="${2:?}"; shift 2 ;;
  --scale) SCALE="${2:?}"; shift 2 ;;
  --profile) PROFILE="${2:?}"; shift 2 ;;
  --runs) RUNS="${2:?}"; shift 2 ;;
  --jobs) JOBS="${2:?}"; shift 2 ;;
  --keep) KEEP=1; shift ;;
  --append-results) APPEND=1; shift ;;
  -h | --help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "--runs must be a positive integer" >&2; exit 2; }
if ! [[ "$JOBS" =~ ^[1-9][0-9]*$ ]] || [ "$JOBS" -gt 32 ]; then
  echo "--jobs must be 1-32" >&2
  exit 2
fi
[ -n "$SIZE_GB$SCALE" ] || { echo "give --size-gb GB (or --scale N); see --help" >&2; exit 2; }

say() { echo "bench: $*" >&2; }
die() {
  echo "bench: error: $*" >&2
  exit 1
}

# --- tools -----------------------------------------------------------------------------------------------
if ! command -v curl >/dev/null; then
  [ "$(id -u)" = 0 ] || die "curl is missing: apt-get install -y curl"
  say "installing curl"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q curl >&2 || { apt-get update -q >&2 && apt-get install -y -q curl >&2; }
fi
command -v python3 >/dev/null || die "python3 is required"
command -v moto_server >/dev/null || die "moto_server not found (scripts/deps.sh installs it)"
[ -x "$PG_BIN/psql" ] || die "no psql 17 in $PG_BIN (run scripts/deps.sh)"
[ -w /proc/self/clear_refs ] || die "/proc/PID/clear_refs is not writable here: the peak cannot be reset"

# --- pgward ----------------------------------------------------------------------------------------------
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
find_pgward

# --- database --------------------------------------------------------------------------------------------
gen_args=(--profile "$PROFILE")
if [ -n "$SCALE" ]; then gen_args+=(--scale "$SCALE"); else gen_args+=(--size-gb "$SIZE_GB"); fi
gen_out="$("$ROOT/bench/generate.sh" "${gen_args[@]}")" || die "bench/generate.sh failed"
kv() { sed -n "s/^$1=//p" <<<"$gen_out"; }
URL="$(kv url)"
DB="$(kv database)"
SCALE="$(kv scale)"
DB_SIZE="$(kv database_size_bytes)"
EST="$(kv plain_dump_estimate_bytes)"
[ -n "$URL" ] || die "bench/generate.sh printed no url"
[ -n "$SIZE_GB" ] || SIZE_GB="$(awk -v b="$EST" 'BEGIN { printf "%.2f", b / 1073741824 }')"
SERVER_URL="${URL%/*}" # postgresql://postgres@127.0.0.1:PORT
CATALOG_DB="pgward_svc_catalog_$$"
RESTORED=() # databases created by restorations, dropped on exit

psql_on() {
  local db="$1"
  shift
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -At "$SERVER_URL/$db" "$@"
}

# --- scratch space and clean-up --------------------------------------------------------------------------
MOTO_PID=""
SERVE_PID=""
SAMPLER_PID=""
CATALOG_CREATED=0
# stop_pid PID [NAME]: SIGTERM, then SIGKILL after 10 s (said when NAME is given).
stop_pid() {
  local pid="$1" name="${2:-}" i
  kill "$pid" 2>/dev/null || return 0
  for i in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -9 "$pid" 2>/dev/null && [ -n "$name" ]; then
    say "warning: $name did not stop within 10 s of SIGTERM; killed"
  fi
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$? d
  trap - EXIT INT TERM
  [ -n "$SAMPLER_PID" ] && stop_pid "$SAMPLER_PID"
  [ -n "$SERVE_PID" ] && stop_pid "$SERVE_PID" "pgward serve"
  [ -n "$MOTO_PID" ] && stop_pid "$MOTO_PID"
  if [ -f "$OUT/logs/serve.log" ] && grep -qE ' (WARN|ERROR) ' "$OUT/logs/serve.log"; then
    say "pgward serve logged $(grep -cE ' (WARN|ERROR) ' "$OUT/logs/serve.log") warning/error line(s), the first ones:"
    grep -E ' (WARN|ERROR) ' "$OUT/logs/serve.log" | head -3 | cut -c1-300 >&2
  fi
  if [ "$KEEP" = 0 ]; then
    for d in "${RESTORED[@]}"; do
      psql_on postgres -c "DROP DATABASE IF EXISTS \"$d\" WITH (FORCE)" 2>/dev/null || true
    done
  elif [ ${#RESTORED[@]} -gt 0 ]; then
    say "kept the restored databases: ${RESTORED[*]}"
  fi
  if [ "$CATALOG_CREATED" = 1 ]; then
    psql_on postgres -c "DROP DATABASE IF EXISTS \"$CATALOG_DB\" WITH (FORCE)" 2>/dev/null || true
  fi
  if [ "$rc" != 0 ] && [ -d "$OUT" ]; then
    say "failed: serve's log and the API responses stay in $OUT"
  elif [ "$KEEP" = 0 ]; then
    rm -rf "$OUT"
  else
    say "kept $OUT"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
rm -rf "$OUT"
mkdir -p "$OUT/logs" "$OUT/data" "$OUT/api"
RES="$OUT/results.tsv" # id run wall_s duration_s stored_bytes idle_kb hwm_kb sampled_kb first_idle_kb bytes_read
: >"$RES"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
now_ns() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
# jget EXPR: the Python expression EXPR over the JSON document on stdin (bound to d); strings bare, null as -.
jget() {
  python3 -c '
import json, sys
d = json.load(sys.stdin)
v = eval(sys.argv[1])
print("-" if v is None else v if isinstance(v, (str, int, float)) and not isinstance(v, bool) else json.dumps(v))' "$1"
}
# mkjson EXPR ARG...: a JSON document from the Python expression EXPR, with the arguments as a[0], a[1], ...
mkjson() { python3 -c 'import json, sys; a = sys.argv[2:]; print(json.dumps(eval(sys.argv[1])))' "$@"; }
# The serve process's own memory (kB): VmRSS (now) or VmHWM (peak since the last reset).
vm() { awk -v k="$1:" '$1 == k { print $2; exit }' "/proc/$SERVE_PID/status"; }

# --- S3 emulator -----------------------------------------------------------------------------------------
MOTO_PORT="$(free_port)"
BUCKET=pgward-bench
say "starting moto_server on 127.0.0.1:$MOTO_PORT"
moto_server -H 127.0.0.1 -p "$MOTO_PORT" >"$OUT/logs/moto.log" 2>&1 &
MOTO_PID=$!
for _ in $(seq 100); do
  curl -sf -o /dev/null "http://127.0.0.1:$MOTO_PORT/" && break
  kill -0 "$MOTO_PID" 2>/dev/null || die "moto_server exited: $(tail -5 "$OUT/logs/moto.log")"
  sleep 0.2
done
curl -sf -o /dev/null -X PUT "http://127.0.0.1:$MOTO_PORT/$BUCKET" || die "could not create the bucket"
MOTO="http://127.0.0.1:$MOTO_PORT"
MOTO_VERSION="$("$(dirname "$(command -v moto_server)")/python3" -c 'import moto; print(moto.__version__)' 2>/dev/null || echo "(version unknown)")"

# --- pgward serve ----------------------------------------------------------------------------------------
psql_on postgres -c "CREATE DATABASE \"$CATALOG_DB\""
CATALOG_CREATED=1
API_PORT="$(free_port)"
BASE="http://127.0.0.1:$API_PORT"
SECRETS_KEY="$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')"
SPA_DIR="$ROOT/frontend/dist"
# Everything pgward dials here is on loopback (the bench server, moto), and the databases live on the server
# that holds the catalog: both are refused unless allowed.
SERVE_ENV=(
  "PGWARD_DATA_DIR=$OUT/data"
  "PGWARD_SERVER__BIND=127.0.0.1:$API_PORT"
  "PGWARD_SERVER__SPA_DIR=$SPA_DIR"
  "PGWARD_CATALOG__URL=$SERVER_URL/$CATALOG_DB"
  "PGWARD_POSTGRES__BIN_DIRS=[\"$PG_ROOT\"]"
  'PGWARD_OUTBOUND__ALLOW_LOOPBACK=["databases","destinations"]'
  'PGWARD_OUTBOUND__ALLOW_CATALOG_SERVER=true'
)
say "starting pgward serve on $BASE (catalog $CATALOG_DB)"
env "${SERVE_ENV[@]}" "PGWARD_SECRETS__KEY=$SECRETS_KEY" NO_COLOR=1 "$PGW" serve >"$OUT/logs/serve.log" 2>&1 &
SERVE_PID=$!
for i in $(seq 300); do
  curl -sf -o /dev/null "$BASE/readyz" && break
  kill -0 "$SERVE_PID" 2>/dev/null || die "pgward serve exited: $(tail -20 "$OUT/logs/serve.log")"
  [ "$i" = 300 ] || { sleep 0.2; continue; }
  die "pgward serve not ready after 60 s: $(tail -20 "$OUT/logs/serve.log")"
done

# api METHOD PATH [JSON]: the response body; dies on anything but 2xx (with the body and serve's log).
TOKEN=""
N_CALL=0
api() {
  local m="$1" p="$2" body="${3:-}" code resp
  N_CALL=$((N_CALL + 1))
  resp="$OUT/api/$N_CALL.json"
  local args=(-sS -o "$resp" -w '%{http_code}' -X "$m" -H 'Content-Type: application/json')
  [ -n "$TOKEN" ] && args+=(-H "Authorization: Bearer $TOKEN")
  [ -n "$body" ] && args+=(--data-binary "$body")
  code="$(curl "${args[@]}" "$BASE$p")" || die "$m $p: curl failed; serve: $(tail -5 "$OUT/logs/serve.log")"
  case "$code" in
  2??) cat "$resp" ;;
  *) die "$m $p: HTTP $code: $(head -c 2000 "$resp"); serve: $(tail -5 "$OUT/logs/serve.log")" ;;
  esac
}

say "API: first user, API token, database, S3 destination, task"
EMAIL=bench@pgward.invalid
PASSWORD="bench-$(python3 -c 'import secrets; print(secrets.token_hex(12))')"
api POST /api/v1/auth/setup "$(mkjson '{"email": a[0], "password": a[1], "name": "bench"}' "$EMAIL" "$PASSWORD")" >/dev/null
r="$(api POST /api/v1/auth/login "$(mkjson '{"email": a[0], "password": a[1]}' "$EMAIL" "$PASSWORD")")"
TOKEN="$(jget 'd["access_token"]' <<<"$r")"
# An API token: a 4 GB run outlives the 15-minute access token.
r="$(api POST /api/v1/tokens '{"name": "bench", "expires_in_days": 1}')"
TOKEN="$(jget 'd["token"]' <<<"$r")"
# Health checks once a week: none runs during a measurement.
r="$(api POST /api/v1/databases "$(mkjson '{"name": a[0], "connection_string": a[1], "health_interval_secs": 604800}' "$DB" "$URL")")"
DB_ID="$(jget 'd["id"]' <<<"$r")"
r="$(api POST /api/v1/destinations "$(mkjson '{"name": "moto", "health_interval_secs": 604800, "config": {"kind": "s3",
  "endpoint": a[0], "region": "us-east-1", "bucket": a[1], "prefix": "service", "access_key_id": "bench",
  "secret_access_key": "bench", "path_style": True, "allow_http": True}}' "$MOTO" "$BUCKET")")"
DEST_ID="$(jget 'd["id"]' <<<"$r")"
# Custom format, the server's default compression; the schedule (29 February) never comes due in a run.
TASK_JSON="$(mkjson '{"name": "bench-service", "database_id": a[0], "destination_ids": [a[1]], "format": "custom",
  "schedule": "0 0 29 2 *", "timezone": "UTC"}' "$DB_ID" "$DEST_ID")"
r="$(api POST /api/v1/tasks "$TASK_JSON")"
TASK_ID="$(jget 'd["id"]' <<<"$r")"
TASK_COMPRESSION="$(jget 'str(d.get("compression")) + (":" + str(d["compression_level"]) if d.get("compression_level") else "")' <<<"$r")"

# Source figures for the restore check: user tables and their rows (exact counts).
COUNT_SQL="SELECT count(*) || ' ' || coalesce(sum((xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', schemaname, tablename), false, true, '')))[1]::text::bigint), 0) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
SRC_COUNTS="$(psql_on "$DB" -c "$COUNT_SQL")"

# sample: the largest VmRSS of the serve process every 0.1 s, into $1 (a cross-check of VmHWM).
sample() {
  local out="$1" max=0 k v rest
  echo 0 >"$out"
  while [ -r "/proc/$SERVE_PID/status" ]; do
    while read -r k v rest; do
      if [ "$k" = "VmRSS:" ]; then
        if [ "$v" -gt "$max" ]; then
          max=$v
          echo "$max" >"$out"
        fi
        break
      fi
    done <"/proc/$SERVE_PID/status" 2>/dev/null || true
    sleep 0.1
  done
}

# measure TAG PATH-TO-START JSON POLL-PREFIX: settles, reads the idle VmRSS, resets the peak, starts the job
# through the API, polls it every 0.5 s to its end; leaves "wall_s idle_kb hwm_kb sampled_kb" in
# logs/TAG.m and the final JSON in logs/TAG.json. Dies unless the job succeeded.
measure() {
  local tag="$1" path="$2" body="$3" prefix="$4" r id st t0 t1 idle hwm
  sleep 2 # let the previous job's tail (catalog writes, events) settle
  kill -0 "$SERVE_PID" 2>/dev/null || die "pgward serve is gone: $(tail -20 "$OUT/logs/serve.log")"
  idle="$(vm VmRSS)"
  echo 5 >"/proc/$SERVE_PID/clear_refs"
  sample "$OUT/logs/$tag.sampled" &
  SAMPLER_PID=$!
  t0=$(now_ns)
  r="$(api POST "$path" "$body")"
  id="$(jget 'd["id"]' <<<"$r")"
  while :; do
    r="$(api GET "$prefix/$id")"
    st="$(jget 'd["status"]' <<<"$r")"
    case "$st" in
    queued | running) sleep 0.5 ;;
    *) break ;;
    esac
  done
  t1=$(now_ns)
  hwm="$(vm VmHWM)"
  stop_pid "$SAMPLER_PID"
  SAMPLER_PID=""
  echo "$r" >"$OUT/logs/$tag.json"
  [ "$st" = success ] || die "$tag: $st: $(jget '[d.get("message"), d.get("error_code"), d.get("stderr_tail")]' <<<"$r"); serve: $(tail -5 "$OUT/logs/serve.log")"
  echo "$(secs "$t0" "$t1") $idle $hwm $(cat "$OUT/logs/$tag.sampled")" >"$OUT/logs/$tag.m"
}

record() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RES"; }
dur() { jget '"-" if d.get("duration_ms") is None else "%.3f" % (d["duration_ms"] / 1000)' <"$1"; }

RESTORE_JOBS=("$JOBS")
[ "$JOBS" = 1 ] || RESTORE_JOBS+=(1)
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
FIRST_IDLE="$(vm VmRSS)"
for run in $(seq "$RUNS"); do
  say "run $run/$RUNS: backup → S3 (run now, polled to its end)"
  measure "backup$run" "/api/v1/tasks/$TASK_ID/run" "" /api/v1/executions
  read -r w idle hwm sampled <"$OUT/logs/backup$run.m"
  f="$OUT/logs/backup$run.json"
  EXEC_ID="$(jget 'd["id"]' <"$f")"
  read -r size bytes_read key osize < <(jget '" ".join(str(x) for x in [d["size"], d["bytes_read"], d["objects"][0]["key"], d["objects"][0]["size"]])' <"$f")
  [ "$size" = "$osize" ] || die "backup$run: the execution's size $size differs from its object's $osize"
  len="$(curl -sfI "$MOTO/$BUCKET/$key" | tr -d '\r' | sed -n 's/^[Cc]ontent-[Ll]ength: //p')"
  [ "$len" = "$size" ] || die "backup$run: object $key has ${len:-no} size on moto, the execution says $size"
  record backup "$run" "$w" "$(dur "$f")" "$size" "$idle" "$hwm" "$sampled" "$FIRST_IDLE" "$bytes_read"

  for j in "${RESTORE_JOBS[@]}"; do
    target="pgward_svc_restore_$$_${run}_j$j"
    RESTORED+=("$target")
    say "run $run/$RUNS: restore from S3, jobs $j, into the new database $target"
    body="$(mkjson '{"execution_id": a[0], "target": {"kind": "new_database", "database_id": a[1], "name": a[2]},
      "options": {"jobs": int(a[3])}}' "$EXEC_ID" "$DB_ID" "$target" "$j")"
    measure "restore${run}_j$j" /api/v1/restorations "$body" /api/v1/restorations
    read -r w idle hwm sampled <"$OUT/logs/restore${run}_j$j.m"
    f="$OUT/logs/restore${run}_j$j.json"
    counts="$(psql_on "$target" -c "$COUNT_SQL")"
    [ "$counts" = "$SRC_COUNTS" ] || die "restore${run}_j$j: tables and rows '$counts' differ from the source's '$SRC_COUNTS'"
    record "restore_j$j" "$run" "$w" "$(dur "$f")" "$(jget 'd.get("total_bytes")' <"$f")" "$idle" "$hwm" "$sampled" "$FIRST_IDLE" "$(jget 'd["bytes_read"]' <"$f")"
    if [ "$KEEP" = 0 ]; then
      psql_on postgres -c "DROP DATABASE \"$target\" WITH (FORCE)"
    fi
  done
  # moto keeps objects in memory: drop this run's backup before the next one.
  [ "$KEEP" = 1 ] || curl -sf -o /dev/null -X DELETE "$MOTO/$BUCKET/$key" || true
done
LOAD_END="$(cut -d' ' -f1-3 /proc/loadavg)"
LAST_IDLE="$(vm VmRSS)"
SERVE_THREADS="$(awk '$1 == "Threads:" { print $2 }' "/proc/$SERVE_PID/status")"

# --- report ----------------------------------------------------------------------------------------------
# median ID A [B]: the median of column A (minus column B) over the rows of ID; "-" when there is none.
# Columns: 3 wall, 4 duration, 5 stored, 6 idle, 7 hwm, 8 sampled, 9 first idle, 10 bytes read.
median_of() {
  awk -F'\t' -v id="$1" -v a="$2" -v b="${3:-0}" '$1 == id && $a != "-" && $a != "" { print (b ? $a - $b : $a) }' "$RES" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit } if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
mib() { if [ "$1" = - ]; then echo -; else calc "%.1f" "$1 / 1048576"; fi; }
kmib() { if [ "$1" = - ]; then echo -; else calc "%.1f" "$1 / 1024"; fi; }
secs3() { if [ "$1" = - ]; then echo -; else calc "%.3f" "$1"; fi; }
verdict() { if awk "BEGIN { exit !($1) }"; then echo PASS; else echo MISS; fi; }

IDS=(backup)
for j in "${RESTORE_JOBS[@]}"; do IDS+=("restore_j$j"); done
declare -A M # M[id,name] = median
for id in "${IDS[@]}"; do
  M[$id,wall]="$(secs3 "$(median_of "$id" 3)")"
  M[$id,dur]="$(secs3 "$(median_of "$id" 4)")"
  M[$id,stored]="$(median_of "$id" 5)"
  M[$id,idle]="$(median_of "$id" 6)"
  M[$id,above]="$(kmib "$(median_of "$id" 7 6)")"
  M[$id,sampled]="$(kmib "$(median_of "$id" 8 6)")"
  M[$id,first]="$(kmib "$(median_of "$id" 7 9)")"
  M[$id,read]="$(median_of "$id" 10)"
  M[$id,res]="$(verdict "${M[$id,above]} <= 64")"
done

DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
HIST="$STATE/service-rss-history.tsv"
BIN_ID="$PGW@$(stat -c '%s-%Y' "$PGW")"
EST_MIB="$(mib "$EST")"
# One line per binary (path, size, mtime), profile, restore jobs and scale: date bin profile/jJ scale
# plain-dump-MiB backup-MiB restore-jJ-MiB restore-j1-MiB (peaks above idle). Flatness compares the sizes
# measured with the same binary, profile and jobs (e.g. --size-gb 1, then --size-gb 4).
HKEY="$PROFILE/j$JOBS"
R1=-
[ "$JOBS" = 1 ] || R1="${M[restore_j1,above]}"
awk -F'\t' -v b="$BIN_ID" -v p="$HKEY" -v s="$SCALE" '!($2 == b && $3 == p && $4 == s)' "$HIST" 2>/dev/null >"$HIST.new" || true
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$DATE" "$BIN_ID" "$HKEY" "$SCALE" "$EST_MIB" "${M[backup,above]}" "${M[restore_j$JOBS,above]}" "$R1" >>"$HIST.new"
mv "$HIST.new" "$HIST"
# Small validation runs (< 512 MiB plain dump) are left out once a larger one is measured.
flat_rows="$(awk -F'\t' -v b="$BIN_ID" -v p="$HKEY" -v c="$EST_MIB" '$2 == b && $3 == p && (c < 512 || $5 >= 512)' "$HIST" |
  sort -t$'\t' -k5,5g)"
flat_n="$(grep -c . <<<"$flat_rows" || true)"
# flat COLUMN NAME: "result|figure" for one measurement's peak above idle across the sizes.
flat() {
  local col="$1" desc spread
  desc="$(awk -F'\t' -v c="$col" '{ printf "%s%s s%s (%.0f MiB plain): %s MiB", (NR > 1 ? "; " : ""), $3, $4, $5, $c }' <<<"$flat_rows")"
  if [ "$flat_n" -ge 2 ]; then
    spread="$(awk -F'\t' -v c="$col" 'NR == 1 { lo = hi = $c } { if ($c < lo) lo = $c; if ($c > hi) hi = $c } END { printf "%.1f", hi - lo }' <<<"$flat_rows")"
    echo "$(verdict "$spread <= 8")|spread $spread MiB over $flat_n sizes ($desc)"
  else
    echo "n/a|only this size measured with this binary, profile and jobs so far ($desc); run the other size too"
  fi
}
IFS='|' read -r FLAT_B_RES FLAT_B_FIG <<<"$(flat 6)"
IFS='|' read -r FLAT_R_RES FLAT_R_FIG <<<"$(flat 7)"
if [ "$JOBS" != 1 ]; then IFS='|' read -r FLAT_R1_RES FLAT_R1_FIG <<<"$(flat 8)"; fi

mach_cpu="$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
[ -n "$mach_cpu" ] || mach_cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
label() { if [ "$1" = backup ]; then echo "backup → S3 (moto): run now, custom, $TASK_COMPRESSION (server default)"; else echo "restore from S3 into a new database, jobs ${1#restore_j}"; fi; }

report() {
  echo "## $DATE — service memory, ${SIZE_GB} GB $PROFILE ($PROFILE_NOTE, $RUNS run(s), median)"
  echo
  echo "Database \`$DB\` (profile $PROFILE, scale $SCALE) on PostgreSQL 17: pg_database_size $(mib "$DB_SIZE") MiB," \
    "plain dump about $EST_MIB MiB; pg_dump's custom archive $(mib "${M[backup,read]}") MiB, stored $(mib "${M[backup,stored]}") MiB." \
    "\`pgward serve\` (\`$PGW\`, $PROFILE_NOTE, $BUILD_NOTE) with its catalog on the same server and the worker in-process;" \
    "memory is the serve process's own (pg_dump and pg_restore are its children, not counted). Idle VmRSS before the first" \
    "backup $(kmib "$FIRST_IDLE") MiB, after the last job $(kmib "$LAST_IDLE") MiB; $SERVE_THREADS threads."
  echo
  echo "| | measurement | wall s (pgward) | idle RSS MiB | peak above idle MiB | sampled (0.1 s) | above first idle | target | result |"
  echo "|---|---|---:|---:|---:|---:|---:|---|---|"
  local n=0 id
  for id in "${IDS[@]}"; do
    n=$((n + 1))
    echo "| s$n | $(label "$id") | ${M[$id,wall]} (${M[$id,dur]}) | $(kmib "${M[$id,idle]}") | ${M[$id,above]} | ${M[$id,sampled]} | ${M[$id,first]} | ≤ 64 MiB | ${M[$id,res]} |"
  done
  echo "| f1 | backup: flat across sizes | | | | | | spread ≤ 8 MiB: $FLAT_B_FIG | $FLAT_B_RES |"
  echo "| f2 | restore jobs $JOBS: flat across sizes | | | | | | spread ≤ 8 MiB: $FLAT_R_FIG | $FLAT_R_RES |"
  if [ "$JOBS" != 1 ]; then
    echo "| f3 | restore jobs 1: flat across sizes | | | | | | spread ≤ 8 MiB: $FLAT_R1_FIG | $FLAT_R1_RES |"
  fi
  echo
  echo "Peak above idle: VmHWM of the serve process after the job (reset with \`echo 5 > /proc/PID/clear_refs\` just" \
    "before it) minus its VmRSS at that moment; \"sampled\": the largest VmRSS read every 0.1 s, minus the same idle" \
    "figure; \"above first idle\": VmHWM minus the VmRSS before the first backup. Wall time runs from the API call to the" \
    "poll (every 0.5 s) that saw the end; pgward's own duration_ms in brackets. Every restore is checked: same tables" \
    "and exact row counts as the source ($SRC_COUNTS)."
  echo
  echo "Per run (wall s / pgward s / stored or read bytes / idle, VmHWM, sampled, first idle kB):"
  echo
  echo '```'
  awk -F'\t' '{ printf "%-11s run %-3s %9s s (%s s)  %12s B  idle %s kB  hwm %s kB  sampled %s kB  first idle %s kB  read %s B\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 }' "$RES"
  echo '```'
  echo
  echo "Machine: $(nproc) CPUs, $mach_cpu; kernel $(uname -r); load average $LOAD_START at start, $LOAD_END at end."
  echo
  echo '```'
  free -h
  echo '```'
  echo
  echo "Versions: $("$PG_BIN/pg_dump" --version); $("$PGW" --version); moto $MOTO_VERSION."
  echo
  echo "Commands:"
  echo
  echo '```sh'
  echo "bench/generate.sh ${gen_args[*]}"
  echo "moto_server -H 127.0.0.1 -p $MOTO_PORT; curl -X PUT $MOTO/$BUCKET"
  echo "$PG_BIN/psql '$SERVER_URL/postgres' -c 'CREATE DATABASE $CATALOG_DB'"
  local e
  for e in "${SERVE_ENV[@]}"; do printf "%s='%s' %s\n" "${e%%=*}" "${e#*=}" "\\"; done
  echo "PGWARD_SECRETS__KEY=<random> $PGW serve"
  echo "# API ($BASE): POST /api/v1/auth/setup, /auth/login, /tokens; POST /databases {\"connection_string\": \"$URL\"};"
  echo "# POST /destinations {\"config\": {\"kind\": \"s3\", \"endpoint\": \"$MOTO\", \"bucket\": \"$BUCKET\", \"path_style\": true, \"allow_http\": true, ...}};"
  echo "# POST /tasks $TASK_JSON"
  echo "# per run: POST /tasks/{id}/run, GET /executions/{id} until success;"
  for j in "${RESTORE_JOBS[@]}"; do
    echo "#   POST /restorations {\"execution_id\": ..., \"target\": {\"kind\": \"new_database\", ...}, \"options\": {\"jobs\": $j}}, GET /restorations/{id} until success"
  done
  echo '```'
}

REPORT="$STATE/service-report-$(date -u +%Y%m%dT%H%M%SZ).md"
report | tee "$REPORT"
say "report saved to $REPORT"
if [ "$APPEND" = 1 ]; then
  { echo; cat "$REPORT"; } >>"$ROOT/bench/RESULTS.md"
  say "appended to bench/RESULTS.md"
fi
