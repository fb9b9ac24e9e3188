#!/usr/bin/env bash
# Builds the Leptos SPA (frontend/) into frontend/dist: index.html, style.css, spa.js, spa_bg.wasm.
#
# Needs: the wasm32-unknown-unknown target (rust-toolchain.toml lists it), wasm-bindgen-cli equal to the
# wasm-bindgen version in Cargo.lock (0.2.130), and optionally npm binaryen's wasm-opt (>= 116). All of
# them come from scripts/deps.sh, which writes $PGWARD_CACHE/env.sh. Debian's wasm-opt 108 produces a
# broken module, so an older wasm-opt is never used.
#
# Env: PGWARD_CACHE (default ~/.cache/pgward), CARGO_TARGET_DIR (default $PGWARD_CACHE/target),
#      PGWARD_SKIP_WASM_OPT=1 to skip the size optimisation.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

cache="${PGWARD_CACHE:-$HOME/.cache/pgward}"
if [[ -f "$cache/env.sh" ]]; then
    # shellcheck disable=SC1091
    . "$cache/env.sh"
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pgward/target}"

want_bindgen="0.2.130"
if ! command -v wasm-bindgen >/dev/null 2>&1; then
    echo "build-spa: wasm-bindgen not found; run scripts/deps.sh (needs wasm-bindgen-cli $want_bindgen)" >&2
    exit 1
fi
have_bindgen="$(wasm-bindgen --version | awk '{print $2}')"
if [[ "$have_bindgen" != "$want_bindgen" ]]; then
    echo "build-spa: wasm-bindgen $have_bindgen found, need $want_bindgen (must match Cargo.lock)" >&2
    exit 1
fi

echo "build-spa: cargo build (wasm-release, wasm32-unknown-unknown)" >&2
cargo build --profile wasm-release --target wasm32-unknown-unknown -p pgward-frontend

wasm="$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/pgward-frontend.wasm"
dist="frontend/dist"
rm -rf "$dist"
mkdir -p "$dist"

wasm-bindgen --target web --no-typescript --out-dir "$dist" --out-name spa "$wasm"

# wasm-opt: only binaryen >= 116 (npm's package ships 132); Debian's 108 breaks the module.
if [[ "${PGWARD_SKIP_WASM_OPT:-0}" == "1" ]]; then
    echo "build-spa: wasm-opt skipped (PGWARD_SKIP_WASM_OPT=1)" >&2
elif wasm_opt="$(command -v wasm-opt)"; then
    opt_version="$("$wasm_opt" --version 2>/dev/null | sed -n 's/.*version \([0-9][0-9]*\).*/\1/p' | head -n1)"
    if [[ -n "$opt_version" && "$opt_version" -ge 116 ]]; then
        echo "build-spa: wasm-opt -Oz (binaryen $opt_version, $wasm_opt)" >&2
        "$wasm_opt" -Oz "$dist/spa_bg.wasm" -o "$dist/spa_bg.wasm.opt"
        mv "$dist/spa_bg.wasm.opt" "$dist/spa_bg.wasm"
    else
        echo "build-spa: skipping wasm-opt: $wasm_opt is version '${opt_version:-?}', need npm binaryen >= 116" >&2
    fi
else
    echo "build-spa: wasm-opt not found; bundle left unoptimised" >&2
fi

cp frontend/index.html frontend/style.css frontend/boot.js "$dist/"

echo "build-spa: done:" >&2
ls -l "$dist" >&2
