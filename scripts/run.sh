#!/usr/bin/env bash
# The README's run command: installs whatever is missing, builds the SPA and the server, and runs
# `pgward serve` on the embedded default (its own PostgreSQL catalog in the data directory).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
# shellcheck disable=SC1091
. "${PGWARD_CACHE:-$HOME/.cache/pgward}/env.sh"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pgward/target}"
export SQLX_OFFLINE=true

bash scripts/build-spa.sh
cargo build -p pgward-server --bin pgward

# PostgreSQL binaries fetched by deps.sh serve the embedded catalog and give pg_dump/psql of every major.
export PGWARD_POSTGRES__BIN_DIRS="${PGWARD_POSTGRES__BIN_DIRS:-[\"$PGWARD_PG_ROOT\"]}"
export PGWARD_SERVER__SPA_DIR="${PGWARD_SERVER__SPA_DIR:-$PWD/frontend/dist}"
# As root the catalog server runs as the 'pgward' user, which must be able to reach the data directory.
if [ "$(id -u)" = 0 ]; then
  export PGWARD_DATA_DIR="${PGWARD_DATA_DIR:-/var/lib/pgward}"
else
  export PGWARD_DATA_DIR="${PGWARD_DATA_DIR:-$PWD/pgward-data}"
fi
# A trial on one machine: databases and object stores on this machine (127.0.0.1) may be registered.
# `pgward serve` alone refuses loopback for every kind of peer (outbound.allow_loopback in the README).
export PGWARD_OUTBOUND__ALLOW_LOOPBACK="${PGWARD_OUTBOUND__ALLOW_LOOPBACK:-[\"databases\",\"destinations\"]}"
echo "pgward: http://${PGWARD_SERVER__BIND:-127.0.0.1:8080}/  (data in $PGWARD_DATA_DIR)"
echo "pgward: loopback allowed for $PGWARD_OUTBOUND__ALLOW_LOOPBACK (PGWARD_OUTBOUND__ALLOW_LOOPBACK)"
exec "$CARGO_TARGET_DIR/debug/pgward" serve
