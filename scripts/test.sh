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

echo "== format and lints"
cargo fmt --all --check
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
