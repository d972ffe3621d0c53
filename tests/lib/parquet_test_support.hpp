// tests/lib/parquet_test_support.hpp: where the Parquet interoperability fixtures are
// (tests/parquet/fixtures.sh: files written by pyarrow and DuckDB with their expected values).
#pragma once

#include <filesystem>
#include <string>

namespace dkdata::testsupport {

// The folder holding the fixtures: $DKDATA_PARQUET_FIXTURES (the ctest fixture's), else a folder
// under the temp dir that this process fills once by running tests/parquet/fixtures.sh. Empty when
// they cannot be had (no pyarrow/DuckDB); under CI=true that fails the calling test instead.
std::filesystem::path ParquetFixtureDir();
// Why ParquetFixtureDir() is empty, and how to enable the tests.
std::string ParquetFixtureSkipReason();
// The peers' Python (with pyarrow and duckdb), or "" when there is none.
std::string PeersPython();

}  // namespace dkdata::testsupport
