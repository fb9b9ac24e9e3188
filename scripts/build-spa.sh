#!/usr/bin/env bash
# Builds the Leptos SPA (frontend/) into frontend/dist: index.html, style.css, boot.js, spa.js,
# spa_bg.wasm (the frame and sign-in), and __wasm_split.js with one module per page and shared chunks.
#
# Needs: the wasm32-unknown-unknown target (rust-toolchain.toml lists it), wasm-bindgen-cli equal to the
# wasm-bindgen version in Cargo.lock (0.2.130), wasm-split-cli, and optionally npm binaryen's wasm-opt (>= 116). All of
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

# A RUSTFLAGS in the environment replaces the wasm32 rustflags of .cargo/config.toml: keep the two the
# split needs (see there) in that case.
if [[ -n "${RUSTFLAGS:-}" ]]; then
    export RUSTFLAGS="$RUSTFLAGS --cfg erase_components -Clink-args=--emit-relocs"
fi
echo "build-spa: cargo build (wasm-release, wasm32-unknown-unknown)" >&2
cargo build --profile wasm-release --target wasm32-unknown-unknown -p pgward-frontend

wasm="$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/pgward-frontend.wasm"
dist="frontend/dist"
rm -rf "$dist"
mkdir -p "$dist"

# Every signed-in page is a `#[wasm_split]` function (frontend/src/main.rs): wasm-split cuts each into
# a module of its own (split_<page>.wasm, plus chunk_<n>.wasm for code some pages share) and writes
# __wasm_split.js, which fetches them when a page first opens (or the app preloads them). What stays in spa_bg.wasm is the frame,
# the sign-in pages and the runtime, so the first download is small. The split needs the linker's
# relocations (.cargo/config.toml: -Clink-args=--emit-relocs for wasm32).
if ! command -v wasm-split-cli >/dev/null 2>&1; then
    echo "build-spa: wasm-split-cli not found; run scripts/deps.sh" >&2
    exit 1
fi
split="$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/split"
rm -rf "$split"
mkdir -p "$split"
wasm-split-cli "$wasm" "$split" --target web --out-name spa
mv "$split/spa.wasm" "$split/../pgward-frontend.split.wasm"
mv "$split"/* "$dist/"

# The splitter's modules import the main module's exports by their linker names: keep them.
wasm-bindgen --target web --no-typescript --keep-lld-exports --no-demangle \
    --out-dir "$dist" --out-name spa "$split/../pgward-frontend.split.wasm"

# wasm-opt: only binaryen >= 116 (npm's package ships 132); Debian's 108 breaks the module. Each
# module on its own, as cargo-leptos does: exports, imports, memory and table layout are kept.
if [[ "${PGWARD_SKIP_WASM_OPT:-0}" == "1" ]]; then
    echo "build-spa: wasm-opt skipped (PGWARD_SKIP_WASM_OPT=1)" >&2
elif wasm_opt="$(command -v wasm-opt)"; then
    opt_version="$("$wasm_opt" --version 2>/dev/null | sed -n 's/.*version \([0-9][0-9]*\).*/\1/p' | head -n1)"
    if [[ -n "$opt_version" && "$opt_version" -ge 116 ]]; then
        echo "build-spa: wasm-opt -Oz (binaryen $opt_version, $wasm_opt) on $(ls "$dist"/*.wasm | wc -l) modules" >&2
        export wasm_opt
        # shellcheck disable=SC2016
        printf '%s\0' "$dist"/*.wasm | xargs -0 -n 1 -P 2 sh -c \
            '"$wasm_opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int "$1" -o "$1.opt" && mv "$1.opt" "$1"' _
    else
        echo "build-spa: skipping wasm-opt: $wasm_opt is version '${opt_version:-?}', need npm binaryen >= 116" >&2
    fi
else
    echo "build-spa: wasm-opt not found; bundle left unoptimised" >&2
fi

cp frontend/index.html frontend/style.css frontend/boot.js "$dist/"

echo "build-spa: done: $(find "$dist" -type f | wc -l) files, $(du -sh "$dist" | cut -f1)" >&2
ls -l "$dist"/index.html "$dist"/style.css "$dist"/boot.js "$dist"/spa.js "$dist"/spa_bg.wasm "$dist"/__wasm_split.js >&2
