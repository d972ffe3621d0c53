#!/usr/bin/env bash
# Checks formatting (.clang-format) and runs clang-tidy (.clang-tidy) over the library sources.
#   scripts/lint.sh          check
#   scripts/lint.sh --fix    reformat in place
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.hpp')
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
  exit 0
fi
clang-format --dry-run --Werror "${files[@]}"
[ -f build/compile_commands.json ] || bash scripts/build.sh release
mapfile -t sources < <(git ls-files 'src/*.cpp')
clang-tidy -p build --quiet "${sources[@]}"
