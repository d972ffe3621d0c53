// tests/lib/parquet_test_support.hpp: where the Parquet interoperability fixtures are
// (tests/parquet/fixtures.sh: files written by pyarrow and DuckDB with their expected values).
#pragma once

#include <filesystem>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "dkdata/errors.hpp"
#include "dkdata/record.hpp"

namespace dkdata::testsupport {

// The folder holding the fixtures: $DKDATA_PARQUET_FIXTURES (the ctest fixture's), else a folder
// under the temp dir that this process fills once by running tests/parquet/fixtures.sh. Empty when
// they cannot be had (no pyarrow/DuckDB); under CI=true that fails the calling test instead.
std::filesystem::path ParquetFixtureDir();
// Why ParquetFixtureDir() is empty, and how to enable the tests.
std::string ParquetFixtureSkipReason();
// A Python with pyarrow and duckdb: $DKDATA_PEERS_PYTHON, the tests' .venv-test
// (scripts/install-deps.sh) or the peers' .venv; "" when there is none.
std::string PeersPython();

// Runs fn, expecting Error(code) whose message contains every one of parts (a gtest failure
// otherwise).
void ExpectError(const std::function<void()>& fn, ErrorCode code,
                 std::initializer_list<std::string_view> parts);
// Expects got to be want exactly: ids, versions, record and field metadata, field types and
// values (a NaN equal to a NaN), fields compared by name in any order.
void ExpectSameRecords(const std::vector<Record>& got, const std::vector<Record>& want);
// The bytes 0x00..0xff given as ints: Bytes({0x15, 0x04}).
std::string Bytes(std::initializer_list<int> bytes);

}  // namespace dkdata::testsupport
