# shellcheck shell=bash
# bench/lib.sh: what the benchmark scripts share; sourced, not run. Needs ROOT and the scripts' say/die.
# shellcheck disable=SC2034 # PGW, BUILD_NOTE and PROFILE_NOTE are for the script that sources this.

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
