# shellcheck shell=bash
# bench/lib.sh: what the benchmark scripts share; sourced, not run. Needs ROOT and the scripts' say/die.
# shellcheck disable=SC2034 # PGW, BUILD_NOTE and PROFILE_NOTE are for the script that sources this.

# bench_setup: what every benchmark starts with. Sets CACHE, PG_ROOT, PG_BIN (PostgreSQL 17's clients) and
# STATE (exported as PGWARD_BENCH_DIR), loads the cache's env.sh, clears the variables that would change
# what the tools do, and defines say and die.
bench_setup() {
  CACHE="${PGWARD_CACHE:-$HOME/.cache/pgward}"
  PG_ROOT="${PGWARD_PG_ROOT:-$CACHE/pg}"
  PG_BIN="${PGWARD_BENCH_PG_BIN:-$PG_ROOT/17/bin}"
  STATE="${PGWARD_BENCH_DIR:-/tmp/pgward-bench}"
  export PGWARD_BENCH_DIR="$STATE"
  # shellcheck disable=SC1091
  if [ -f "$CACHE/env.sh" ]; then . "$CACHE/env.sh"; fi
  unset ZSTD_CLEVEL ZSTD_NBTHREADS ZIPOPT PGWARD_CONFIG RUST_LOG RUST_BACKTRACE RUST_LIB_BACKTRACE
  say() { echo "bench: $*" >&2; }
  die() {
    echo "bench: error: $*" >&2
    exit 1
  }
}

# Sets PGW (the pgward binary), BUILD_NOTE and PROFILE_NOTE: PGWARD_BIN as given, else a release build in
# ${CARGO_TARGET_DIR:-$HOME/.cache/pgward/target} (a no-op build when it is up to date), else the existing
# release binary when there is no cargo.
find_pgward() {
  if [ -n "${PGWARD_BIN:-}" ]; then
    PGW="$PGWARD_BIN"
    BUILD_NOTE="PGWARD_BIN"
  else
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pgward/target}"
    PGW="$CARGO_TARGET_DIR/release/pgward"
    if command -v cargo >/dev/null; then
      say "cargo build --release -p pgward-server --bin pgward"
      (cd "$ROOT" && SQLX_OFFLINE=true cargo build --release -p pgward-server --bin pgward >&2)
      BUILD_NOTE="release build"
    elif [ -x "$PGW" ]; then
      say "warning: cargo not found, using the existing $PGW (it may not match the sources)"
      BUILD_NOTE="existing release build, not rebuilt"
    else
      die "no pgward release binary and no cargo; set PGWARD_BIN"
    fi
  fi
  [ -x "$PGW" ] || die "pgward binary $PGW missing"
  case "$PGW" in
  */debug/*) PROFILE_NOTE="DEBUG build" ;;
  */release/*) PROFILE_NOTE="release build" ;;
  *) PROFILE_NOTE="build profile unknown" ;;
  esac
}

# aux_pg_start NAME: starts (or reuses) a PostgreSQL 17 server of its own in $PGWARD_BENCH_DIR/NAME (initdb on
# first use; as the user `pgward` when root), on a free loopback port, trusting loopback connections as
# superuser `postgres`, max_connections 200 (several pgward processes' pools fit; the generate.sh server
# allows 20), fsync off. Sets AUX_URL (postgresql://postgres@127.0.0.1:PORT, no database) and AUX_STARTED
# (1 when this call started it). aux_pg_stop NAME stops it. Needs PG_ROOT (or the default) and free ports.
aux_pg_start() {
  local name="$1" dir bin user p
  dir="${PGWARD_BENCH_DIR:-/tmp/pgward-bench}/$name"
  bin="${PGWARD_PG_ROOT:-${PGWARD_CACHE:-$HOME/.cache/pgward}/pg}/17/bin"
  user="${PGWARD_PG_USER:-pgward}"
  [ -x "$bin/postgres" ] || die "no PostgreSQL 17 in $bin (run scripts/deps.sh)"
  _aux_as() { if [ "$(id -u)" = 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi; }
  mkdir -p "${dir%/*}"
  AUX_STARTED=0
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown "$user:" "$dir"
    _aux_as mkdir -p "$dir/run"
    _aux_as "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
      die "initdb failed, see $dir/initdb.log"
    printf '%s\n' "listen_addresses = '127.0.0.1'" "max_connections = 200" "shared_buffers = 128MB" \
      "fsync = off" "synchronous_commit = off" "full_page_writes = off" "logging_collector = off" |
      _aux_as tee -a "$dir/data/postgresql.conf" >/dev/null
  fi
  if ! _aux_as "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    p="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    _aux_as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "-p $p -k $dir/run" start >/dev/null ||
      die "PostgreSQL in $dir did not start, see $dir/server.log"
    AUX_STARTED=1
  fi
  AUX_URL="postgresql://postgres@127.0.0.1:$(sed -n 4p "$dir/data/postmaster.pid")"
}
aux_pg_stop() {
  local dir bin
  dir="${PGWARD_BENCH_DIR:-/tmp/pgward-bench}/$1"
  bin="${PGWARD_PG_ROOT:-${PGWARD_CACHE:-$HOME/.cache/pgward}/pg}/17/bin"
  if [ "$(id -u)" = 0 ]; then
    runuser -u "${PGWARD_PG_USER:-pgward}" -- "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  else
    "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
}
