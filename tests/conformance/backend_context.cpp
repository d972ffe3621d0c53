#include "backend_context.hpp"

#include <string_view>

namespace dkdata::conformance {

namespace {

// "CrudTest.ReadAbsent" for the running case "Backends/CrudTest.ReadAbsent/memory".
std::string CurrentCaseKey() {
  const testing::TestInfo* info = testing::UnitTest::GetInstance()->current_test_info();
  if (info == nullptr) return {};
  std::string_view suite = info->test_suite_name();
  std::string_view name = info->name();
  if (const auto slash = suite.rfind('/'); slash != std::string_view::npos) {
    suite.remove_prefix(slash + 1);
  }
  if (const auto slash = name.find('/'); slash != std::string_view::npos) {
    name = name.substr(0, slash);
  }
  return std::string(suite) + "." + std::string(name);
}

}  // namespace

void BackendTest::SetUp() {
  const BackendContext& ctx = context();
  if (ctx.unavailable_reason) {
    const std::string reason = ctx.unavailable_reason();
    if (!reason.empty()) GTEST_SKIP() << "backend " << ctx.name << " unavailable: " << reason;
  }
  if (const auto gap = ctx.quirks.known_gaps.find(CurrentCaseKey());
      gap != ctx.quirks.known_gaps.end()) {
    GTEST_SKIP() << "backend " << ctx.name << " known gap: " << gap->second;
  }
  ASSERT_TRUE(ctx.open_empty) << "backend " << ctx.name << " has no open_empty";
  db_ = ctx.open_empty();
  ASSERT_NE(db_, nullptr) << "open_empty of backend " << ctx.name << " returned null";
  ASSERT_EQ(db_->Count(), 0u) << "open_empty of backend " << ctx.name
                              << " must give an empty store";
}

void BackendTest::TearDown() {
  if (db_ != nullptr) {
    try {
      db_->Close();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "Close() threw: " << e.what();
    }
    db_.reset();
  }
  if (context().teardown) context().teardown();
}

void BackendTest::Load(const std::vector<Record>& records) {
  for (const Record& record : records) {
    const std::string id = db_->Create(record);
    if (const auto expected = record.ResolveId()) {
      ASSERT_EQ(id, *expected) << "Create must store a record under its resolved id";
    }
    loaded_ids_.push_back(id);
  }
}

}  // namespace dkdata::conformance
