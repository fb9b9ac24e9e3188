#!/usr/bin/env bash
# bench/restore.sh: pgward's verified restore against plain `pg_restore -j2` of a Databasus-style archive.
#
#   bench/restore.sh --size-gb 1 [--profile mixed] [--runs 3] [--jobs 2] [--with-jobs1] [--append-results]
#
# Setup (untimed): bench/generate.sh fills a database (--size-gb GB or --scale N; --profile text, numeric or
# mixed); `pg_dump -Fc -Z zstd:5 -f file` makes the Databasus-style archive; `pgward dump` with its defaults
# (custom format, compressed by pg_dump inside the archive) backs the database up to a local directory.
# Measures, into fresh databases on the same server, interleaved per run (median of --runs, default 3):
#   a) pg_restore --jobs J --exit-on-error from the Databasus-style archive (the baseline);
#   b) pgward restore --jobs J --sha256 <recorded> of pgward's stored file (named as pgward's JSON says):
#      size and sha256 checked where the file lies, then pg_restore --jobs J reads it, without a copy.
#   --with-jobs1 adds a1) and b1), the same with --jobs 1 (information).
# Checks on run 1: the restored databases hold as many tables and rows as the source. Target (issue 12):
# b / a <= 1.05. Prints a markdown report; --append-results adds it to bench/RESULTS.md.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${PGWARD_CACHE:-$HOME/.cache/pgward}"
PG_ROOT="${PGWARD_PG_ROOT:-$CACHE/pg}"
PG_BIN="${PGWARD_BENCH_PG_BIN:-$PG_ROOT/17/bin}"
STATE="${PGWARD_BENCH_DIR:-/tmp/pgward-bench}"
export PGWARD_BENCH_DIR="$STATE"
OUT="$STATE/restore"
# shellcheck disable=SC1091
[ -f "$CACHE/env.sh" ] && . "$CACHE/env.sh"
unset ZSTD_CLEVEL ZSTD_NBTHREADS PGWARD_CONFIG RUST_LOG RUST_BACKTRACE RUST_LIB_BACKTRACE

SIZE_GB=""
SCALE=""
PROFILE=text
RUNS=3
JOBS=2
JOBS1=0
APPEND=0
while [ $# -gt 0 ]; do
  case "$1" in
  --size-gb) SIZE_GB="${2:?}"; shift 2 ;;
  --scale) SCALE="${2:?}"; shift 2 ;;
  --profile) PROFILE="${2:?}"; shift 2 ;;
  --runs) RUNS="${2:?}"; shift 2 ;;
  --jobs) JOBS="${2:?}"; shift 2 ;;
  --with-jobs1) JOBS1=1; shift ;;
  --append-results) APPEND=1; shift ;;
  -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$SIZE_GB$SCALE" ] || { echo "give --size-gb GB (or --scale N); see --help" >&2; exit 2; }
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "--runs must be a positive integer" >&2; exit 2; }
[[ "$JOBS" =~ ^[1-9][0-9]*$ ]] || { echo "--jobs must be a positive integer" >&2; exit 2; }
say() { echo "bench: $*" >&2; }
die() { echo "bench: error: $*" >&2; exit 1; }
command -v python3 >/dev/null || die "python3 is required"
[ -x "$PG_BIN/pg_restore" ] || die "no pg_restore 17 in $PG_BIN (run scripts/deps.sh)"

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
find_pgward
# pgward finds the clients in $PG_ROOT/<major>/bin by itself; say so anyway, for a non-default PG_ROOT.
export PGWARD_POSTGRES__BIN_DIRS="[\"$PG_ROOT\"]"

gen_args=(--profile "$PROFILE")
if [ -n "$SCALE" ]; then gen_args+=(--scale "$SCALE"); else gen_args+=(--size-gb "$SIZE_GB"); fi
gen_out="$("$ROOT/bench/generate.sh" "${gen_args[@]}")" || die "bench/generate.sh failed"
kv() { sed -n "s/^$1=//p" <<<"$gen_out"; }
URL="$(kv url)"
[ -n "$URL" ] || die "bench/generate.sh printed no url"
DB="$(kv database)"
SCALE="$(kv scale)"
[ -n "$SIZE_GB" ] || SIZE_GB="$(awk -v b="$(kv plain_dump_estimate_bytes)" 'BEGIN { printf "%.2f", b / 1073741824 }')"
ADMIN_URL="${URL%/*}/postgres"
psql_admin() { PGOPTIONS="-c client_min_messages=warning" "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$ADMIN_URL" -c "$1" >/dev/null; }
# "tables rows" of a database: user tables, and their rows counted exactly.
census() {
  "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 "$1" -c "
    SELECT count(*) || ' ' || coalesce(sum((xpath('/row/c/text()', query_to_xml(
             format('SELECT count(*) AS c FROM %I.%I', schemaname, tablename), false, true, '')))[1]::text::bigint), 0)
    FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
}

