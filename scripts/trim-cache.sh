#!/usr/bin/env bash
# Keeps the build cache (CARGO_TARGET_DIR, outside the clone) from filling the disk. CI machines keep
# ~/.cache between runs, but not always much disk around it: one CI run failed with "No space left on device"
# while compiling. The test command builds without incremental state (CARGO_INCREMENTAL=0), so whatever
# incremental state is left is dead weight; and when the cache has grown past PGWARD_CACHE_MAX_GB, or the disk
# has less than PGWARD_MIN_FREE_GB free while the cache holds 4 GB or more, the build artefacts are started over (a slower build, never a
# different result: the cache holds only what cargo rebuilds from source).
set -euo pipefail

target="${1:?usage: trim-cache.sh CARGO_TARGET_DIR}"
max_gb="${PGWARD_CACHE_MAX_GB:-12}"
min_free_gb="${PGWARD_MIN_FREE_GB:-15}"

free_gb() { df -Pk "$1" | awk 'NR == 2 { printf "%d", $4 / 1048576 }'; }

mkdir -p "$target"
find "$target" -maxdepth 3 -type d -name incremental -prune -exec rm -rf {} + 2>/dev/null || true
# du exits 1 when a file vanishes under it; its total is still right for this purpose.
size_gb="$({ du -sk "$target" 2>/dev/null || true; } | awk '{ printf "%d", $1 / 1048576 }')"
free="$(free_gb "$target")"
echo "trim-cache: $target holds ${size_gb} GB; ${free} GB free on its disk"
# Low disk with a small cache: starting over would free little and cost a whole build every run.
if [ "$size_gb" -gt "$max_gb" ] || { [ "$free" -lt "$min_free_gb" ] && [ "$size_gb" -ge 4 ]; }; then
  echo "trim-cache: starting the build cache over (over ${max_gb} GB, or under ${min_free_gb} GB free)"
  rm -rf "${target:?}"/debug "${target:?}"/release "${target:?}"/wasm-release "${target:?}"/wasm32-unknown-unknown
  echo "trim-cache: now $({ du -sh "$target" 2>/dev/null || true; } | cut -f1); $(free_gb "$target") GB free"
fi
