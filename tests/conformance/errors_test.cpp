// Errors at the public API: a closed database, malformed filters, malformed query text
// (include/dkdata/database.hpp, docs/query-semantics.md "Errors").
#include "dkdata/errors.hpp"

#include <gtest/gtest.h>

#include "backend_context.hpp"
#include "conformance_helpers.hpp"
#include "dkdata/database.hpp"
#include "dkdata/query.hpp"

namespace dkdata::conformance {
namespace {

class ErrorsTest : public BackendTest {};

TEST_P(ErrorsTest, EveryCallAfterCloseIsUnavailable) {
  db_->Create(MakeRecord("r1", {{"n", 1}}));
  db_->Close();
  EXPECT_NO_THROW(db_->Close()) << "Close is idempotent";
  const auto unavailable = ErrorCode::kUnavailable;
  EXPECT_DKDATA_ERROR(db_->Create(MakeRecord("r2", {{"n", 2}})), unavailable);
  EXPECT_DKDATA_ERROR(db_->Read("r1"), unavailable);
  EXPECT_DKDATA_ERROR(db_->Update("r1", Record{{"n", 3}}), unavailable);
  EXPECT_DKDATA_ERROR(db_->Delete("r1"), unavailable);
  EXPECT_DKDATA_ERROR(db_->Exists("r1"), unavailable);
  EXPECT_DKDATA_ERROR(db_->Upsert("r1", Record{{"n", 4}}), unavailable);
  EXPECT_DKDATA_ERROR(db_->CreateBatch({MakeRecord("r3", {{"n", 1}})}), unavailable);
  EXPECT_DKDATA_ERROR(db_->ReadBatch({"r1"}), unavailable);
  EXPECT_DKDATA_ERROR(db_->UpdateBatch({{"r1", Record{{"n", 5}}}}), unavailable);
  EXPECT_DKDATA_ERROR(db_->DeleteBatch({"r1"}), unavailable);
  EXPECT_DKDATA_ERROR(db_->Search(Query()), unavailable);
  EXPECT_DKDATA_ERROR(db_->Count(), unavailable);
  EXPECT_DKDATA_ERROR(db_->All(), unavailable);
  EXPECT_DKDATA_ERROR(db_->Clear(), unavailable);
  EXPECT_DKDATA_ERROR(
      {
        auto cursor = db_->StreamRead(Query());
        std::vector<Record> batch;
        if (cursor != nullptr) cursor->NextBatch(batch);
      },
      unavailable);
  EXPECT_DKDATA_ERROR(db_->StreamWrite([]() -> std::optional<Record> {
    return MakeRecord("r4", {{"n", 1}});
  }),
                      unavailable);
  if (db_->capabilities().secondary_indexes) {
    EXPECT_DKDATA_ERROR(db_->CreateIndex(IndexInfo{"n", IndexKind::kHash}), unavailable);
    EXPECT_DKDATA_ERROR(db_->DropIndex("n"), unavailable);
  }
}

TEST_P(ErrorsTest, ErrorsOnAClosedDatabaseNameTheBackend) {
  db_->Close();
  try {
    db_->Read("x");
    FAIL() << "expected kUnavailable";
  } catch (const Error& e) {
    EXPECT_EQ(e.backend(), db_->backend_name()) << e.what();
  }
}

// ---- Malformed filters: core rules, checked once ----

TEST(FilterValidation, InAndNotInNeedAList) {
  EXPECT_DKDATA_ERROR(Where("x", Op::kIn, 5), ErrorCode::kInvalidArgument);
  EXPECT_DKDATA_ERROR(Where("x", Op::kIn, "a,b"), ErrorCode::kInvalidArgument);
  EXPECT_DKDATA_ERROR(Where("x", Op::kIn, nullptr), ErrorCode::kInvalidArgument);
  EXPECT_DKDATA_ERROR(Where("x", Op::kNotIn, 5), ErrorCode::kInvalidArgument);
  EXPECT_DKDATA_ERROR(Query().Filter("x", Op::kIn, 5), ErrorCode::kInvalidArgument);
  EXPECT_NO_THROW(Where("x", Op::kIn, List{}));
  EXPECT_NO_THROW(Where("x", Op::kIn, List{1, "a"}));
}

TEST(FilterValidation, BetweenNeedsAListOfExactlyTwo) {
  EXPECT_DKDATA_ERROR(Where("x", Op::kBetween, List{1}), ErrorCode::kInvalidArgument);
  EXPECT_DKDATA_ERROR(Where("x", Op::kBetween, List{}), ErrorCode::kInvalidArgument);
  EXPECT_DKDATA_ERROR(Where("x", Op::kBetween, List{1, 2, 3}), ErrorCode::kInvalidArgument);
  EXPECT_DKDATA_ERROR(Where("x", Op::kBetween, 1), ErrorCode::kInvalidArgument);
  EXPECT_DKDATA_ERROR(Where("x", Op::kNotBetween, List{1}), ErrorCode::kInvalidArgument);
  EXPECT_DKDATA_ERROR(Query().Filter("x", Op::kNotBetween, 1), ErrorCode::kInvalidArgument);
  EXPECT_NO_THROW(Where("x", Op::kBetween, List{1, 2}));
}

TEST(FilterValidation, PatternOperatorsNeedAString) {
  for (const Op op :
       {Op::kLike, Op::kNotLike, Op::kILike, Op::kNotILike, Op::kStartsWith, Op::kRegex}) {
    SCOPED_TRACE(std::string(OpName(op)));
    EXPECT_DKDATA_ERROR(Where("x", op, 5), ErrorCode::kInvalidArgument);
    EXPECT_DKDATA_ERROR(Where("x", op, nullptr), ErrorCode::kInvalidArgument);
    EXPECT_DKDATA_ERROR(Where("x", op, List{"a"}), ErrorCode::kInvalidArgument);
    EXPECT_NO_THROW(Where("x", op, "a"));
  }
}

TEST(QueryText, SyntaxErrorsAreInvalidArgumentNamingTheColumn) {
  for (const char* text : {"age >= ", "age >= 25 and", "(age >= 25", "age >= 25)", "= 5",
                           "age >== 5", "a foo 1", "name = 'unterminated"}) {
    SCOPED_TRACE(text);
    try {
      Query::Parse(text);
      ADD_FAILURE() << "Query::Parse accepted it";
    } catch (const Error& e) {
      EXPECT_EQ(ErrorCodeName(e.code()), ErrorCodeName(ErrorCode::kInvalidArgument)) << e.what();
      EXPECT_NE(std::string(e.what()).find("column"), std::string::npos)
          << "the message names the column: " << e.what();
    }
  }
}

DKDATA_INSTANTIATE_CONFORMANCE_SUITE(ErrorsTest);

}  // namespace
}  // namespace dkdata::conformance
