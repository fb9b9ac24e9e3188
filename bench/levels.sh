#!/usr/bin/env bash
# bench/levels.sh: what each zstd level costs when pg_dump compresses inside a custom archive — the
# measurement behind pgward's default level.
#
#   bench/levels.sh --size-gb 1 --profile mixed [--levels "3 4 5 6 7 9 level=3,long"] [--runs 3]
#
# For every level (or pg_dump zstd detail, e.g. `level=3,long`), `pg_dump -Fc -Z zstd:L -f file` of the
# bench database (bench/generate.sh): median wall time and the archive's size, interleaved per run after
# one untimed warm-up dump. Prints a markdown table.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${PGWARD_CACHE:-$HOME/.cache/pgward}"
PG_BIN="${PGWARD_BENCH_PG_BIN:-${PGWARD_PG_ROOT:-$CACHE/pg}/17/bin}"
STATE="${PGWARD_BENCH_DIR:-/tmp/pgward-bench}"
OUT="$STATE/levels"

SIZE=(--size-gb 1)
PROFILE=mixed
LEVELS="3 4 5 6 7 9 level=3,long level=5,long"
RUNS=3
while [ $# -gt 0 ]; do
  case "$1" in
  --size-gb) SIZE=(--size-gb "${2:?}"); shift 2 ;;
  --scale) SIZE=(--scale "${2:?}"); shift 2 ;;
  --profile) PROFILE="${2:?}"; shift 2 ;;
  --levels) LEVELS="${2:?}"; shift 2 ;;
  --runs) RUNS="${2:?}"; shift 2 ;;
  -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "--runs must be a positive integer" >&2; exit 2; }

gen_out="$("$ROOT/bench/generate.sh" "${SIZE[@]}" --profile "$PROFILE")"
URL="$(sed -n 's/^url=//p' <<<"$gen_out")"
DB="$(sed -n 's/^database=//p' <<<"$gen_out")"
mkdir -p "$OUT"
trap 'rm -rf "$OUT"' EXIT

now() { date +%s.%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

"$PG_BIN/pg_dump" -Fc -Z0 -f "$OUT/warmup" "$URL"
rm -f "$OUT/warmup"
declare -A T S
for _ in $(seq 1 "$RUNS"); do
  for l in $LEVELS; do
    t0=$(now)
    "$PG_BIN/pg_dump" -Fc -Z "zstd:$l" -f "$OUT/archive" "$URL"
    t1=$(now)
    T[$l]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') "
    S[$l]=$(stat -c %s "$OUT/archive")
    rm -f "$OUT/archive"
  done
done

echo "### zstd levels inside the archive: $DB ($PROFILE), median of $RUNS"
echo
echo "pg_dump $("$PG_BIN/pg_dump" --version | awk '{ print $3 }'), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "| level | wall s | stored MB | per run s |"
echo "|---:|---:|---:|---|"
for l in $LEVELS; do
  m=$(tr ' ' '\n' <<<"${T[$l]}" | grep . | median)
  echo "| $l | $m | $(awk -v b="${S[$l]}" 'BEGIN { printf "%.1f", b / 1000000 }') | ${T[$l]}|"
done
