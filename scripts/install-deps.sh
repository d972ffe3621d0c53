#!/usr/bin/env bash
# Installs every dependency dkdata needs to build and test, idempotently.
#   scripts/install-deps.sh            C++ toolchain and libraries (apt-get), and pyarrow and DuckDB
#                                      in .venv-test (the Parquet tests use them)
#   scripts/install-deps.sh --peers    also the Python reference (dataknobs-data, with asyncpg for its
#                                      postgres backend, the elasticsearch client for its
#                                      elasticsearch ones and boto3 for its s3 one) and DuckDB in
#                                      .venv, for benchmarks
set -euo pipefail
cd "$(dirname "$0")/.."

want_peers=0
for arg in "$@"; do
  case "$arg" in
    --peers) want_peers=1 ;;
    *) echo "install-deps: unknown option '$arg'" >&2; exit 2 ;;
  esac
done

apt_packages=(
  build-essential cmake ninja-build pkg-config git
  libsimdjson-dev libfmt-dev libcli11-dev libyaml-cpp-dev
  libsqlite3-dev zlib1g-dev libzstd-dev libcurl4-openssl-dev libpugixml-dev libssl-dev
  libsnappy-dev liblz4-dev
  postgresql libpq-dev
  default-jre-headless maven unzip curl
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-format clang-tidy
  clang-14 libclang-rt-14-dev  # libFuzzer and the sanitizer runtimes: scripts/fuzz.sh
  python3 python3-venv
)

missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# pyarrow and DuckDB write the Parquet files the tests read and read the files dkdata writes
# (tests/parquet/): the test suite needs them, with or without --peers. They live in .venv-test,
# apart from the peers' .venv, whose absence tells the benchmarks and interop tests that the
# reference is not installed.
if [ ! -x .venv-test/bin/python ]; then
  /usr/bin/python3 -m venv .venv-test
fi
if ! .venv-test/bin/python -c 'import pyarrow, duckdb' 2>/dev/null; then
  # The versions tests/parquet/make_fixtures.py's findings were made with (docs/research/parquet.md).
  .venv-test/bin/pip install -q --disable-pip-version-check --only-binary=:all: 'numpy<2.3' \
    'pyarrow==21.0.0' 'duckdb==2.0.1'
fi

if [ "$want_peers" = 1 ]; then
  # The Python reference implementation, a benchmark peer. It declares Python >= 3.12 but runs on 3.11.
  if [ ! -x .venv/bin/python ]; then
    /usr/bin/python3 -m venv .venv
  fi
  if ! .venv/bin/python -c 'from dataknobs_data.backends.memory import SyncMemoryDatabase' 2>/dev/null; then
    # --ignore-requires-python would otherwise pick numpy/pandas releases that only build on 3.12+:
    # install the last lines that ship wheels for the machine's Python 3.11 first, and never let the
    # second step build them from source.
    pip_quiet=(-q --disable-pip-version-check)
    .venv/bin/pip install "${pip_quiet[@]}" --only-binary=:all: 'numpy<2.3' 'pandas<2.4' 'pyarrow<22'
    .venv/bin/pip install "${pip_quiet[@]}" --ignore-requires-python --prefer-binary \
      --only-binary=numpy,pandas,pyarrow dataknobs-data
  fi
  # asyncpg: the reference's postgres backend imports it (even for its psycopg2 class), and
  # bench/peers/postgres_reference.py runs its asyncpg class. Not the extra dataknobs-data[postgres]:
  # that one builds psycopg2 from source and adds sqlalchemy, neither of which the backend needs.
  if ! .venv/bin/python -c 'import asyncpg' 2>/dev/null; then
    .venv/bin/pip install -q --disable-pip-version-check --only-binary=:all: asyncpg
  fi
  # The elasticsearch client (8.x, with aiohttp): the reference's elasticsearch backends import it,
  # and bench/peers/elasticsearch_reference.py runs both of its classes. What the extra
  # dataknobs-data[elasticsearch] asks for, pinned to the line the peer was measured with.
  if ! .venv/bin/python -c 'import elasticsearch, aiohttp' 2>/dev/null; then
    .venv/bin/pip install -q --disable-pip-version-check --prefer-binary 'elasticsearch[async]>=8.19,<8.20'
  fi
  # boto3: the reference's s3 backend (SyncS3Database) imports it, and bench/peers/s3_reference.py
  # runs that class. What the extra dataknobs-data[s3] asks for (without aioboto3: the async class
  # is not run), pinned to the line the peer was measured with.
  if ! .venv/bin/python -c 'import boto3' 2>/dev/null; then
    .venv/bin/pip install -q --disable-pip-version-check --prefer-binary 'boto3>=1.44,<1.45'
  fi
  # DuckDB: a benchmark peer for the file backend (read_json, read_csv) and, later, Parquet.
  if ! .venv/bin/python -c 'import duckdb' 2>/dev/null; then
    .venv/bin/pip install -q --disable-pip-version-check --only-binary=:all: 'duckdb<3'
  fi
fi
echo "install-deps: done"
