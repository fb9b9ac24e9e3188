#!/usr/bin/env bash
# bench/spa.sh: the web app's weight and its first render.
#
#   bench/spa.sh [--runs 5] [--append-results]
#
# Builds the release bundle (scripts/build-spa.sh: wasm-release profile, wasm-opt -Oz) and prints the size
# of each file as built and gzipped (-9, what a compressing proxy sends). Then starts `pgward serve` (the
# binary embeds that bundle; its own embedded catalog in a scratch data directory) and measures, in
# headless Chromium with an empty cache each time, the time from navigation to the login form being
# visible (the page, boot.js, the module, the wasm compiled and started, the first API call answered).
# Median of --runs. Targets (issue 14): wasm gzipped <= 400 KB, first render <= 1 s on localhost.
# The signed-in pages are modules of their own (wasm-split, fetched when a page is first shown): their
# count, total and largest are printed too; "wasm gzipped" is spa_bg.wasm, the one the first render needs.
#
# pgward: PGWARD_BIN, or a release build (see bench/lib.sh).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${PGWARD_CACHE:-$HOME/.cache/pgward}"
# shellcheck disable=SC1091
[ -f "$CACHE/env.sh" ] && . "$CACHE/env.sh"
say() { echo "bench: $*" >&2; }
die() {
  echo "bench: error: $*" >&2
  exit 1
}
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

RUNS=5
APPEND=0
while [ $# -gt 0 ]; do
  case "$1" in
  --runs) RUNS="$2"; shift 2 ;;
  --append-results) APPEND=1; shift ;;
  *) die "unknown option $1" ;;
  esac
done

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
say "building the web app (release)"
bash "$ROOT/scripts/build-spa.sh" >&2
find_pgward

DIST="$ROOT/frontend/dist"
report="$(mktemp)"
{
  echo "### Web app: bundle size and first render ($(date -u +%Y-%m-%d), $PROFILE_NOTE of pgward, $BUILD_NOTE)"
  echo
  echo '| file | bytes | gzip -9 bytes |'
  echo '|---|---:|---:|'
  for f in spa_bg.wasm spa.js boot.js style.css index.html; do
    echo "| $f | $(stat -c %s "$DIST/$f") | $(gzip -9 -c "$DIST/$f" | wc -c) |"
  done
} >"$report"
wasm_gz=$(gzip -9 -c "$DIST/spa_bg.wasm" | wc -c)
modules=0 modules_gz=0 largest_gz=0 largest=""
for f in "$DIST"/split_*.wasm "$DIST"/chunk_*.wasm; do
  [ -f "$f" ] || continue
  gz=$(gzip -9 -c "$f" | wc -c)
  modules=$((modules + 1)) modules_gz=$((modules_gz + gz))
  case "$f" in */split_*) [ "$gz" -gt "$largest_gz" ] && largest_gz=$gz largest="$(basename "$f")" ;; esac
done
{
  echo "| __wasm_split.js (page loader) | $(stat -c %s "$DIST/__wasm_split.js") | $(gzip -9 -c "$DIST/__wasm_split.js" | wc -c) |"
  echo "| $modules page modules and shared chunks | $(cat "$DIST"/split_*.wasm "$DIST"/chunk_*.wasm | wc -c) | $modules_gz (sum) |"
  echo "| largest page module: ${largest%.wasm} | $(stat -c %s "$DIST/$largest") | $largest_gz |"
} >>"$report"

work="$(mktemp -d)"
# The embedded catalog runs as the unprivileged pgward user when started as root: it must enter it.
chmod 755 "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() {
  [ -n "${serve_pid:-}" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
say "starting pgward serve on 127.0.0.1:$port (embedded catalog in $work)"
PGWARD_DATA_DIR="$work/data" PGWARD_SERVER__BIND="127.0.0.1:$port" \
  PGWARD_SERVER__SPA_DIR="$work/no-spa-dir" \
  PGWARD_POSTGRES__BIN_DIRS="[\"${PGWARD_PG_ROOT:-$CACHE/pg}\"]" \
  "$PGW" serve >"$work/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 1 600); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  kill -0 "$serve_pid" 2>/dev/null || { cat "$work/serve.log" >&2; die "pgward serve exited"; }
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || die "pgward serve did not become ready"

# What the server itself sends a browser for the first module (it gzips assets for Accept-Encoding).
wasm_name="$(curl -fsS "http://127.0.0.1:$port/" | grep -Eo 'spa_bg\.[0-9a-f]{12}\.wasm' | head -n1)"
wasm_wire=$(curl -fsS -H 'Accept-Encoding: gzip' -o /dev/null -w '%{size_download}' "http://127.0.0.1:$port/$wasm_name")

# An account, so that each run can also time the first visit of two pages (their modules are fetched then).
email="bench@example.com" password="bench password long enough"
curl -fsS -X POST "http://127.0.0.1:$port/api/v1/auth/setup" -H 'content-type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"$password\",\"name\":\"bench\"}" >/dev/null

say "first render, $RUNS runs"
out="$(node "$ROOT/bench/first-render.mjs" "http://127.0.0.1:$port" "$RUNS" "$email" "$password")"
median_ms=$(echo "$out" | sed -n 's/^median_ms=//p')
runs_ms=$(echo "$out" | sed -n 's/^runs_ms=//p')
{
  echo
  echo "- wasm gzipped: **$wasm_gz bytes** (target <= 400 KB: $([ "$wasm_gz" -le 409600 ] && echo met || echo missed))"
  echo "- spa_bg.wasm as pgward serve sends it to a browser that accepts gzip: $wasm_wire bytes"
  echo "- first render on localhost (navigation to the login form visible, empty cache): median **$median_ms ms** of $RUNS ($runs_ms) (target <= 1000 ms: $([ "$median_ms" -le 1000 ] && echo met || echo missed))"
  echo "- after it, same empty cache: the dashboard after the sign-in click (the sign-in request, then the page's module and shared chunks) median **$(echo "$out" | sed -n 's/^dashboard_median_ms=//p') ms** ($(echo "$out" | sed -n 's/^dashboard_ms=//p')), then Tasks from the navigation (its module fetched in the background after the dashboard showed, or then) median **$(echo "$out" | sed -n 's/^tasks_median_ms=//p') ms** ($(echo "$out" | sed -n 's/^tasks_ms=//p'))"
  echo "- command: \`${PGWARD_BIN:+PGWARD_BIN=$PGWARD_BIN }bench/spa.sh --runs $RUNS\`"
} >>"$report"
cat "$report"
if [ "$APPEND" = 1 ]; then
  { echo; cat "$report"; } >>"$ROOT/bench/RESULTS.md"
  say "appended to bench/RESULTS.md"
fi
