#!/usr/bin/env bash
# bench/backup.sh: pgward dump against the usual ways of taking the same backup, side by side in one run.
#
#   bench/backup.sh --size-gb 1 --profile mixed [--runs 3] [--append-results]
#
# Options:
#   --size-gb GB        size of the generated database (plain-dump bytes; see bench/generate.sh)
#   --scale N           or the fixture scale directly
#   --profile P         text (default), numeric or mixed
#   --runs N            repeat every measurement N times (interleaved) and report the median (default 3)
#   --archive-level L   zstd level of the "archive" preset (default 12)
#   --no-s3             skip the S3 (moto) measurement
#   --no-warmup         skip the untimed warm-up dump (by default the first dump fills the page cache)
#   --keep              keep the dump files (in $PGWARD_BENCH_DIR/out)
#   --append-results    append the report to bench/RESULTS.md
#
# Measures (see bench/README.md): a) pg_dump -Fc -Z0 | zstd -3 (baseline); b) pgward dump with its default
# compression (custom format: zstd inside the archive) to a local dir; b2) the same, plain format (info);
# c) PgBackWeb's pipeline pg_dump -Fp | zip; f) Databasus's pg_dump -Fc -Z zstd:5 -f file; g) pg_dump -Fc
# -f file (pg_dump's own gzip, the usual cron script); h) pg_dump -Fc -Z zstd:3 -f file; i) pgward directory
# format, --jobs 2; d) pgward "archive" preset zstd:12; e) peak RSS of pgward streaming to S3 (a moto
# server started here). Prints a markdown report (also saved under $PGWARD_BENCH_DIR) with PASS/MISS per
# target, the machine and the exact commands.
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
RUNS=3
ARCHIVE_LEVEL=12
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
  --no-s3) DO_S3=0; shift ;;
  --no-warmup) WARMUP=0; shift ;;
  --keep) KEEP=1; shift ;;
  --append-results) APPEND=1; shift ;;
  -h | --help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
find_pgward
# pgward finds the clients in $PG_ROOT/<major>/bin by itself; say so anyway, for a non-default PG_ROOT.
export PGWARD_POSTGRES__BIN_DIRS="[\"$PG_ROOT\"]"
"$PGW" dump --help >/dev/null || die "$PGW dump --help failed"

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

# The pg_restore for an archive written by pg_dump VERSION: the same major in $PG_ROOT, else the oldest newer
# one installed (pg_restore reads archives of its own and older versions only).
pick_pg_restore() {
  local want="${1%%.*}" m
  for m in $(cd "$PG_ROOT" && printf '%s\n' [0-9]* | sort -n); do
    if [ "$m" -ge "$want" ] && [ -x "$PG_ROOT/$m/bin/pg_restore" ]; then
      echo "$PG_ROOT/$m/bin/pg_restore"
      return
    fi
  done
  die "no pg_restore $want or newer in $PG_ROOT"
}

# After run_pgward TAG to the local directory DIR: reads pgward's JSON line into OBJ (the stored file, named
# by pgward), MAN (its manifest), STORED, DUMPED, SHA and PGD (pg_dump version), and checks the file's size.
pgward_local() {
  local tag="$1" dir="$2" o m
  read -r o m STORED DUMPED SHA PGD < <(json object manifest stored_bytes dump_bytes sha256 pg_dump <"$OUT/logs/$tag.json")
  OBJ="$dir/${o##*/}"
  MAN="$dir/${m##*/}"
  [ -f "$OBJ" ] || die "$tag: pgward reported object $o, not found in $dir"
  [ "$(stat -c %s "$OBJ")" = "$STORED" ] || die "$tag: file size differs from stored_bytes"
}
# A file's sha256 against pgward's report.
check_sha() { [ "$(sha256sum "$2" | cut -d' ' -f1)" = "$3" ] || die "$1: sha256 mismatch"; }
# "custom, zstd:5, compressed in archive" from a manifest.
describe_manifest() {
  python3 -c 'import json, sys
m = json.load(open(sys.argv[1]))
c = m.get("compression") or {}
alg = c.get("algorithm", "?")
lvl = c.get("level")
print("%s, %s%s, compressed in %s, pg_dump %s" % (m.get("format"), alg, "" if lvl is None else ":%s" % lvl,
      m.get("compressed_in", "?"), m.get("pg_dump_version")))' "$1"
}

