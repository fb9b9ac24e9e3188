#!/usr/bin/env bash
# bench/restore.sh: pgward's verified restore against plain `pg_restore -j2` of the same dump, side by side.
#
#   bench/restore.sh --size-gb 1 [--profile text] [--runs 1] [--jobs 2] [--append-results]
#
# Setup (untimed): bench/generate.sh fills a database; `pgward dump` backs it up (custom, zstd:3) to a
# local file; that file is decompressed to a plain custom archive for the baseline.
# Measures, into fresh databases on the same server, interleaved per run:
#   a) pg_restore --jobs J --exit-on-error from the local custom archive (the baseline);
#   b) pgward restore --jobs J --sha256 <recorded> of the stored .dump.zst (sha256 checked, decompressed
#      into scratch space, then pg_restore --jobs J).
# Target (issue 4): b / a <= 1.10. Prints a markdown report; --append-results adds it to bench/RESULTS.md.
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
PROFILE=text
RUNS=1
JOBS=2
APPEND=0
while [ $# -gt 0 ]; do
  case "$1" in
  --size-gb) SIZE_GB="${2:?}"; shift 2 ;;
  --profile) PROFILE="${2:?}"; shift 2 ;;
  --runs) RUNS="${2:?}"; shift 2 ;;
  --jobs) JOBS="${2:?}"; shift 2 ;;
  --append-results) APPEND=1; shift ;;
  -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$SIZE_GB" ] || { echo "give --size-gb GB; see --help" >&2; exit 2; }
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "--runs must be a positive integer" >&2; exit 2; }
say() { echo "bench: $*" >&2; }
die() { echo "bench: error: $*" >&2; exit 1; }
command -v zstd >/dev/null || die "zstd is required (apt-get install -y zstd)"
[ -x "$PG_BIN/pg_restore" ] || die "no pg_restore 17 in $PG_BIN (run scripts/deps.sh)"

if [ -n "${PGWARD_BIN:-}" ]; then
  PGW="$PGWARD_BIN"
else
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pgward/target}"
  PGW="$CARGO_TARGET_DIR/release/pgward"
  say "cargo build --release -p pgward-server --bin pgward"
  (cd "$ROOT" && SQLX_OFFLINE=true cargo build --release -p pgward-server --bin pgward >&2)
fi
export PGWARD_POSTGRES__BIN_DIRS="[\"$PG_ROOT\"]"

gen_out="$("$ROOT/bench/generate.sh" --size-gb "$SIZE_GB" --profile "$PROFILE")" || die "bench/generate.sh failed"
URL="$(sed -n 's/^url=//p' <<<"$gen_out")"
[ -n "$URL" ] || die "bench/generate.sh printed no url"
ADMIN_URL="${URL%/*}/postgres"
psql_admin() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$ADMIN_URL" -c "$1" >/dev/null; }

rm -rf "$OUT"
mkdir -p "$OUT/files" "$OUT/scratch"
trap 'rm -rf "$OUT"' EXIT

say "setup: pgward dump (custom, zstd:3)"
dump_json="$("$PGW" dump --connection "$URL" --to "file://$OUT/files" --name bench.dump.zst)"
SHA="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["sha256"])' "$dump_json")"
STORED="$OUT/files/bench.dump.zst"
zstd -dq "$STORED" -o "$OUT/files/bench.dump"
STORED_BYTES=$(stat -c %s "$STORED")
ARCHIVE_BYTES=$(stat -c %s "$OUT/files/bench.dump")

now_ns() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
A=()
B=()
for run in $(seq 1 "$RUNS"); do
  for which in a b; do
    db="bench_restore_${which}_$run"
    psql_admin "DROP DATABASE IF EXISTS $db"
    psql_admin "CREATE DATABASE $db"
    target="${URL%/*}/$db"
    say "run $run: $which"
    t0=$(now_ns)
    if [ "$which" = a ]; then
      "$PG_BIN/pg_restore" --exit-on-error --no-password --jobs="$JOBS" -d "$target" "$OUT/files/bench.dump"
    else
      PGWARD_RESTORE_URL="$target" "$PGW" restore --from "$STORED" --sha256 "$SHA" --jobs "$JOBS" \
        --work-dir "$OUT/scratch" >/dev/null
    fi
    t1=$(now_ns)
    s=$(secs "$t0" "$t1")
    if [ "$which" = a ]; then A+=("$s"); else B+=("$s"); fi
    psql_admin "DROP DATABASE $db"
  done
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
MA=$(median "${A[@]}")
MB=$(median "${B[@]}")
RATIO=$(awk -v a="$MA" -v b="$MB" 'BEGIN { printf "%.3f", b / a }')
VERDICT=$(awk -v r="$RATIO" 'BEGIN { print (r <= 1.10) ? "PASS" : "MISS" }')
report="$(cat <<REPORT

## Restore, $(date -u +%Y-%m-%d) — ${SIZE_GB} GB ($PROFILE profile), $RUNS run(s), --jobs $JOBS

Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); PostgreSQL 17 server and clients; pgward release build.
Dump: custom archive $(awk -v b="$ARCHIVE_BYTES" 'BEGIN { printf "%.0f MiB", b / 1048576 }'), stored zstd:3 $(awk -v b="$STORED_BYTES" 'BEGIN { printf "%.0f MiB", b / 1048576 }').

| what | wall s (median) | runs |
|---|---|---|
| a) \`pg_restore --jobs $JOBS\` from the local custom archive | $MA | ${A[*]} |
| b) \`pgward restore --jobs $JOBS --sha256\` of the stored .dump.zst | $MB | ${B[*]} |

b / a = **$RATIO** (target ≤ 1.10): **$VERDICT**
REPORT
)"
echo "$report"
if [ "$APPEND" = 1 ]; then
  echo "$report" >>"$ROOT/bench/RESULTS.md"
fi
