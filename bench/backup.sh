#!/usr/bin/env bash
# bench/backup.sh: pgward dump against the usual ways of taking the same backup, side by side in one run.
#
#   bench/backup.sh --size-gb 1 --profile text [--runs 3] [--append-results]
#
# Options:
#   --size-gb GB        size of the generated database (plain-dump bytes; see bench/generate.sh)
#   --scale N           or the fixture scale directly
#   --profile P         text (default) or numeric
#   --runs N            repeat every measurement N times (interleaved) and report the median (default 1)
#   --archive-level L   zstd level of the "archive" preset (default 19)
#   --archive-workers W zstd workers of the "archive" preset (default 2)
#   --no-s3             skip the S3 (moto) measurement
#   --no-warmup         skip the untimed warm-up dump (by default the first dump fills the page cache)
#   --keep              keep the dump files (in $PGWARD_BENCH_DIR/out)
#   --append-results    append the report to bench/RESULTS.md
#
# Measures (see bench/README.md): a) pg_dump -Fc -Z0 | zstd -3 (baseline); b) pgward dump custom zstd:3 to
# a local dir; c) PgBackWeb's pipeline pg_dump -Fp | zip; d) pgward "archive" preset zstd:19; e) peak RSS of
# pgward streaming to S3 (a moto server started here). Prints a markdown report (also saved under
# $PGWARD_BENCH_DIR) with PASS/MISS per target, the machine and the exact commands.
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
OUT="$STATE/out"
# shellcheck disable=SC1091
[ -f "$CACHE/env.sh" ] && . "$CACHE/env.sh"
# Nothing from the caller's environment may change what the tools do.
# (RUST_BACKTRACE: anyhow would capture backtraces, and symbolizing one costs ~200 MB of RSS on failure.)
unset ZSTD_CLEVEL ZSTD_NBTHREADS ZIPOPT PGWARD_CONFIG RUST_LOG RUST_BACKTRACE RUST_LIB_BACKTRACE

SIZE_GB=""
SCALE=""
PROFILE=text
RUNS=1
ARCHIVE_LEVEL=19
ARCHIVE_WORKERS=2
DO_S3=1
WARMUP=1
KEEP=0
APPEND=0
while [ $# -gt 0 ]; do
  case "$1" in
  --size-gb) SIZE_GB="${2:?}"; shift 2 ;;
  --scale) SCALE="${2:?}"; shift 2 ;;
  --profile) PROFILE="${2:?}"; shift 2 ;;
  --runs) RUNS="${2:?}"; shift 2 ;;
  --archive-level) ARCHIVE_LEVEL="${2:?}"; shift 2 ;;
  --archive-workers) ARCHIVE_WORKERS="${2:?}"; shift 2 ;;
  --no-s3) DO_S3=0; shift ;;
  --no-warmup) WARMUP=0; shift ;;
  --keep) KEEP=1; shift ;;
  --append-results) APPEND=1; shift ;;
  -h | --help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "--runs must be a positive integer" >&2; exit 2; }
[ -n "$SIZE_GB$SCALE" ] || { echo "give --size-gb GB (or --scale N); see --help" >&2; exit 2; }

say() { echo "bench: $*" >&2; }
die() {
  echo "bench: error: $*" >&2
  exit 1
}

# --- tools -----------------------------------------------------------------------------------------------
need=()
command -v zstd >/dev/null || need+=(zstd)
command -v zip >/dev/null || need+=(zip)
{ [ -x /usr/bin/time ] && /usr/bin/time -v true >/dev/null 2>&1; } || need+=(time)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing ${need[*]}: install them (apt-get install -y ${need[*]})"
  say "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${need[@]}" >&2 || { apt-get update -q >&2 && apt-get install -y -q "${need[@]}" >&2; }
fi
command -v python3 >/dev/null || die "python3 is required"
GTIME=/usr/bin/time
[ -x "$PG_BIN/pg_dump" ] || die "no pg_dump 17 in $PG_BIN (run scripts/deps.sh)"
if [ "$DO_S3" = 1 ]; then
  command -v moto_server >/dev/null || die "moto_server not found (scripts/deps.sh installs it; or use --no-s3)"
fi

# --- pgward ----------------------------------------------------------------------------------------------
BUILD_NOTE=""
if [ -n "${PGWARD_BIN:-}" ]; then
  PGW="$PGWARD_BIN"
  BUILD_NOTE="PGWARD_BIN"
