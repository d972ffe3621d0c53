#!/usr/bin/env bash
# Builds the dkdata command line and runs the README's main job: import the bundled sample data
# into the embedded default store and query it.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDKDATA_BUILD_TESTS=OFF -DDKDATA_BUILD_BENCH=OFF >/dev/null
cmake --build build -j "${DKDATA_JOBS:-2}" --target dkdata_cli
bash examples/demo.sh build/tools/dkdata/dkdata
