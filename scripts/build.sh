#!/usr/bin/env bash
# Configures and builds one flavour of dkdata.
#   scripts/build.sh [release|asan|tsan]   (default release) → build/, build-asan/, build-tsan/
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-release}
jobs=${DKDATA_JOBS:-2}
case "$flavour" in
  release) dir=build; extra=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  asan)    dir=build-asan; extra=(-DCMAKE_BUILD_TYPE=Debug "-DDKDATA_SANITIZE=address,undefined" -DDKDATA_BUILD_BENCH=OFF) ;;
  tsan)    dir=build-tsan; extra=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DDKDATA_SANITIZE=thread -DDKDATA_BUILD_BENCH=OFF -DDKDATA_BUILD_TOOLS=OFF) ;;
  *) echo "build: unknown flavour '$flavour' (release, asan, tsan)" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" -G Ninja "${extra[@]}" >/dev/null
cmake --build "$dir" -j "$jobs"
