#!/usr/bin/env bash
# bench/directory.sh: the parallel directory-format dump against the single-job custom dump of the same
# database (issue 15, item 4), with pg_dump's own commands for reference; median of --runs, interleaved.
#
#   bench/directory.sh [--size-gb 1] [--profile mixed] [--scale N] [--runs 3] [--jobs 2] [--ref-level 3]
#                      [--no-warmup] [--append-results]
#
# Rows (every dump written to a local directory under $PGWARD_BENCH_DIR/directory, removed after each run):
#   c   pgward dump, custom format, its defaults          pgward dump --format custom --to file:///dir
#   d   pgward dump, directory format, --jobs J            pgward dump --format directory --jobs J --to file:///dir
#       (pg_dump -Fd -jJ into scratch space, then stored as one .tar)
#   rd  pg_dump -Fd -jJ -Z zstd:L -f dir                   (reference)
#   rc  pg_dump -Fc -Z zstd:L -f file                      (reference)
# Each: wall seconds (the pg_dump rows also give the `sync` of what they wrote, timed apart: pgward fsyncs
# its file before it reports), stored bytes (pgward: stored_bytes of its JSON line, checked against the
# file; pg_dump: the file, or the sum of the directory's files) and the peak RSS of the largest process
# (GNU time). The database comes from bench/generate.sh (reused when complete); one untimed pg_dump warms
# the page cache first. pgward: PGWARD_BIN, or a release build (see bench/lib.sh).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${PGWARD_CACHE:-$HOME/.cache/pgward}"
PG_ROOT="${PGWARD_PG_ROOT:-$CACHE/pg}"
STATE="${PGWARD_BENCH_DIR:-/tmp/pgward-bench}"
export PGWARD_BENCH_DIR="$STATE"
# shellcheck disable=SC1091
[ -f "$CACHE/env.sh" ] && . "$CACHE/env.sh"
PG_BIN="${PGWARD_BENCH_PG_BIN:-$PG_ROOT/17/bin}"
unset PGWARD_CONFIG RUST_LOG RUST_BACKTRACE RUST_LIB_BACKTRACE
while IFS='=' read -r _name _; do
  case "$_name" in PGWARD_*__* | PGWARD_DATA_DIR) unset "$_name" ;; esac
done < <(env)

SIZE_GB=1
SCALE=""
PROFILE=mixed
RUNS=3
JOBS=2
LEVEL=3
WARMUP=1
APPEND=0
while [ $# -gt 0 ]; do
  case "$1" in
  --size-gb) SIZE_GB="${2:?}"; shift 2 ;;
  --scale) SCALE="${2:?}"; shift 2 ;;
  --profile) PROFILE="${2:?}"; shift 2 ;;
  --runs) RUNS="${2:?}"; shift 2 ;;
  --jobs) JOBS="${2:?}"; shift 2 ;;
  --ref-level) LEVEL="${2:?}"; shift 2 ;;
  --no-warmup) WARMUP=0; shift ;;
  --append-results) APPEND=1; shift ;;
  -h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
for v in "$RUNS" "$JOBS" "$LEVEL"; do
  [[ "$v" =~ ^[1-9][0-9]*$ ]] || { echo "--runs, --jobs and --ref-level must be positive integers" >&2; exit 2; }
done

say() { echo "bench: $*" >&2; }
die() {
  echo "bench: error: $*" >&2
  exit 1
}
GTIME=/usr/bin/time
{ [ -x "$GTIME" ] && "$GTIME" -v true >/dev/null 2>&1; } || die "GNU time is required (apt-get install -y time)"
[ -x "$PG_BIN/pg_dump" ] || die "no pg_dump 17 in $PG_BIN (run scripts/deps.sh)"
command -v python3 >/dev/null || die "python3 is required"

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
find_pgward
export PGWARD_POSTGRES__BIN_DIRS="[\"$PG_ROOT\"]"

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