# --- commands --------------------------------------------------------------------------------------------
F="$OUT/files"
CMD_A="$PG_BIN/pg_dump -Fc -Z0 '$URL' | zstd -3 -q -c > $F/a.dump.zst"
CMD_ASYNC="sync $F/a.dump.zst"
CMD_C="$PG_BIN/pg_dump -Fp '$URL' | zip -q $F/c.zip -"
CMD_F="$PG_BIN/pg_dump -Fc -Z zstd:5 -f $F/f.dump '$URL'"
CMD_FSYNC="sync $F/f.dump"
CMD_G="$PG_BIN/pg_dump -Fc -f $F/g.dump '$URL'"
CMD_H="$PG_BIN/pg_dump -Fc -Z zstd:3 -f $F/h.dump '$URL'"
B_ARGS=(--connection "$URL" --format custom --to "file://$F/b")
B2_ARGS=(--connection "$URL" --format plain --to "file://$F/b2")
I_ARGS=(--connection "$URL" --format directory --jobs 2 --to "file://$F/i")
D_ARGS=(--connection "$URL" --format custom --compression "zstd:$ARCHIVE_LEVEL" --to "file://$F/d")
E_ARGS=(--connection "$URL" --to "s3://pgward-bench/runs" --s3-endpoint "http://127.0.0.1:PORT")
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

# Runs pipeline ID (the command in CMD) whose output is FILE, times the sync of FILE as row SYNC_ID, records
# both and removes the file.
pipeline_row() {
  local id="$1" run="$2" cmd="$3" file="$4" sync_id="${5:-}" w rss t0
  run_pipeline "$id$run" "$cmd"
  read -r w rss <"$OUT/logs/$id$run.m"
  if [ -n "$sync_id" ]; then
    t0=$(now_ns)
    sync "$file"
    record "$sync_id" "$run" "$(secs "$t0" "$(now_ns)")" - - - -
  fi
  record "$id" "$run" "$w" "$(stat -c %s "$file")" "$rss" - -
  rm -f "$file"
}

B_DEFAULTS=""
for run in $(seq "$RUNS"); do
  say "run $run/$RUNS: a) pg_dump -Fc -Z0 | zstd -3"
  pipeline_row a "$run" "$CMD_A" "$F/a.dump.zst" async

  say "run $run/$RUNS: b) pgward dump, custom format, default compression -> local"
  run_pgward "b$run" "${B_ARGS[@]}" --name "b$run"
  read -r w rss hwm <"$OUT/logs/b$run.m"
  pgward_local "b$run" "$F/b"
  if [ "$run" = 1 ]; then
    B_DEFAULTS="$(describe_manifest "$MAN")"
    B_OBJ="${OBJ##*/}"
    B_PGR="$(pick_pg_restore "$PGD")"
    say "   b stored $B_OBJ ($B_DEFAULTS); checking sha256, pg_restore -l ($B_PGR)"
    check_sha b "$OBJ" "$SHA"
    case "$OBJ" in
    *.zst)
      # pgward compressed around the stream. pg_restore -l stops after the table of contents, so zstd may die
      # of SIGPIPE: only pg_restore counts.
      zstd -tq "$OBJ" || die "b: not a valid zstd stream"
      (set +o pipefail; zstd -dcq "$OBJ" 2>/dev/null | "$B_PGR" -l >/dev/null) || die "b: not a readable custom archive"
      ;;
    *) "$B_PGR" -l "$OBJ" >/dev/null || die "b: not a readable custom archive ($B_PGR -l)" ;;
    esac
  fi
  record b "$run" "$w" "$STORED" "$rss" "$hwm" "$DUMPED"
  rm -f "$OBJ" "$MAN"

  say "run $run/$RUNS: f) Databasus: pg_dump -Fc -Z zstd:5 -f file"
  pipeline_row f "$run" "$CMD_F" "$F/f.dump" fsync

  say "run $run/$RUNS: g) pg_dump -Fc -f file (pg_dump's default gzip)"
  pipeline_row g "$run" "$CMD_G" "$F/g.dump"

  say "run $run/$RUNS: h) pg_dump -Fc -Z zstd:3 -f file"
  pipeline_row h "$run" "$CMD_H" "$F/h.dump"

  say "run $run/$RUNS: i) pgward dump, directory format, --jobs 2 -> local"
  run_pgward "i$run" "${I_ARGS[@]}" --name "i$run"
  read -r w rss hwm <"$OUT/logs/i$run.m"
  pgward_local "i$run" "$F/i"
  if [ "$run" = 1 ]; then
    say "   checking i: sha256, tar -t (${OBJ##*/})"
    check_sha i "$OBJ" "$SHA"
    case "$OBJ" in
    *.tar) tar -tf "$OBJ" | grep -q 'toc\.dat$' || die "i: no toc.dat in the tar" ;;
    *) say "   i: stored as ${OBJ##*/} (compressed around the tar), tar not checked" ;;
    esac
  fi
  record i "$run" "$w" "$STORED" "$rss" "$hwm" "$DUMPED"
  rm -f "$OBJ" "$MAN"

  say "run $run/$RUNS: b2) pgward dump, plain format, default compression -> local (informational)"
  run_pgward "b2_$run" "${B2_ARGS[@]}" --name "b2_$run"
  read -r w rss hwm <"$OUT/logs/b2_$run.m"
  pgward_local "b2_$run" "$F/b2"
  record b2 "$run" "$w" "$STORED" "$rss" "$hwm" "$DUMPED"
  rm -f "$OBJ" "$MAN"

  say "run $run/$RUNS: c) PgBackWeb: pg_dump -Fp | zip"
  pipeline_row c "$run" "$CMD_C" "$F/c.zip"

  say "run $run/$RUNS: d) pgward archive preset zstd:$ARCHIVE_LEVEL"
  run_pgward "d$run" "${D_ARGS[@]}" --name "d$run"
  read -r w rss hwm <"$OUT/logs/d$run.m"
  pgward_local "d$run" "$F/d"
  record d "$run" "$w" "$STORED" "$rss" "$hwm" "$DUMPED"
  rm -f "$OBJ" "$MAN"

  if [ "$DO_S3" = 1 ]; then
    say "run $run/$RUNS: e) pgward dump -> S3 (moto), peak RSS"
    run_pgward "e$run" "${E_ARGS[@]}" --name "e$run"
    read -r w rss hwm <"$OUT/logs/e$run.m"
    read -r o m stored dumped < <(json object manifest stored_bytes dump_bytes <"$OUT/logs/e$run.json")
    # "object" is the key (with the prefix), the manifest's name lies beside it.
    obj="http://127.0.0.1:$MOTO_PORT/pgward-bench/runs/${o##*/}"
    len="$(curl -sfI "$obj" | tr -d '\r' | sed -n 's/^[Cc]ontent-[Ll]ength: //p')" || true
    [ "$len" = "$stored" ] || die "e: object runs/${o##*/}: size ${len:-missing} differs from stored_bytes $stored"
    curl -sf -o /dev/null -X DELETE "$obj" || true
    curl -sf -o /dev/null -X DELETE "http://127.0.0.1:$MOTO_PORT/pgward-bench/runs/${m##*/}" || true
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
for id in a async b b2 c d e f fsync g h i; do
  for col in 3 4 5 6 7; do
    M[$id,$col]="$(median "$id" "$col")"
  done
