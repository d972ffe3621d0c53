// tests/lib/parquet_test_support.cpp: see parquet_test_support.hpp.
#include "parquet_test_support.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "dkdata/json.hpp"

namespace dkdata::testsupport {
namespace {

namespace fs = std::filesystem;

bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

struct FixtureState {
  std::once_flag once;
  fs::path dir;
  std::string why;
};

FixtureState& State() {
  static FixtureState state;
  return state;
}

void Locate(FixtureState& state) {
  if (const char* given = std::getenv("DKDATA_PARQUET_FIXTURES"); given && *given) {
    if (fs::exists(fs::path(given) / "manifest.json")) {
      state.dir = given;
    } else {
      state.why = std::string("the parquet_fixtures ctest fixture wrote nothing to ") + given +
                  " (no pyarrow/DuckDB: run bash scripts/install-deps.sh)";
    }
    return;
  }
  const fs::path dir = fs::temp_directory_path() / "dkdata-parquet-fixtures";
  const std::string command = std::string("bash '") + DKDATA_SOURCE_DIR +
                              "/tests/parquet/fixtures.sh' '" + dir.string() + "' >/dev/null";
  if (std::system(command.c_str()) != 0 || !fs::exists(dir / "manifest.json")) {
    state.why =
        "tests/parquet/fixtures.sh could not write the fixtures (needs pyarrow and "
        "DuckDB: run bash scripts/install-deps.sh)";
    return;
  }
  state.dir = dir;
}

}  // namespace

fs::path ParquetFixtureDir() {
  FixtureState& state = State();
  std::call_once(state.once, [&] { Locate(state); });
  if (state.dir.empty() && InCi()) {
    ADD_FAILURE() << "Parquet fixtures are required under CI=true: " << state.why;
  }
  return state.dir;
}

std::string ParquetFixtureSkipReason() {
  return State().why;
}

std::string PeersPython() {
  std::vector<std::string> candidates;
  if (const char* given = std::getenv("DKDATA_PEERS_PYTHON"); given && *given) {
    candidates.push_back(given);
  }
  candidates.push_back(std::string(DKDATA_SOURCE_DIR) + "/.venv-test/bin/python");
  candidates.push_back(std::string(DKDATA_SOURCE_DIR) + "/.venv/bin/python");
  for (const std::string& python : candidates) {
    const std::string probe = "'" + python + "' -c 'import pyarrow, duckdb' >/dev/null 2>&1";
    if (std::system(probe.c_str()) == 0) return python;
  }
  return "";
}

void ExpectError(const std::function<void()>& fn, ErrorCode code,
                 std::initializer_list<std::string_view> parts) {
  try {
    fn();
    ADD_FAILURE() << "no error; expected one containing '" << *parts.begin() << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    for (std::string_view part : parts) {
      EXPECT_NE(std::string_view(e.what()).find(part), std::string_view::npos)
          << "message '" << e.what() << "' lacks '" << part << "'";
    }
  }
}

std::string Bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

void ExpectSameRecords(const std::vector<Record>& got, const std::vector<Record>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    const Record& w = want[i];
    const Record& g = got[i];
    EXPECT_EQ(g.id(), w.id()) << "record " << i;
    EXPECT_EQ(g.version(), w.version()) << "record " << i;
    EXPECT_EQ(g.metadata(), w.metadata()) << "record " << i;
    ASSERT_EQ(g.size(), w.size()) << "record " << i << ": " << RecordToJson(g);
    for (const Field& field : w.fields()) {
      const Field* read = g.FindField(field.name);
      ASSERT_NE(read, nullptr) << "record " << i << " lost " << field.name;
      EXPECT_EQ(read->type, field.type) << "record " << i << ", " << field.name;
      EXPECT_EQ(read->metadata, field.metadata) << "record " << i << ", " << field.name;
      const double* d = field.value.Get<double>();
      if (d && std::isnan(*d)) {
        ASSERT_TRUE(read->value.Get<double>()) << field.name;
        EXPECT_TRUE(std::isnan(*read->value.Get<double>()));
      } else {
        EXPECT_EQ(read->value, field.value)
            << "record " << i << ", " << field.name << ": " << read->value.ToDisplayString();
      }
    }
  }
}

}  // namespace dkdata::testsupport
