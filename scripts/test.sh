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
# The server scripts' own tests (no dkdata code in them) ran with the release build.
# The differential test checks a twentieth of its queries here (the release run checks them all).
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  DKDATA_DIFF_QUERIES_PERCENT=5 \
  ctest --output-on-failure -j "$jobs" -E '^(postgres|elasticsearch|s3)_server$')

echo "== fuzzing the Parquet reader (libFuzzer, ASan+UBSan; 30 s here, scripts/fuzz.sh 3600 for a long run)"
bash scripts/fuzz.sh 30

echo "== TSan build (concurrency tests, and the scans and loads that use several threads)"
bash scripts/build.sh tsan
(cd build-tsan && TSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure -j "$jobs" \
  -R 'Concurren|FileStoreTest.Threads|CsvPartsTest|PostgresPoolTest|TransactionTest.*postgres|HttpClientTest|ElasticsearchServerTest.Concurrent|S3ServerTest.Concurrent|S3ServerTest.ListingsOfManyPages|ParquetRecordsTest|ParquetInteropTest.Threads')
