#!/usr/bin/env bash
# bench/pair.sh: pgward's default backup against Databasus's command, wall time only, in many interleaved
# pairs. backup.sh measures ten pipelines three times; a ratio near the 1.05 target needs more pairs than
# that to stand above the run-to-run spread, and this measures only the two rows the target compares.
#
#   bench/pair.sh --size-gb 1 --profile text [--pairs 7] [--append-results]
#
# Each pair runs `pgward dump --format custom --to file:///dir` (defaults) and `pg_dump -Fc -Z zstd:5 -f file`
# followed by `sync file` (pgward fsyncs what it stores, so Databasus's file is synced too). Which of the two
# runs first alternates between pairs, so a warming or cooling machine favours neither. Prints every pair,
# the medians, their ratio and the median of the per-pair ratios; the target (issue 12) is <= 1.05.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
bench_setup
OUT="$STATE/pair"

SIZE_GB=""
SCALE=""
PROFILE=text
PAIRS=7
APPEND=0
while [ $# -gt 0 ]; do
  case "$1" in
  --size-gb) SIZE_GB="${2:?}"; shift 2 ;;
  --scale) SCALE="${2:?}"; shift 2 ;;
  --profile) PROFILE="${2:?}"; shift 2 ;;
  --pairs) PAIRS="${2:?}"; shift 2 ;;
  --append-results) APPEND=1; shift ;;
  -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$PAIRS" =~ ^[1-9][0-9]*$ ]] || { echo "--pairs must be a positive integer" >&2; exit 2; }
[ -n "$SIZE_GB$SCALE" ] || { echo "give --size-gb GB (or --scale N); see --help" >&2; exit 2; }

[ -x "$PG_BIN/pg_dump" ] || die "no pg_dump 17 in $PG_BIN (run scripts/deps.sh)"

find_pgward
export PGWARD_POSTGRES__BIN_DIRS="[\"$PG_ROOT\"]"

gen_args=(--profile "$PROFILE")
if [ -n "$SCALE" ]; then gen_args+=(--scale "$SCALE"); else gen_args+=(--size-gb "$SIZE_GB"); fi
gen_out="$("$ROOT/bench/generate.sh" "${gen_args[@]}")" || die "bench/generate.sh failed"
URL="$(sed -n 's/^url=//p' <<<"$gen_out")"
DB="$(sed -n 's/^database=//p' <<<"$gen_out")"
[ -n "$URL" ] || die "bench/generate.sh printed no url"

trap 'rm -rf "$OUT"' EXIT
rm -rf "$OUT"
mkdir -p "$OUT/pgward"

now_ns() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }

# Each prints "wall_s stored_bytes" and removes what it wrote.
run_pgward() {
  local t0 t1 f
  t0=$(now_ns)
  "$PGW" dump --connection "$URL" --format custom --to "file://$OUT/pgward" --name "p$1" >"$OUT/p.json" 2>"$OUT/p.err" ||
    die "pgward dump failed: $(tail -5 "$OUT/p.err")"
  t1=$(now_ns)
  echo "$(secs "$t0" "$t1") $(python3 -c 'import json, sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])["stored_bytes"])' <"$OUT/p.json")"
  rm -rf "${OUT:?}/pgward/"*
}
run_databasus() {
  local t0 t1 s
  t0=$(now_ns)
  "$PG_BIN/pg_dump" -Fc -Z zstd:5 -f "$OUT/f.dump" "$URL"
  sync "$OUT/f.dump"
  t1=$(now_ns)
  s="$(stat -c %s "$OUT/f.dump")"
  rm -f "$OUT/f.dump"
  echo "$(secs "$t0" "$t1") $s"
}

say "warm-up: untimed pg_dump -Fc -Z0 > /dev/null"
"$PG_BIN/pg_dump" -Fc -Z0 "$URL" >/dev/null
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
: >"$OUT/pairs.tsv"
for i in $(seq "$PAIRS"); do
  if [ $((i % 2)) = 1 ]; then
    read -r pw ps < <(run_pgward "$i")
    read -r fw fs < <(run_databasus)
    order="pgward first"
  else
    read -r fw fs < <(run_databasus)
    read -r pw ps < <(run_pgward "$i")
    order="Databasus first"
  fi
  say "pair $i/$PAIRS ($order): pgward $pw s, Databasus $fw s"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$i" "$order" "$pw" "$ps" "$fw" "$fs" >>"$OUT/pairs.tsv"
done

report="$(python3 - "$OUT/pairs.tsv" "$PAIRS" "$DB" "$PROFILE" "$PROFILE_NOTE" "$("$PG_BIN/pg_dump" --version)" "$LOAD_START" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import statistics, sys, time
path, pairs, db, profile, build, pgv, load0, load1 = sys.argv[1:]
rows = [l.rstrip("\n").split("\t") for l in open(path) if l.strip()]
pw = [float(r[2]) for r in rows]
fw = [float(r[4]) for r in rows]
ratio = statistics.median(pw) / statistics.median(fw)
per_pair = statistics.median(p / f for p, f in zip(pw, fw))
print(f"### pgward's default backup against Databasus, wall time, {pairs} interleaved pairs "
      f"({time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}, {build}, 2 cores)\n")
print(f"Database `{db}` (profile {profile}); {pgv}; load average {load0} at start, {load1} at end.\n")
print("| pair | order | pgward s | pgward bytes | Databasus s (+ sync) | Databasus bytes | ratio |")
print("|---:|---|---:|---:|---:|---:|---:|")
for r in rows:
    print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]} | {r[5]} | {float(r[2]) / float(r[4]):.3f} |")
verdict = "PASS" if ratio <= 1.05 else "MISS"
print(f"\nMedians: pgward {statistics.median(pw):.3f} s, Databasus {statistics.median(fw):.3f} s: "
      f"**{ratio:.3f}** (target <= 1.05: {verdict}); median of the per-pair ratios {per_pair:.3f}; "
      f"spread of the pairs' ratios {min(p / f for p, f in zip(pw, fw)):.3f} to {max(p / f for p, f in zip(pw, fw)):.3f}.")
PY
)"
echo "$report"
if [ "$APPEND" = 1 ]; then
  printf '\n%s\n' "$report" >>"$ROOT/bench/RESULTS.md"
  say "appended to bench/RESULTS.md"
fi