else
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pgward/target}"
  PGW="$CARGO_TARGET_DIR/release/pgward"
  if command -v cargo >/dev/null; then
    # A no-op when the binary is up to date; rebuilds it when the sources changed since.
    say "cargo build --release -p pgward-server --bin pgward"
    (cd "$ROOT" && SQLX_OFFLINE=true cargo build --release -p pgward-server --bin pgward >&2)
    BUILD_NOTE="release build"
  elif [ -x "$PGW" ]; then
    say "warning: cargo not found, using the existing $PGW (it may not match the sources)"
    BUILD_NOTE="existing release build, not rebuilt"
  else
    die "no pgward release binary and no cargo; set PGWARD_BIN"
  fi
fi
[ -x "$PGW" ] || die "pgward binary $PGW missing"
case "$PGW" in
*/debug/*) PROFILE_NOTE="DEBUG build" ;;
*/release/*) PROFILE_NOTE="release build" ;;
*) PROFILE_NOTE="build profile unknown" ;;
esac
export PGWARD_POSTGRES__BIN_DIRS="[\"$PG_ROOT\"]"
dump_help="$("$PGW" dump --help)" || die "$PGW dump --help failed"
if grep -q 'default: custom' <<<"$dump_help" && grep -q 'default: zstd:3' <<<"$dump_help"; then
  DEFAULTS_ARE_B=1
else
  DEFAULTS_ARE_B=0
fi

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

# --- scratch space and clean-up --------------------------------------------------------------------------
MOTO_PID=""
JOB_PID=""
cleanup() {
  local rc=$?
  if [ -n "$JOB_PID" ]; then killtree "$JOB_PID"; fi
  if [ -n "$MOTO_PID" ]; then
    kill "$MOTO_PID" 2>/dev/null || true
    wait "$MOTO_PID" 2>/dev/null || true
  fi
  if [ "$KEEP" = 0 ]; then rm -rf "$OUT"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
rm -rf "$OUT"
mkdir -p "$OUT/files" "$OUT/logs"
RES="$OUT/results.tsv" # id run wall_s stored_bytes rss_kb hwm_kb dump_bytes
: >"$RES"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
now_ns() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
maxrss() { sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$1"; }
json() { python3 -c 'import json, sys; d = json.loads(sys.stdin.read().strip().splitlines()[-1]); print(*(d[k] for k in sys.argv[1:]))' "$@"; }

# Kills a process and everything below it (used only on the processes this script started).
killtree() {
  local c
  # shellcheck disable=SC2013 # the children files hold space-separated pids
  for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
    killtree "$c"
  done
  kill "$1" 2>/dev/null || true
}

# Runs a shell pipeline under GNU time -v and leaves "wall_s rss_kb" in logs/$tag.m (rss: the largest
# process of the pipeline).
run_pipeline() {
  local tag="$1" cmd="$2" t0 t1 rc=0
  t0=$(now_ns)
  "$GTIME" -v -o "$OUT/logs/$tag.time" bash -o pipefail -c "$cmd" 2>"$OUT/logs/$tag.err" &
  JOB_PID=$!
  wait "$JOB_PID" || rc=$?
  t1=$(now_ns)
  JOB_PID=""
  [ "$rc" = 0 ] || die "$tag failed (exit $rc): $(tail -5 "$OUT/logs/$tag.err")"
  echo "$(secs "$t0" "$t1") $(maxrss "$OUT/logs/$tag.time")" >"$OUT/logs/$tag.m"
}

# Runs pgward dump under GNU time -v while sampling the pgward process's own VmHWM every 0.1 s; leaves
# "wall_s rss_kb hwm_kb" in logs/$tag.m and pgward's JSON line in logs/$tag.json.
run_pgward() {
  local tag="$1" t0 t1 pid="" hwm=0 k v rest rc=0
  shift
  t0=$(now_ns)
  "$GTIME" -v -o "$OUT/logs/$tag.time" "$PGW" dump "$@" >"$OUT/logs/$tag.json" 2>"$OUT/logs/$tag.err" &
  JOB_PID=$!
  while kill -0 "$JOB_PID" 2>/dev/null; do
    [ -n "$pid" ] || pid="$(cat /proc/"$JOB_PID"/task/*/children 2>/dev/null | awk '{ print $1; exit }')"
    if [ -n "$pid" ] && [ -r "/proc/$pid/status" ]; then
      while read -r k v rest; do
        if [ "$k" = "VmHWM:" ]; then
          [ "$v" -gt "$hwm" ] && hwm=$v
          break
        fi
      done <"/proc/$pid/status" 2>/dev/null || true
    fi
    sleep 0.1
  done
  wait "$JOB_PID" || rc=$?
  t1=$(now_ns)
  JOB_PID=""
  [ "$rc" = 0 ] || die "$tag: pgward dump failed (exit $rc): $(tail -5 "$OUT/logs/$tag.err")"
  echo "$(secs "$t0" "$t1") $(maxrss "$OUT/logs/$tag.time") $hwm" >"$OUT/logs/$tag.m"
}

record() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RES"; }

# --- commands --------------------------------------------------------------------------------------------
F="$OUT/files"
CMD_A="$PG_BIN/pg_dump -Fc -Z0 '$URL' | zstd -3 -q -c > $F/a.dump.zst"
CMD_ASYNC="sync $F/a.dump.zst"
CMD_C="$PG_BIN/pg_dump -Fp '$URL' | zip -q $F/c.zip -"
B_ARGS=(--connection "$URL" --format custom --compression zstd:3 --to "file://$F/b")
B2_ARGS=(--connection "$URL" --format plain --compression zstd:3 --to "file://$F/b2")
D_ARGS=(--connection "$URL" --format custom --compression "zstd:$ARCHIVE_LEVEL" --zstd-workers "$ARCHIVE_WORKERS" --to "file://$F/d")
E_ARGS=(--connection "$URL" --to "s3://pgward-bench/runs" --s3-endpoint "http://127.0.0.1:PORT")
C2_ARGS=(--connection "$URL" --to "file://$F/c2")
show() { printf '%q ' "$@" | sed 's/ $//'; echo; }

# --- S3 emulator -----------------------------------------------------------------------------------------
if [ "$DO_S3" = 1 ]; then
  MOTO_PORT="$(free_port)"
  say "starting moto_server on 127.0.0.1:$MOTO_PORT"
  moto_server -H 127.0.0.1 -p "$MOTO_PORT" >"$OUT/logs/moto.log" 2>&1 &
  MOTO_PID=$!
  for _ in $(seq 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$MOTO_PORT/" && break
    kill -0 "$MOTO_PID" 2>/dev/null || die "moto_server exited: $(tail -5 "$OUT/logs/moto.log")"
    sleep 0.2
  done
  curl -sf -o /dev/null -X PUT "http://127.0.0.1:$MOTO_PORT/pgward-bench" || die "could not create the bucket"
  export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
  E_ARGS=(--connection "$URL" --to "s3://pgward-bench/runs" --s3-endpoint "http://127.0.0.1:$MOTO_PORT")
fi

LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$WARMUP" = 1 ]; then
  say "warm-up: untimed pg_dump -Fc -Z0 > /dev/null"
  "$PG_BIN/pg_dump" -Fc -Z0 "$URL" >/dev/null
fi

for run in $(seq "$RUNS"); do
  say "run $run/$RUNS: a) pg_dump -Fc -Z0 | zstd -3"
  run_pipeline "a$run" "$CMD_A"
  read -r w rss <"$OUT/logs/a$run.m"
  t0=$(now_ns)
  sync "$F/a.dump.zst"
  ws=$(secs "$t0" "$(now_ns)")
  record a "$run" "$w" "$(stat -c %s "$F/a.dump.zst")" "$rss" - -
  record async "$run" "$ws" - - - -
  rm -f "$F/a.dump.zst"

  say "run $run/$RUNS: b) pgward dump custom zstd:3 -> local"
  run_pgward "b$run" "${B_ARGS[@]}" --name "b$run.dump.zst"
  read -r w rss hwm <"$OUT/logs/b$run.m"
  read -r stored dumped sha < <(json stored_bytes dump_bytes sha256 <"$OUT/logs/b$run.json")
  f="$F/b/b$run.dump.zst"
  [ "$(stat -c %s "$f")" = "$stored" ] || die "b: file size differs from stored_bytes"
  if [ "$run" = 1 ]; then
    say "   checking b: sha256, zstd -t, pg_restore -l"
    [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$sha" ] || die "b: sha256 mismatch"
    zstd -tq "$f" || die "b: not a valid zstd stream"
    # pg_restore -l stops after the table of contents, so zstd may die of SIGPIPE: only pg_restore counts.
    (set +o pipefail; zstd -dcq "$f" 2>/dev/null | "$PG_BIN/pg_restore" -l >/dev/null) || die "b: not a readable custom archive"
  fi
  record b "$run" "$w" "$stored" "$rss" "$hwm" "$dumped"
  rm -f "$f"

  say "run $run/$RUNS: b2) pgward dump plain zstd:3 -> local (informational)"
  run_pgward "b2_$run" "${B2_ARGS[@]}" --name "b2_$run.sql.zst"
  read -r w rss hwm <"$OUT/logs/b2_$run.m"
  read -r stored dumped < <(json stored_bytes dump_bytes <"$OUT/logs/b2_$run.json")
  record b2 "$run" "$w" "$stored" "$rss" "$hwm" "$dumped"
  rm -f "$F/b2/b2_$run.sql.zst"

  say "run $run/$RUNS: c) PgBackWeb: pg_dump -Fp | zip"
  run_pipeline "c$run" "$CMD_C"
  read -r w rss <"$OUT/logs/c$run.m"
  record c "$run" "$w" "$(stat -c %s "$F/c.zip")" "$rss" - -
  rm -f "$F/c.zip"

  if [ "$DEFAULTS_ARE_B" = 0 ]; then
    say "run $run/$RUNS: c2) pgward dump with its defaults -> local"
    run_pgward "c2_$run" "${C2_ARGS[@]}" --name "c2_$run.out"
    read -r w rss hwm <"$OUT/logs/c2_$run.m"
    read -r stored dumped < <(json stored_bytes dump_bytes <"$OUT/logs/c2_$run.json")
    record c2 "$run" "$w" "$stored" "$rss" "$hwm" "$dumped"
    rm -f "$F/c2/c2_$run.out"
  fi

  say "run $run/$RUNS: d) pgward archive preset zstd:$ARCHIVE_LEVEL, $ARCHIVE_WORKERS workers"
  run_pgward "d$run" "${D_ARGS[@]}" --name "d$run.dump.zst"
  read -r w rss hwm <"$OUT/logs/d$run.m"
  read -r stored dumped < <(json stored_bytes dump_bytes <"$OUT/logs/d$run.json")
  record d "$run" "$w" "$stored" "$rss" "$hwm" "$dumped"
  rm -f "$F/d/d$run.dump.zst"

  if [ "$DO_S3" = 1 ]; then
    say "run $run/$RUNS: e) pgward dump -> S3 (moto), peak RSS"
    run_pgward "e$run" "${E_ARGS[@]}" --name "e$run.dump.zst"
    read -r w rss hwm <"$OUT/logs/e$run.m"
    read -r stored dumped < <(json stored_bytes dump_bytes <"$OUT/logs/e$run.json")
    obj="http://127.0.0.1:$MOTO_PORT/pgward-bench/runs/e$run.dump.zst"
    len="$(curl -sfI "$obj" | tr -d '\r' | sed -n 's/^[Cc]ontent-[Ll]ength: //p')"
    [ "$len" = "$stored" ] || die "e: object size ${len:-missing} differs from stored_bytes $stored"
    curl -sf -o /dev/null -X DELETE "$obj" || true
    record e "$run" "$w" "$stored" "$rss" "$hwm" "$dumped"
  fi
done
LOAD_END="$(cut -d' ' -f1-3 /proc/loadavg)"

# --- report ----------------------------------------------------------------------------------------------
# median ID COLUMN (3 wall, 4 stored, 5 rss, 6 hwm, 7 dump); "-" when there is no figure.
median() {
  awk -F'\t' -v id="$1" -v c="$2" '$1 == id && $c != "-" && $c != "" { print $c }' "$RES" | sort -g |
    awk '{ a[NR] = $1 } END { if (NR == 0) { print "-"; exit } if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
mib() { if [ "$1" = - ]; then echo -; else calc "%.1f" "$1 / 1048576"; fi; }
kmib() { if [ "$1" = - ]; then echo -; else calc "%.1f" "$1 / 1024"; fi; }
verdict() { if awk "BEGIN { exit !($1) }"; then echo PASS; else echo MISS; fi; }

declare -A M # M[id,column] = median
for id in a async b b2 c c2 d e; do
  for col in 3 4 5 6 7; do
    M[$id,$col]="$(median "$id" "$col")"
  done
done
# pgward with its default settings, for c: row b when the defaults are custom + zstd:3.
if [ "$DEFAULTS_ARE_B" = 1 ]; then DEF=b; else DEF=c2; fi
v() { echo "${M[$1,$2]}"; }

ratio_b=$(calc "%.3f" "${M[b,3]} / ${M[a,3]}")
ratio_bs=$(calc "%.3f" "${M[b,3]} / (${M[a,3]} + ${M[async,3]})")
speed_c=$(calc "%.2f" "${M[c,3]} / $(v $DEF 3)")
size_c=$(calc "%.3f" "$(v $DEF 4) / ${M[c,4]}")
gain_d=$(calc "%.1f" "(1 - ${M[d,4]} / ${M[c,4]}) * 100")
res_b=$(verdict "$ratio_b <= 1.05")
res_c=$(verdict "$speed_c >= 3 && $size_c <= 1")
res_d=$(verdict "$gain_d >= 10")

DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
HIST="$STATE/rss-history.tsv"
BIN_ID="$PGW@$(stat -c '%s-%Y' "$PGW")"
if [ "$DO_S3" = 1 ]; then
  rss_e=$(kmib "${M[e,5]}")
  hwm_e=$(kmib "${M[e,6]}")
  res_e=$(verdict "$rss_e <= 64")
  # One line per profile, scale and binary (path, size, mtime): flatness compares the sizes measured with
  # the same binary and profile (e.g. a run with --size-gb 1, then one with --size-gb 4).
  awk -F'\t' -v b="$BIN_ID" -v p="$PROFILE" -v s="$SCALE" '!($2 == b && $3 == p && $4 == s)' "$HIST" 2>/dev/null >"$HIST.new" || true
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$DATE" "$BIN_ID" "$PROFILE" "$SCALE" "$(mib "${M[e,7]}")" "$rss_e" "$hwm_e" >>"$HIST.new"
  mv "$HIST.new" "$HIST"
  # Small validation runs (< 512 MiB dumped) do not reach the steady state: leave them out of the
  # comparison when this run is large enough.
  cur_dump="$(mib "${M[e,7]}")"
  flat_rows="$(awk -F'\t' -v b="$BIN_ID" -v p="$PROFILE" -v c="$cur_dump" '$2 == b && $3 == p && (c < 512 || $5 >= 512)' "$HIST" |
    sort -t$'\t' -k5,5g)"
  flat_n="$(grep -c . <<<"$flat_rows" || true)"
  flat_desc="$(awk -F'\t' '{ printf "%s%s s%s (%.0f MiB dump): %s MiB", (NR > 1 ? "; " : ""), $3, $4, $5, $6 }' <<<"$flat_rows")"
  if [ "$flat_n" -ge 2 ]; then
    spread=$(awk -F'\t' 'NR == 1 { lo = hi = $6 } { if ($6 < lo) lo = $6; if ($6 > hi) hi = $6 } END { printf "%.1f", hi - lo }' <<<"$flat_rows")
    res_flat=$(verdict "$spread <= 8")
    flat_fig="spread $spread MiB over $flat_n sizes ($flat_desc)"
  else
    res_flat="n/a"
    flat_fig="only this size measured with this binary and profile so far ($flat_desc); run the other size too"
  fi
fi

mach_cpu="$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
[ -n "$mach_cpu" ] || mach_cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"

report() {
  echo "## $DATE — ${SIZE_GB} GB $PROFILE ($PROFILE_NOTE, $RUNS run(s), median)"
  echo
  echo "Database \`$DB\` (profile $PROFILE, scale $SCALE) on PostgreSQL 17: pg_database_size $(mib "$DB_SIZE") MiB," \
    "plain dump $(mib "${M[b2,7]}") MiB, custom-format stream $(mib "${M[b,7]}") MiB. pgward: \`$PGW\` ($PROFILE_NOTE, $BUILD_NOTE)."
  [ "$WARMUP" = 1 ] && echo "One untimed warm-up dump ran first, so every measurement reads a warm page cache."
  echo
  echo "| | measurement | wall s | stored MiB | peak RSS MiB | figure | target | result |"
  echo "|---|---|---:|---:|---:|---|---|---|"
  echo "| a | baseline \`pg_dump -Fc -Z0 \| zstd -3\` | ${M[a,3]} | $(mib "${M[a,4]}") | $(kmib "${M[a,5]}") | + fsync of the file: ${M[async,3]} s | | |"
  echo "| b | pgward custom, zstd:3 → local dir | ${M[b,3]} | $(mib "${M[b,4]}") | $(kmib "${M[b,5]}") | pgward/baseline = $ratio_b (vs baseline + fsync: $ratio_bs) | ≤ 1.05 | $res_b |"
  echo "| b2 | pgward plain, zstd:3 → local dir (info: same SQL stream as c) | ${M[b2,3]} | $(mib "${M[b2,4]}") | $(kmib "${M[b2,5]}") | | | |"
  echo "| c | PgBackWeb pipeline \`pg_dump -Fp \| zip\` (deflate) | ${M[c,3]} | $(mib "${M[c,4]}") | $(kmib "${M[c,5]}") | zip/pgward-default time = ${speed_c}×, size pgward-default/zip = $size_c | ≥ 3× faster, size ≤ 1 | $res_c |"
  if [ "$DEF" = c2 ]; then
    echo "| c2 | pgward with its default settings → local dir | ${M[c2,3]} | $(mib "${M[c2,4]}") | $(kmib "${M[c2,5]}") | | | |"
  fi
  echo "| d | pgward archive: custom, zstd:$ARCHIVE_LEVEL, $ARCHIVE_WORKERS workers → local dir | ${M[d,3]} | $(mib "${M[d,4]}") | $(kmib "${M[d,5]}") | ${gain_d}% smaller than the zip | ≥ 10% | $res_d |"
  if [ "$DO_S3" = 1 ]; then
    echo "| e | pgward defaults → S3 (moto), 8 MiB parts | ${M[e,3]} | $(mib "${M[e,4]}") | $rss_e (pgward alone: $hwm_e) | peak RSS | ≤ 64 MiB | $res_e |"
    echo "| e′ | S3 peak RSS flat across sizes | | | | $flat_fig | spread ≤ 8 MiB | $res_flat |"
  fi
  echo
  echo "pgward default settings (row c) = $( [ "$DEF" = b ] && echo "row b (custom, zstd:3, default zstd workers)" || echo "row c2")." \
    "Peak RSS is GNU time's \"Maximum resident set size\", which for pgward is the larger of pgward and its pg_dump child" \
    "and for a pipeline the largest process in it; \"pgward alone\" is pgward's own VmHWM sampled every 0.1 s."
  echo
  echo "Per run (wall s / stored bytes / RSS kB):"
  echo
  echo '```'
  awk -F'\t' '{ printf "%-6s run %-3s %9s s  %12s B  %8s kB  (pgward VmHWM %s kB, dump %s B)\n", $1, $2, $3, $4, $5, $6, $7 }' "$RES"
  echo '```'
  echo
  echo "Machine: $(nproc) CPUs, $mach_cpu; kernel $(uname -r); load average $LOAD_START at start, $LOAD_END at end."
  echo
  echo '```'
  free -h
  echo '```'
  echo
  echo "Versions: $("$PG_BIN/pg_dump" --version); $(zstd --version | sed -n '1s/^[* ]*\(Zstandard CLI\)[^v]*\(v[0-9.]*\).*/zstd \2/p');" \
    "$(zip -v | sed -n '2s/^This is \(Zip [0-9.]*\).*/\1 (Info-ZIP)/p'); $("$PGW" --version)."
  echo
  echo "Commands (file names as in run 1):"
  echo
  echo '```sh'
  echo "bench/generate.sh ${gen_args[*]}"
  [ "$WARMUP" = 1 ] && echo "$PG_BIN/pg_dump -Fc -Z0 '$URL' > /dev/null   # warm-up, untimed"
  echo "export PGWARD_POSTGRES__BIN_DIRS='$PGWARD_POSTGRES__BIN_DIRS'"
  echo "# a"
  echo "$CMD_A; $CMD_ASYNC"
  echo "# b"
  show "$PGW" dump "${B_ARGS[@]}" --name b1.dump.zst
  echo "# b2"
  show "$PGW" dump "${B2_ARGS[@]}" --name b2_1.sql.zst
  echo "# c"
  echo "$CMD_C"
  [ "$DEF" = c2 ] && show "$PGW" dump "${C2_ARGS[@]}" --name c2_1.out
  echo "# d"
  show "$PGW" dump "${D_ARGS[@]}" --name d1.dump.zst
  if [ "$DO_S3" = 1 ]; then
    echo "# e (moto_server -H 127.0.0.1 -p $MOTO_PORT; curl -X PUT http://127.0.0.1:$MOTO_PORT/pgward-bench)"
    echo "AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 \\"
    echo "  /usr/bin/time -v $(show "$PGW" dump "${E_ARGS[@]}" --name e1.dump.zst)"
  fi
  echo '```'
}

REPORT="$STATE/report-$(date -u +%Y%m%dT%H%M%SZ).md"
report | tee "$REPORT"
say "report saved to $REPORT"
if [ "$APPEND" = 1 ]; then
  { echo; cat "$REPORT"; } >>"$ROOT/bench/RESULTS.md"
  say "appended to bench/RESULTS.md"
fi