done

# b against Databasus (f): no larger, no slower than 5%.
size_bf=$(calc "%.3f" "${M[b,4]} / ${M[f,4]}")
wall_bf=$(calc "%.3f" "${M[b,3]} / ${M[f,3]}")
wall_bfs=$(calc "%.3f" "${M[b,3]} / (${M[f,3]} + ${M[fsync,3]})")
res_bf_size=$(verdict "${M[b,4]} <= ${M[f,4]}")
res_bf_wall=$(verdict "$wall_bf <= 1.05")
# b against the baseline (a): information since b compresses inside the archive at zstd:5.
ratio_ba=$(calc "%.3f" "${M[b,3]} / ${M[a,3]}")
ratio_bas=$(calc "%.3f" "${M[b,3]} / (${M[a,3]} + ${M[async,3]})")
size_ba=$(calc "%.3f" "${M[b,4]} / ${M[a,4]}")
# b against PgBackWeb (c): ≥ 3× faster and smaller.
speed_c=$(calc "%.2f" "${M[c,3]} / ${M[b,3]}")
size_c=$(calc "%.3f" "${M[b,4]} / ${M[c,4]}")
res_c=$(verdict "$speed_c >= 3 && ${M[b,4]} < ${M[c,4]}")
# g, h, i against b: information.
rel_b() { calc "%.3f" "${M[$1,$2]} / ${M[b,$2]}"; }
gain_d=$(calc "%.1f" "(1 - ${M[d,4]} / ${M[c,4]}) * 100")
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
    "plain dump $(mib "${M[b2,7]}") MiB. pgward: \`$PGW\` ($PROFILE_NOTE, $BUILD_NOTE)."
  echo "pgward's defaults (row b, from its manifest): $B_DEFAULTS; stored as \`$B_OBJ\`."
  [ "$WARMUP" = 1 ] && echo "One untimed warm-up dump ran first, so every measurement reads a warm page cache."
  echo
  echo "| | measurement | wall s | stored MiB | peak RSS MiB | figure | target | result |"
  echo "|---|---|---:|---:|---:|---|---|---|"
  echo "| a | baseline \`pg_dump -Fc -Z0 \| zstd -3\` | ${M[a,3]} | $(mib "${M[a,4]}") | $(kmib "${M[a,5]}") | + fsync of the file: ${M[async,3]} s; pgward/baseline time = $ratio_ba (vs baseline + fsync: $ratio_bas), size = $size_ba | | |"
  echo "| b | pgward defaults, custom → local dir | ${M[b,3]} | $(mib "${M[b,4]}") | $(kmib "${M[b,5]}") | size pgward/Databasus = $size_bf | ≤ 1 (no larger than f) | $res_bf_size |"
  echo "| b′ | pgward defaults against Databasus, wall time | | | | pgward/Databasus = $wall_bf (vs Databasus + fsync: $wall_bfs) | ≤ 1.05 | $res_bf_wall |"
  echo "| b2 | pgward plain, default compression → local dir (info: same SQL stream as c) | ${M[b2,3]} | $(mib "${M[b2,4]}") | $(kmib "${M[b2,5]}") | | | |"
  echo "| c | PgBackWeb pipeline \`pg_dump -Fp \| zip\` (deflate) | ${M[c,3]} | $(mib "${M[c,4]}") | $(kmib "${M[c,5]}") | zip/pgward time = ${speed_c}×, size pgward/zip = $size_c | ≥ 3× faster, smaller | $res_c |"
  echo "| f | Databasus \`pg_dump -Fc -Z zstd:5 -f file\` | ${M[f,3]} | $(mib "${M[f,4]}") | $(kmib "${M[f,5]}") | + fsync of the file: ${M[fsync,3]} s | | |"
  echo "| g | cron script \`pg_dump -Fc -f file\` (gzip) | ${M[g,3]} | $(mib "${M[g,4]}") | $(kmib "${M[g,5]}") | time/b = $(rel_b g 3), size/b = $(rel_b g 4) | | |"
  echo "| h | \`pg_dump -Fc -Z zstd:3 -f file\` | ${M[h,3]} | $(mib "${M[h,4]}") | $(kmib "${M[h,5]}") | time/b = $(rel_b h 3), size/b = $(rel_b h 4) | | |"
  echo "| i | pgward directory format, \`--jobs 2\` → local dir (tar) | ${M[i,3]} | $(mib "${M[i,4]}") | $(kmib "${M[i,5]}") | time/b = $(rel_b i 3), size/b = $(rel_b i 4) | | |"
  echo "| d | pgward archive: custom, zstd:$ARCHIVE_LEVEL → local dir | ${M[d,3]} | $(mib "${M[d,4]}") | $(kmib "${M[d,5]}") | ${gain_d}% smaller than the zip | ≥ 10% | $res_d |"
  if [ "$DO_S3" = 1 ]; then
    echo "| e | pgward defaults → S3 (moto), 8 MiB parts | ${M[e,3]} | $(mib "${M[e,4]}") | $rss_e (pgward alone: $hwm_e) | peak RSS | ≤ 64 MiB | $res_e |"
    echo "| e′ | S3 peak RSS flat across sizes | | | | $flat_fig | spread ≤ 8 MiB | $res_flat |"
  fi
  echo
  echo "Peak RSS is GNU time's \"Maximum resident set size\", which for pgward is the larger of pgward and its" \
    "pg_dump child and for a pipeline the largest process in it; \"pgward alone\" is pgward's own VmHWM sampled" \
    "every 0.1 s. Rows b and i were checked on run 1: size and sha256 as reported, \`pg_restore -l\`" \
    "($B_PGR) on b, \`tar -t\` on i."
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
  echo "# b (then: sha256sum, $B_PGR -l $F/b/$B_OBJ)"
  show "$PGW" dump "${B_ARGS[@]}" --name b1
  echo "# f"
  echo "$CMD_F; $CMD_FSYNC"
  echo "# g"
  echo "$CMD_G"
  echo "# h"
  echo "$CMD_H"
  echo "# i"
  show "$PGW" dump "${I_ARGS[@]}" --name i1
  echo "# b2"
  show "$PGW" dump "${B2_ARGS[@]}" --name b2_1
  echo "# c"
  echo "$CMD_C"
  echo "# d"
  show "$PGW" dump "${D_ARGS[@]}" --name d1
  if [ "$DO_S3" = 1 ]; then
    echo "# e (moto_server -H 127.0.0.1 -p $MOTO_PORT; curl -X PUT http://127.0.0.1:$MOTO_PORT/pgward-bench)"
    echo "AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 \\"
    echo "  /usr/bin/time -v $(show "$PGW" dump "${E_ARGS[@]}" --name e1)"
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
