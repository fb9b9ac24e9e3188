#!/usr/bin/env bash
# The README's test command: installs whatever is missing (scripts/deps.sh), checks formatting and lints,
# builds the SPA, validates the OpenAPI document and runs every test against real PostgreSQL 13-18, a real
# browser and schemathesis.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
# shellcheck disable=SC1091
. "${PGWARD_CACHE:-$HOME/.cache/pgward}/env.sh"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pgward/target}"
export SQLX_OFFLINE=true
export CARGO_TERM_COLOR=never
# A test run builds a fresh clone: incremental state would only fill the disk (see scripts/trim-cache.sh).
export CARGO_INCREMENTAL=0
bash scripts/trim-cache.sh "$CARGO_TARGET_DIR"

echo "== format and lints"
cargo fmt --all --check
bash scripts/check-status-literals.sh
bash scripts/check-deploy.sh
cargo clippy --workspace --exclude pgward-frontend --all-targets -- -D warnings
cargo clippy -p pgward-frontend --target wasm32-unknown-unknown -- -D warnings

echo "== SPA"
bash scripts/build-spa.sh

echo "== OpenAPI document"
openapi-spec-validator openapi/openapi.json

echo "== tests"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
cargo test --workspace --exclude pgward-frontend -- --test-threads 2 2>&1 | tee "$log"
# One closing line for the whole run: cargo prints a result line per test binary (doc tests last, often 0).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;?$/) p += $(i-1); if ($(i) ~ /^failed;?$/) f += $(i-1) } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"

echo "== the README's run command"
# scripts/run.sh as a newcomer runs it (embedded catalog in a fresh data directory), until pgward is
# ready and serves the web UI; then stopped with SIGTERM, which must also stop the embedded catalog.
smoke="$(mktemp -d)"
chmod 755 "$smoke"   # the embedded catalog runs as the unprivileged pgward user
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
# Its own process group, so that whatever it is doing (building, serving) can be stopped as a whole.
PGWARD_DATA_DIR="$smoke/data" PGWARD_SERVER__BIND="127.0.0.1:$port" \
  setsid bash scripts/run.sh >"$smoke/run.log" 2>&1 &
run_pid=$!
stop_run() {
  kill -0 "$run_pid" 2>/dev/null || return 0
  # SIGTERM to pgward itself (run.sh execs it): it stops its embedded catalog, then exits.
  kill -TERM "$run_pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.5; done
  # Whatever is left of the group (a build still running, a server that did not stop).
  kill -KILL -- "-$run_pid" 2>/dev/null || true
}
trap 'stop_run; rm -f "$log"' EXIT
served=""
for _ in $(seq 1 900); do   # polls for up to 15 minutes: the run command builds what is missing first
  # The page names the module and the wasm by their content-hashed names (crates/server/src/spa.rs).
  if curl -fsS -o "$smoke/ready" "$base/readyz" 2>/dev/null &&
     curl -fsS -o "$smoke/index.html" "$base/" 2>/dev/null &&
     grep -Eq 'spa\.[0-9a-f]{12}\.js' "$smoke/index.html" &&
     wasm="$(grep -Eo 'spa_bg\.[0-9a-f]{12}\.wasm' "$smoke/index.html" | head -n1)" &&
     [ "$(curl -fsS -o /dev/null -w '%{content_type}' "$base/$wasm" 2>/dev/null)" = "application/wasm" ]; then
    served=1
    break
  fi
  kill -0 "$run_pid" 2>/dev/null || break
  sleep 1
done
stop_run
trap 'rm -f "$log"' EXIT
if [ -z "$served" ]; then
  echo "the run command never had pgward ready and serving the web UI on $base:" >&2
  tail -n 60 "$smoke/run.log" >&2
  exit 1
fi
if [ -e "$smoke/data/catalog/postmaster.pid" ] || ! grep -q "embedded catalog stopped" "$smoke/run.log"; then
  echo "pgward did not stop its embedded catalog on SIGTERM:" >&2
  tail -n 60 "$smoke/run.log" >&2
  exit 1
fi
rm -rf "$smoke"
echo "run command: pgward was ready and served the web UI on $base, and stopped cleanly"