OUT="$STATE/directory"
JOB_PID=""
cleanup() {
  local rc=$?
  if [ -n "$JOB_PID" ]; then kill "$JOB_PID" 2>/dev/null || true; wait "$JOB_PID" 2>/dev/null || true; fi
  rm -rf "$OUT/files"
  [ "$rc" = 0 ] && rm -rf "$OUT"
  [ "$rc" = 0 ] || say "logs kept in $OUT/logs"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
rm -rf "$OUT"
mkdir -p "$OUT/files" "$OUT/logs"
F="$OUT/files"
RES="$OUT/results.tsv" # row run wall_s sync_s stored_bytes rss_kb
: >"$RES"

now_ns() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
maxrss() { sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$1"; }
jfield() { python3 -c 'import json, sys; d = json.loads(sys.stdin.read().strip().splitlines()[-1]); print(*(d[k] for k in sys.argv[1:]))' "$@"; }

# timed TAG CMD...: runs CMD under GNU time -v; leaves its wall seconds in $W and peak RSS (kB) in $RSS.
timed() {
  local tag="$1" t0 t1 rc=0
  shift
  t0=$(now_ns)
  "$GTIME" -v -o "$OUT/logs/$tag.time" "$@" >"$OUT/logs/$tag.out" 2>"$OUT/logs/$tag.err" &
  JOB_PID=$!
  wait "$JOB_PID" || rc=$?
  t1=$(now_ns)
  JOB_PID=""
  [ "$rc" = 0 ] || die "$tag failed (exit $rc): $(tail -5 "$OUT/logs/$tag.err")"
  W="$(secs "$t0" "$t1")"
  RSS="$(maxrss "$OUT/logs/$tag.time")"
}

C_ARGS=(dump --connection "$URL" --format custom --to "file://$F/c")
D_ARGS=(dump --connection "$URL" --format directory --jobs "$JOBS" --to "file://$F/d")
RD_ARGS=(-Fd -j "$JOBS" -Z "zstd:$LEVEL" -f "$F/rd" "$URL")
RC_ARGS=(-Fc -Z "zstd:$LEVEL" -f "$F/rc.dump" "$URL")

# pgward_row ROW RUN: pgward dump ${ROW}_ARGS; checks the stored file against the JSON line.
pgward_row() {
  local row="$1" run="$2" o m stored file
  local -n args="${row^^}_ARGS"
  timed "$row$run" "$PGW" "${args[@]}" --name "$row$run"
  read -r o m stored < <(jfield object manifest stored_bytes <"$OUT/logs/$row$run.out")
  file="$F/$row/${o##*/}"
  [ -f "$file" ] || die "$row$run: pgward reported $o, not found in $F/$row"
  [ "$(stat -c %s "$file")" = "$stored" ] || die "$row$run: the file's size differs from stored_bytes"
  if [ "$run" = 1 ]; then
    echo "${o##*/}" >"$OUT/logs/$row.name"
    cp "$OUT/logs/$row$run.out" "$OUT/logs/$row.json"
    cp "$F/$row/${m##*/}" "$OUT/logs/$row.manifest.json" 2>/dev/null || true
    if [ "$row" = d ]; then
      case "$file" in
      *.tar) tar -tf "$file" | grep -q 'toc\.dat$' || die "d: no toc.dat in the stored tar" ;;
      esac
    fi
  fi
  printf '%s\t%s\t%s\t-\t%s\t%s\n' "$row" "$run" "$W" "$stored" "$RSS" >>"$RES"
  rm -rf "${F:?}/$row"
}

# pgdump_row ROW RUN PATH: pg_dump ${ROW}_ARGS writing PATH; then the sync of PATH, timed apart.
pgdump_row() {
  local row="$1" run="$2" path="$3" t0 sync_s stored
  local -n args="${row^^}_ARGS"
  rm -rf "$path"
  timed "$row$run" "$PG_BIN/pg_dump" "${args[@]}"
  t0=$(now_ns)
  if [ -d "$path" ]; then sync "$path" "$path"/*; else sync "$path"; fi
  sync_s="$(secs "$t0" "$(now_ns)")"
  if [ -d "$path" ]; then
    stored="$(find "$path" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')"
  else
    stored="$(stat -c %s "$path")"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$row" "$run" "$W" "$sync_s" "$stored" "$RSS" >>"$RES"
  rm -rf "$path"
}

LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$WARMUP" = 1 ]; then
  say "warm-up: untimed pg_dump -Fc -Z0 > /dev/null"
  "$PG_BIN/pg_dump" -Fc -Z0 "$URL" >/dev/null
fi
for run in $(seq "$RUNS"); do
  say "run $run/$RUNS: c) pgward dump, custom format, defaults"
  pgward_row c "$run"
  say "run $run/$RUNS: d) pgward dump, directory format, --jobs $JOBS"
  pgward_row d "$run"
  say "run $run/$RUNS: rd) pg_dump -Fd -j $JOBS -Z zstd:$LEVEL"
  pgdump_row rd "$run" "$F/rd"
  say "run $run/$RUNS: rc) pg_dump -Fc -Z zstd:$LEVEL"
  pgdump_row rc "$run" "$F/rc.dump"
done
LOAD_END="$(cut -d' ' -f1-3 /proc/loadavg)"

# Medians per row (of wall, sync, stored, rss) and the per-run figures.
summary="$(python3 - "$RES" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    row, run, w, s, b, r = line.split("\t")
    rows.setdefault(row, []).append((float(w), None if s == "-" else float(s), int(b), int(r)))
for row, v in rows.items():
    med = lambda i: statistics.median(x[i] for x in v)
    sync = "-" if v[0][1] is None else "%.3f" % med(1)
    print(row, "%.3f" % med(0), sync, int(med(2)), "%.1f" % (med(3) / 1024),
          ",".join("%.3f" % x[0] for x in v))
PY
)"
get() { awk -v r="$1" -v c="$2" '$1 == r { print $c }' <<<"$summary"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
describe() {
  [ -f "$OUT/logs/$1.manifest.json" ] || { echo "manifest not found"; return; }
  python3 -c 'import json, sys
m = json.load(open(sys.argv[1]))
c = m.get("compression") or {}
lvl = c.get("level")
print("%s, %s%s, compressed in %s, pg_dump %s" % (m.get("format"), c.get("algorithm", "?"), "" if lvl is None else ":%s" % lvl,
      m.get("compressed_in", "?"), m.get("pg_dump_version")))' "$OUT/logs/$1.manifest.json" 2>/dev/null || echo "manifest unreadable"
}
show() { printf '%q ' "$@" | sed 's/ $//'; }

report="$(mktemp)"
{
  echo "### Directory format, --jobs $JOBS, against the single-job custom dump ($(date -u +%Y-%m-%dT%H:%M:%SZ), $PROFILE_NOTE, $(nproc) cores)"
  echo
  echo "Database \`$DB\` (profile $PROFILE, scale $SCALE; pg_database_size $(mib "$DB_SIZE") MiB, plain dump ~$(mib "$EST") MiB) on PostgreSQL 17, local disk; median of $RUNS runs, interleaved, after an untimed warm-up dump$([ "$WARMUP" = 1 ] || echo " (skipped)")."
  echo
  echo "| | what | wall s (median) | + sync s | stored MiB | peak RSS MiB | wall s per run |"
  echo "|---|---|---:|---:|---:|---:|---|"
  echo "| c | pgward dump, custom, defaults ($(describe c); stored as \`$(cat "$OUT/logs/c.name")\`) | $(get c 2) | (fsynced) | $(mib "$(get c 4)") | $(get c 5) | $(get c 6) |"
  echo "| d | pgward dump, directory, --jobs $JOBS ($(describe d); stored as \`$(cat "$OUT/logs/d.name")\`) | $(get d 2) | (fsynced) | $(mib "$(get d 4)") | $(get d 5) | $(get d 6) |"
  echo "| rd | \`pg_dump -Fd -j $JOBS -Z zstd:$LEVEL\` | $(get rd 2) | $(get rd 3) | $(mib "$(get rd 4)") | $(get rd 5) | $(get rd 6) |"
  echo "| rc | \`pg_dump -Fc -Z zstd:$LEVEL\` | $(get rc 2) | $(get rc 3) | $(mib "$(get rc 4)") | $(get rc 5) | $(get rc 6) |"
  echo
  echo "- d / c wall time: **$(ratio "$(get d 2)" "$(get c 2)")** (directory with $JOBS jobs against single-job custom, both pgward); rd / rc: $(ratio "$(get rd 2)" "$(get rc 2)")"
  echo "- d / rd wall time: $(ratio "$(get d 2)" "$(get rd 2)") (what pgward's tar, hashing and fsync add to pg_dump -Fd; levels may differ, see the manifest); c / rc: $(ratio "$(get c 2)" "$(get rc 2)")"
  echo "- stored bytes: c $(get c 4), d $(get d 4), rd $(get rd 4), rc $(get rc 4)"
  echo "- load average $LOAD_START at start, $LOAD_END at end; commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown), binary $(stat -c %y "$PGW" | cut -d. -f1); pg_dump $("$PG_BIN/pg_dump" --version | awk '{ print $3 }')"
  echo "- command: \`${PGWARD_BIN:+PGWARD_BIN=$PGWARD_BIN }bench/directory.sh --profile $PROFILE --scale $SCALE --runs $RUNS --jobs $JOBS --ref-level $LEVEL\`; the rows ran:"
  echo
  echo '```sh'
  echo "$(show "$PGW" "${C_ARGS[@]}") --name c1"
  echo "$(show "$PGW" "${D_ARGS[@]}") --name d1"
  show "$PG_BIN/pg_dump" "${RD_ARGS[@]}"
  echo
  show "$PG_BIN/pg_dump" "${RC_ARGS[@]}"
  echo
  echo '```'
} >"$report"
cat "$report"
if [ "$APPEND" = 1 ]; then
  { echo; cat "$report"; } >>"$ROOT/bench/RESULTS.md"
  say "appended to bench/RESULTS.md"
fi
rm -f "$report"
