#!/usr/bin/env bash
# Builds the Parquet reader's libFuzzer target (tests/fuzz/) with Clang, ASan and UBSan in
# build-fuzz/, seeds its corpus and runs it.
#
#   scripts/fuzz.sh [SECONDS]     fuzz for SECONDS (default 30; CI's short run); 3600 for the long
#                                 opt-in run. Exits non-zero when the fuzzer finds something.
#
# Needs clang-14 and libclang-rt-14-dev (scripts/install-deps.sh). The corpus (build-fuzz/corpus)
# is kept between runs, so that every run starts where the last one stopped; findings are saved in
# build-fuzz/crashes/ (tests/fuzz/README.md says how to reproduce one). FUZZ_JOBS=N runs N fuzzer
# processes at once (default 1); further arguments after SECONDS go to libFuzzer.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-30}
[[ $seconds =~ ^[0-9]+$ ]] || { echo "fuzz.sh: SECONDS must be a number, not '$seconds'" >&2; exit 2; }
shift || true
build=build-fuzz
cc=${FUZZ_CC:-clang-14}
cxx=${FUZZ_CXX:-clang++-14}

if [[ ! -f $build/build.ninja ]]; then
  # Only what the target needs: no tests, benchmarks, tools or server backends.
  CC=$cc CXX=$cxx cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DDKDATA_BUILD_FUZZ=ON -DDKDATA_BUILD_TESTS=OFF -DDKDATA_BUILD_BENCH=OFF \
    -DDKDATA_BUILD_TOOLS=OFF -DDKDATA_BACKEND_SQLITE=OFF -DDKDATA_BACKEND_POSTGRES=OFF \
    -DDKDATA_BACKEND_ELASTICSEARCH=OFF -DDKDATA_BACKEND_S3=OFF >/dev/null
fi
cmake --build "$build" -j2 --target dkdata_parquet_fuzz

corpus=$build/corpus
crashes=$build/crashes
mkdir -p "$corpus" "$crashes"
max_len=65536
shopt -s nullglob
# Seeds: the committed files and, when tests/parquet/fixtures.sh has made them, the interop
# fixtures small enough to fit in max_len whole (libFuzzer cuts longer inputs, and a Parquet file
# cut short is only a bad footer).
for seed in tests/parquet/data/*.parquet tests/fuzz/seeds/*.parquet build/tests/parquet-fixtures/*.parquet; do
  if [[ $(stat -c %s "$seed") -le $max_len ]]; then cp -n "$seed" "$corpus/seed-$(basename "$seed")"; fi
done

# -malloc_limit_mb: a single allocation above it is a finding (one sized by untrusted input without
# a bound); the reader's own bound, kMaxPageBytes, is 1 GiB. -rss_limit_mb: the process in total.
options=(
  -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -malloc_limit_mb=1200
  -max_len=$max_len -dict=tests/fuzz/parquet.dict -artifact_prefix="$crashes/" -print_final_stats=1
)
jobs=${FUZZ_JOBS:-1}
if [[ $jobs -gt 1 ]]; then options+=(-fork="$jobs" -ignore_crashes=0); fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "fuzz.sh: fuzzing the Parquet reader for ${seconds}s (corpus $corpus, findings in $crashes)"
"$build/tests/fuzz/dkdata_parquet_fuzz" "${options[@]}" "$@" "$corpus"
