#!/usr/bin/env bash
# Builds dkdata and runs every test: the release build (unit, conformance, command line, a short
# benchmark smoke run), then the whole suite again under ASan+UBSan and the concurrency tests under
# TSan. Exits non-zero on the first failure.
#   scripts/test.sh            everything
#   scripts/test.sh --fast     the release build only
set -euo pipefail
cd "$(dirname "$0")/.."
fast=0
[ "${1:-}" = "--fast" ] && fast=1
jobs=${DKDATA_JOBS:-2}

echo "== formatting (.clang-format)"
git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run --Werror

echo "== release build"
bash scripts/build.sh release
(cd build && ctest --output-on-failure -j "$jobs")

echo "== benchmark smoke run (full runs: see bench/README.md)"
build/bench/dkdata_memory_bench --quick --no-reference
build/bench/dkdata_json_bench --benchmark_min_time=0.01 >/dev/null
build/bench/dkdata_file_bench --quick --no-peers
build/bench/dkdata_parquet_bench --quick
build/bench/dkdata_sqlite_bench --quick
if [ -x build/bench/dkdata_postgres_bench ]; then
  build/bench/dkdata_postgres_bench --quick  # starts and stops a private server of its own
fi
if [ -x build/bench/dkdata_es_bench ]; then
  build/bench/dkdata_es_bench --quick  # starts and stops a private node of its own
fi
if [ -x build/bench/dkdata_s3_bench ]; then
  build/bench/dkdata_s3_bench --quick  # starts and stops a private S3 server (moto) of its own
fi

[ "$fast" = 1 ] && exit 0

echo "== ASan+UBSan build"
bash scripts/build.sh asan
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
# The differential test checks a twentieth of its queries here (the release run checks them all).
export DKDATA_DIFF_QUERIES_PERCENT=5
# The conformance cases of the backends that need no server (memory, file_*, sqlite_*) run here in
# two processes instead of one per case: an ASan process takes about 0.2 s to start, which made
# their 2 600 cases cost 5 of CI's minutes. The server scripts' own tests (no dkdata code in them)
# ran with the release build.
serverless_cases='^Backends/.*/(memory|file_[a-z_]+|sqlite_[a-z]+)( |$)'
(cd build-asan && ctest --output-on-failure -j "$jobs" \
  -E "^(postgres|elasticsearch|s3)_server\$|$serverless_cases")
conformance_part() {  # $1: gtest filter; runs those cases in one process, its output kept in $2
  (cd build-asan/tests && ./dkdata_conformance_tests --gtest_filter="$1" --gtest_brief=1) >"$2" 2>&1 ||
    { tail -n 200 "$2"; echo "FAILED: conformance cases $1 under ASan+UBSan (output: $2)"; return 1; }
  grep -h '^\[  PASSED  \]\|^\[  SKIPPED \] [0-9]' "$2" | sed "s|^|$1: |"
}
conformance_part 'Backends/*/memory:Backends/*/sqlite_*:Backends/*/file_json*' "$PWD/build-asan/conformance-a.log" &
part_a=$!
conformance_part 'Backends/*/file_csv*:Backends/*/file_tsv*:Backends/*/file_parquet' "$PWD/build-asan/conformance-b.log" &
part_b=$!
failed=0
wait $part_a || failed=1
wait $part_b || failed=1
[ "$failed" = 0 ]

echo "== fuzzing the Parquet reader (libFuzzer, ASan+UBSan; 30 s here, scripts/fuzz.sh 3600 for a long run)"
bash scripts/fuzz.sh 30

echo "== TSan build (concurrency tests, and the scans and loads that use several threads)"
bash scripts/build.sh tsan
(cd build-tsan && TSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure -j "$jobs" \
  -R 'Concurren|FileStoreTest.Threads|CsvPartsTest|PostgresPoolTest|TransactionTest.*postgres|HttpClientTest|ElasticsearchServerTest.Concurrent|S3ServerTest.Concurrent|S3ServerTest.ListingsOfManyPages|ParquetRecordsTest|ParquetInteropTest.Threads')