rm -rf "$OUT"
mkdir -p "$OUT/files/pgward" "$OUT/scratch"
SAMPLER=""
cleanup() {
  local rc=$?
  if [ -n "$SAMPLER" ]; then kill "$SAMPLER" 2>/dev/null || true; fi
  rm -rf "$OUT"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ARCHIVE="$OUT/files/databasus.dump"
CMD_SETUP_A="$PG_BIN/pg_dump -Fc -Z zstd:5 -f $ARCHIVE '$URL'"
say "setup: $PG_BIN/pg_dump -Fc -Z zstd:5 -f databasus.dump"
"$PG_BIN/pg_dump" -Fc -Z zstd:5 -f "$ARCHIVE" "$URL"
ARCHIVE_BYTES=$(stat -c %s "$ARCHIVE")

say "setup: pgward dump with its defaults"
DUMP_ARGS=(--connection "$URL" --to "file://$OUT/files/pgward" --name bench)
dump_json="$("$PGW" dump "${DUMP_ARGS[@]}")" || die "pgward dump failed"
read -r OBJ MANIFEST SHA STORED_BYTES < <(python3 -c 'import json, sys
d = json.loads(sys.argv[1].strip().splitlines()[-1])
print(d["object"].rsplit("/", 1)[-1], d["manifest"].rsplit("/", 1)[-1], d["sha256"], d["stored_bytes"])' "$dump_json")
STORED="$OUT/files/pgward/$OBJ"
[ -f "$STORED" ] || die "pgward reported object $OBJ, not found in $OUT/files/pgward"
[ "$(stat -c %s "$STORED")" = "$STORED_BYTES" ] || die "$OBJ: size differs from stored_bytes"
DEFAULTS="$(python3 -c 'import json, sys
m = json.load(open(sys.argv[1]))
c = m.get("compression") or {}
lvl = c.get("level")
print("%s, %s%s, compressed in %s, pg_dump %s" % (m.get("format"), c.get("algorithm", "?"), "" if lvl is None else ":%s" % lvl,
      m.get("compressed_in", "?"), m.get("pg_dump_version")))' "$OUT/files/pgward/$MANIFEST")"
say "setup: pgward stored $OBJ ($DEFAULTS)"
SOURCE_CENSUS="$(census "$URL")"

now_ns() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
# Samples the bytes in the scratch directory every 0.1 s into $OUT/scratch.peak, until killed.
sample_scratch() {
  local peak=0 b
  while :; do
    b=$(du -sb "$OUT/scratch" 2>/dev/null | cut -f1) || b=0
    [ "${b:-0}" -gt "$peak" ] && peak=$b && echo "$peak" >"$OUT/scratch.peak"
    sleep 0.1
  done
}
declare -A T    # T[which] = "s1 s2 ..." wall seconds per run
SCRATCH_PEAK=0  # bytes, the largest seen in the scratch directory during b / b1
WHICH=(a b)
[ "$JOBS1" = 1 ] && WHICH+=(a1 b1)
for run in $(seq 1 "$RUNS"); do
  for which in "${WHICH[@]}"; do
    j=$JOBS
    [[ "$which" == *1 ]] && j=1
    db="bench_restore_${which}_$run"
    psql_admin "DROP DATABASE IF EXISTS $db"
    psql_admin "CREATE DATABASE $db"
    target="${URL%/*}/$db"
    say "run $run/$RUNS: $which (--jobs $j)"
    if [[ "$which" == b* ]]; then
      echo 0 >"$OUT/scratch.peak"
      sample_scratch &
      SAMPLER=$!
    fi
    t0=$(now_ns)
    if [[ "$which" == a* ]]; then
      "$PG_BIN/pg_restore" --exit-on-error --no-password --jobs="$j" -d "$target" "$ARCHIVE"
    else
      PGWARD_RESTORE_URL="$target" "$PGW" restore --from "$STORED" --sha256 "$SHA" --jobs "$j" \
        --work-dir "$OUT/scratch" >/dev/null
    fi
    t1=$(now_ns)
    if [ -n "$SAMPLER" ]; then
      kill "$SAMPLER" 2>/dev/null || true
      wait "$SAMPLER" 2>/dev/null || true
      SAMPLER=""
      p=$(cat "$OUT/scratch.peak")
      [ "$p" -gt "$SCRATCH_PEAK" ] && SCRATCH_PEAK=$p
    fi
    T[$which]="${T[$which]:-}${T[$which]:+ }$(secs "$t0" "$t1")"
    if [ "$run" = 1 ]; then
      got="$(census "$target")"
      [ "$got" = "$SOURCE_CENSUS" ] || die "$which: restored tables/rows '$got' differ from the source's '$SOURCE_CENSUS'"
    fi
    psql_admin "DROP DATABASE $db"
  done
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
declare -A MED
for which in "${WHICH[@]}"; do
  # shellcheck disable=SC2086 # the runs are a space-separated list of numbers
  MED[$which]=$(median ${T[$which]})
done
RATIO=$(awk -v a="${MED[a]}" -v b="${MED[b]}" 'BEGIN { printf "%.3f", b / a }')
VERDICT=$(awk -v r="$RATIO" 'BEGIN { print (r <= 1.05) ? "PASS" : "MISS" }')
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
read -r CEN_T CEN_R <<<"$SOURCE_CENSUS"
report="$(
  cat <<REPORT

## Restore, $(date -u +%Y-%m-%d) — ${SIZE_GB} GB ($PROFILE profile, scale $SCALE), $RUNS run(s), --jobs $JOBS

Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; PostgreSQL 17 server and clients; pgward \`$PGW\` ($PROFILE_NOTE, $BUILD_NOTE).
Database \`$DB\`: $CEN_T tables, $CEN_R rows (every restore of run 1 checked to hold the same).
Dumps: Databasus-style archive (\`pg_dump -Fc -Z zstd:5\`) $(mib "$ARCHIVE_BYTES"); pgward's default backup \`$OBJ\` ($DEFAULTS) $(mib "$STORED_BYTES").
pgward's scratch directory held at most $(mib "$SCRATCH_PEAK") during its restores (sampled every 0.1 s).

| what | wall s (median) | runs |
|---|---|---|
| a) \`pg_restore --jobs $JOBS\` from the Databasus-style archive | ${MED[a]} | ${T[a]} |
| b) \`pgward restore --jobs $JOBS --sha256\` of pgward's default backup | ${MED[b]} | ${T[b]} |
REPORT
  if [ "$JOBS1" = 1 ]; then
    echo "| a1) \`pg_restore --jobs 1\` (info) | ${MED[a1]} | ${T[a1]} |"
    echo "| b1) \`pgward restore --jobs 1 --sha256\` (info) | ${MED[b1]} | ${T[b1]} |"
  fi
  cat <<REPORT

b / a = **$RATIO** (target ≤ 1.05): **$VERDICT**

Commands:

\`\`\`sh
bench/generate.sh ${gen_args[*]}
export PGWARD_POSTGRES__BIN_DIRS='$PGWARD_POSTGRES__BIN_DIRS'
$CMD_SETUP_A
$(printf '%q ' "$PGW" dump "${DUMP_ARGS[@]}" | sed 's/ $//')
# a (into a fresh database)
$PG_BIN/pg_restore --exit-on-error --no-password --jobs=$JOBS -d '${URL%/*}/bench_restore_a_1' $ARCHIVE
# b (into a fresh database)
PGWARD_RESTORE_URL='${URL%/*}/bench_restore_b_1' $(printf '%q ' "$PGW" restore --from "$STORED" --sha256 "$SHA" --jobs "$JOBS" --work-dir "$OUT/scratch" | sed 's/ $//')
\`\`\`
REPORT
)"
echo "$report"
if [ "$APPEND" = 1 ]; then
  echo "$report" >>"$ROOT/bench/RESULTS.md"
fi
