// Single-record operations: create, read, update, delete, exists, upsert, versions, id resolution,
// value round-trips (include/dkdata/database.hpp, DESIGN.md §1 and §3).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <regex>
#include <set>

#include "backend_context.hpp"
#include "conformance_helpers.hpp"
#include "dkdata/database.hpp"
#include "dkdata/errors.hpp"

namespace dkdata::conformance {
namespace {

class CrudTest : public BackendTest {};

bool IsUuidV4(const std::string& id) {
  static const std::regex kUuidV4(
      "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  return std::regex_match(id, kUuidV4);
}

// ---- Ids ----

TEST_P(CrudTest, CreateWithExplicitIdReturnsAndUsesIt) {
  Record record{{"name", "Ada"}};
  record.set_id("rec-1");
  EXPECT_EQ(db_->Create(record), "rec-1");
  const auto got = db_->Read("rec-1");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->id(), std::optional<std::string>("rec-1"));
  ASSERT_NE(got->Get("name"), nullptr);
  EXPECT_EQ(*got->Get("name"), Value("Ada"));
}

TEST_P(CrudTest, CreateUsesStringIdField) {
  const Record record{{"id", "from-field"}, {"x", 1}};
  EXPECT_EQ(db_->Create(record), "from-field");
  const auto got = db_->Read("from-field");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->id(), std::optional<std::string>("from-field"));
}

TEST_P(CrudTest, CreateUsesIntegerIdField) {
  // record.hpp: the id is "the explicit id, else a string or integer field id".
  const Record record{{"id", 42}, {"x", 1}};
  EXPECT_EQ(db_->Create(record), "42");
  EXPECT_TRUE(db_->Exists("42"));
}

TEST_P(CrudTest, ExplicitIdWinsOverIdField) {
  Record record{{"id", "field-id"}, {"x", 1}};
  record.set_id("explicit-id");
  EXPECT_EQ(db_->Create(record), "explicit-id");
  EXPECT_TRUE(db_->Exists("explicit-id"));
  EXPECT_FALSE(db_->Exists("field-id"));
}

TEST_P(CrudTest, CreateWithoutIdGeneratesUuidV4) {
  const Record record{{"x", 1}};
  const std::string first = db_->Create(record);
  const std::string second = db_->Create(record);
  EXPECT_TRUE(IsUuidV4(first)) << first;
  EXPECT_TRUE(IsUuidV4(second)) << second;
  EXPECT_NE(first, second);
  const auto got = db_->Read(first);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->id(), std::optional<std::string>(first));
  EXPECT_EQ(db_->Count(), 2u);
}

TEST_P(CrudTest, CreateOnExistingIdFailsWithAlreadyExistsAndKeepsTheStoredRecord) {
  db_->Create(MakeRecord("dup", {{"v", "first"}}));
  EXPECT_DKDATA_ERROR(db_->Create(MakeRecord("dup", {{"v", "second"}})), ErrorCode::kAlreadyExists);
  const auto got = db_->Read("dup");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got->Get("v"), Value("first"));
  EXPECT_EQ(got->version(), 1u);
  EXPECT_EQ(db_->Count(), 1u);
}

TEST_P(CrudTest, ErrorsNameTheBackend) {
  // errors.hpp: an Error carries the backend that raised it.
  db_->Create(MakeRecord("dup", {{"v", 1}}));
  try {
    db_->Create(MakeRecord("dup", {{"v", 2}}));
    FAIL() << "expected kAlreadyExists";
  } catch (const Error& e) {
    EXPECT_EQ(e.backend(), db_->backend_name()) << e.what();
  }
}

// ---- Read, exists, update, delete ----

TEST_P(CrudTest, ReadAbsentReturnsNullopt) {
  EXPECT_FALSE(db_->Read("nope").has_value());
  db_->Create(MakeRecord("present", {{"x", 1}}));
  EXPECT_FALSE(db_->Read("nope").has_value());
  EXPECT_FALSE(db_->Read("PRESENT").has_value()) << "ids are case-sensitive";
}

TEST_P(CrudTest, ReadReturnsIdAndVersion) {
  const std::string id = db_->Create(Record{{"x", 1}});
  const auto got = db_->Read(id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->id(), std::optional<std::string>(id));
  EXPECT_EQ(got->version(), 1u);
}

TEST_P(CrudTest, Exists) {
  EXPECT_FALSE(db_->Exists("e1"));
  db_->Create(MakeRecord("e1", {{"x", 1}}));
  EXPECT_TRUE(db_->Exists("e1"));
  EXPECT_FALSE(db_->Exists("e2"));
  db_->Delete("e1");
  EXPECT_FALSE(db_->Exists("e1"));
}

TEST_P(CrudTest, UpdateAbsentReturnsFalseAndCreatesNothing) {
  EXPECT_FALSE(db_->Update("ghost", Record{{"x", 1}}));
  EXPECT_FALSE(db_->Exists("ghost"));
  EXPECT_EQ(db_->Count(), 0u);
}

TEST_P(CrudTest, UpdateChangesTheStoredValues) {
  db_->Create(MakeRecord("u", {{"name", "old"}, {"n", 1}}));
  EXPECT_TRUE(db_->Update("u", Record{{"name", "new"}, {"n", 2}}));
  const auto got = db_->Read("u");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->id(), std::optional<std::string>("u"));
  EXPECT_EQ(*got->Get("name"), Value("new"));
  EXPECT_EQ(*got->Get("n"), Value(2));
  EXPECT_EQ(db_->Count(), 1u);
}

TEST_P(CrudTest, UpdateKeepsTheIdArgumentOverTheRecordsOwnId) {
  db_->Create(MakeRecord("target", {{"n", 1}}));
  db_->Create(MakeRecord("other", {{"n", 1}}));
  EXPECT_TRUE(db_->Update("target", MakeRecord("other", {{"n", 2}})));
  EXPECT_EQ(*db_->Read("target")->Get("n"), Value(2));
  EXPECT_EQ(*db_->Read("other")->Get("n"), Value(1));
  EXPECT_EQ(db_->Read("target")->id(), std::optional<std::string>("target"));
}

TEST_P(CrudTest, DeleteAbsentReturnsFalse) {
  EXPECT_FALSE(db_->Delete("ghost"));
  db_->Create(MakeRecord("d", {{"x", 1}}));
  EXPECT_TRUE(db_->Delete("d"));
  EXPECT_FALSE(db_->Read("d").has_value());
  EXPECT_FALSE(db_->Delete("d")) << "a second delete finds nothing";
  EXPECT_EQ(db_->Count(), 0u);
}

TEST_P(CrudTest, DeletedIdCanBeCreatedAgainAtVersionOne) {
  db_->Create(MakeRecord("again", {{"x", 1}}));
  db_->Update("again", Record{{"x", 2}});
  ASSERT_TRUE(db_->Delete("again"));
  EXPECT_EQ(db_->Create(MakeRecord("again", {{"x", 3}})), "again");
  const auto got = db_->Read("again");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got->Get("x"), Value(3));
  EXPECT_EQ(got->version(), 1u);
}

// ---- Upsert ----

TEST_P(CrudTest, UpsertCreatesThenReplaces) {
  EXPECT_EQ(db_->Upsert("up", Record{{"a", 1}, {"only_first", true}}), "up");
  auto got = db_->Read("up");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got->Get("a"), Value(1));
  EXPECT_EQ(got->version(), 1u);

  EXPECT_EQ(db_->Upsert("up", Record{{"a", 2}}), "up");
  got = db_->Read("up");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got->Get("a"), Value(2));
  EXPECT_FALSE(got->Has("only_first")) << "upsert replaces the record (database.hpp)";
  EXPECT_EQ(got->version(), 2u);
  EXPECT_EQ(db_->Count(), 1u);
}

TEST_P(CrudTest, UpsertWithoutIdArgumentUsesTheRecordsId) {
  EXPECT_EQ(db_->Upsert(MakeRecord("own", {{"a", 1}})), "own");
  EXPECT_EQ(db_->Upsert(Record{{"id", "own"}, {"a", 2}}), "own");
  EXPECT_EQ(*db_->Read("own")->Get("a"), Value(2));
  EXPECT_EQ(db_->Count(), 1u);
  const std::string generated = db_->Upsert(Record{{"a", 3}});
  EXPECT_TRUE(IsUuidV4(generated)) << generated;
  EXPECT_EQ(db_->Count(), 2u);
}

// ---- The caller's record ----

TEST_P(CrudTest, WritesDoNotMutateTheCallersRecord) {
  Record record{{"name", "Ada"}, {"tags", List{"a", "b"}}};
  const Record before = record;
  const std::string id = db_->Create(record);
  EXPECT_EQ(record, before) << "Create must not set the id or version on the caller's record";
  EXPECT_FALSE(record.id().has_value());

  db_->Update(id, record);
  db_->Upsert(id, record);
  EXPECT_EQ(record, before);

  // The store holds its own copy: changing the caller's record afterwards changes nothing stored.
  record.Set("name", "Changed");
  record.Set("extra", 1);
  const auto got = db_->Read(id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got->Get("name"), Value("Ada"));
  EXPECT_FALSE(got->Has("extra"));
}

TEST_P(CrudTest, ReadReturnsACopy) {
  db_->Create(MakeRecord("c", {{"name", "Ada"}}));
  auto first = db_->Read("c");
  ASSERT_TRUE(first.has_value());
  first->Set("name", "Changed");
  EXPECT_EQ(*db_->Read("c")->Get("name"), Value("Ada"));
  auto found = db_->Search(Query());
  ASSERT_EQ(found.size(), 1u);
  found[0].Set("name", "Changed");
  EXPECT_EQ(*db_->Read("c")->Get("name"), Value("Ada"));
}

// ---- Versions ----

TEST_P(CrudTest, VersionIsOneAfterCreateAndGrowsByOnePerWrite) {
  db_->Create(MakeRecord("v", {{"n", 0}}));
  EXPECT_EQ(db_->Read("v")->version(), 1u);
  ASSERT_TRUE(db_->Update("v", Record{{"n", 1}}));
  EXPECT_EQ(db_->Read("v")->version(), 2u);
  ASSERT_TRUE(db_->Update("v", Record{{"n", 2}}));
  EXPECT_EQ(db_->Read("v")->version(), 3u);
  db_->Upsert("v", Record{{"n", 3}});
  EXPECT_EQ(db_->Read("v")->version(), 4u);
  // Search results carry the version too.
  const auto found = db_->Search(Query());
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].version(), 4u);
}

TEST_P(CrudTest, VersionOfTheCallersRecordIsIgnoredOnWrite) {
  Record record = MakeRecord("vv", {{"n", 0}});
  record.set_version(17);
  db_->Create(record);
  EXPECT_EQ(db_->Read("vv")->version(), 1u);
  record.set_version(99);
  ASSERT_TRUE(db_->Update("vv", record));
  EXPECT_EQ(db_->Read("vv")->version(), 2u);
}

TEST_P(CrudTest, UpdateWithWrongExpectedVersionConflictsAndChangesNothing) {
  db_->Create(MakeRecord("ov", {{"n", 1}}));
  EXPECT_DKDATA_ERROR(db_->Update("ov", Record{{"n", 2}}, 2), ErrorCode::kConflict);
  EXPECT_DKDATA_ERROR(db_->Update("ov", Record{{"n", 2}}, 0), ErrorCode::kConflict);
  auto got = db_->Read("ov");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got->Get("n"), Value(1));
  EXPECT_EQ(got->version(), 1u);

  EXPECT_TRUE(db_->Update("ov", Record{{"n", 2}}, 1));
  got = db_->Read("ov");
  EXPECT_EQ(*got->Get("n"), Value(2));
  EXPECT_EQ(got->version(), 2u);
  // The old version is now stale.
  EXPECT_DKDATA_ERROR(db_->Update("ov", Record{{"n", 3}}, 1), ErrorCode::kConflict);
  EXPECT_TRUE(db_->Update("ov", Record{{"n", 3}}, 2));
  EXPECT_EQ(db_->Read("ov")->version(), 3u);
}

TEST_P(CrudTest, UpdateOfAbsentIdWithExpectedVersionConflicts) {
  // database.hpp: "for Update of an absent id with an expected_version: kConflict too".
  EXPECT_DKDATA_ERROR(db_->Update("ghost", Record{{"n", 1}}, 1), ErrorCode::kConflict);
  EXPECT_FALSE(db_->Exists("ghost"));
}

TEST_P(CrudTest, UpsertWithWrongExpectedVersionConflictsAndChangesNothing) {
  db_->Create(MakeRecord("uv", {{"n", 1}}));
  EXPECT_DKDATA_ERROR(db_->Upsert("uv", Record{{"n", 2}}, 5), ErrorCode::kConflict);
  EXPECT_EQ(*db_->Read("uv")->Get("n"), Value(1));
  EXPECT_EQ(db_->Read("uv")->version(), 1u);
  EXPECT_EQ(db_->Upsert("uv", Record{{"n", 2}}, 1), "uv");
  EXPECT_EQ(*db_->Read("uv")->Get("n"), Value(2));
  EXPECT_EQ(db_->Read("uv")->version(), 2u);
}

// ---- Non-finite numbers ----

TEST_P(CrudTest, NanFieldIsInvalidArgumentNamingTheFieldAndStoresNothing) {
  const Record record =
      MakeRecord("nan", {{"ok", 1}, {"score", std::numeric_limits<double>::quiet_NaN()}});
  try {
    db_->Create(record);
    ADD_FAILURE() << "Create with NaN must fail";
  } catch (const Error& e) {
    EXPECT_EQ(ErrorCodeName(e.code()), ErrorCodeName(ErrorCode::kInvalidArgument)) << e.what();
    EXPECT_NE(std::string(e.what()).find("score"), std::string::npos)
        << "the message names the field: " << e.what();
  }
  EXPECT_FALSE(db_->Exists("nan"));
  EXPECT_EQ(db_->Count(), 0u);
}

TEST_P(CrudTest, InfinityFieldsAreRejected) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  EXPECT_DKDATA_ERROR(db_->Create(MakeRecord("i1", {{"x", kInf}})), ErrorCode::kInvalidArgument);
  EXPECT_DKDATA_ERROR(db_->Create(MakeRecord("i2", {{"x", -kInf}})), ErrorCode::kInvalidArgument);
  EXPECT_EQ(db_->Count(), 0u);
}

TEST_P(CrudTest, NanNestedInListOrObjectIsRejected) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_DKDATA_ERROR(db_->Create(MakeRecord("n1", {{"l", List{1, nan}}})),
                      ErrorCode::kInvalidArgument);
  EXPECT_DKDATA_ERROR(db_->Create(MakeRecord("n2", {{"o", Object{{"deep", Object{{"v", nan}}}}}})),
                      ErrorCode::kInvalidArgument);
  EXPECT_EQ(db_->Count(), 0u);
}

TEST_P(CrudTest, NanInVectorIsRejected) {
  // docs/query-semantics.md: "NaN and ±infinity are never stored": a vector is float32 values.
  EXPECT_DKDATA_ERROR(db_->Create(MakeRecord(
                          "v1", {{"emb", Vector{1.0f, std::numeric_limits<float>::quiet_NaN()}}})),
                      ErrorCode::kInvalidArgument);
  EXPECT_EQ(db_->Count(), 0u);
}

TEST_P(CrudTest, NanOnUpdateAndUpsertLeavesTheRecordUnchanged) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  db_->Create(MakeRecord("keep", {{"x", 1.5}}));
  EXPECT_DKDATA_ERROR(db_->Update("keep", Record{{"x", nan}}), ErrorCode::kInvalidArgument);
  EXPECT_DKDATA_ERROR(db_->Upsert("keep", Record{{"x", nan}}), ErrorCode::kInvalidArgument);
  EXPECT_DKDATA_ERROR(db_->Upsert("fresh", Record{{"x", nan}}), ErrorCode::kInvalidArgument);
  const auto got = db_->Read("keep");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got->Get("x"), Value(1.5));
  EXPECT_EQ(got->version(), 1u);
  EXPECT_FALSE(db_->Exists("fresh"));
}

// ---- Round trips ----

// Every kind of value, with the edges each backend's storage could lose: int64 limits, floats that
// are whole numbers (must stay floats), unicode, empty strings, bytes with zeros and high bytes,
// timestamps before the epoch and with microseconds, nesting, vectors.
Record EveryKindRecord() {
  Record r;
  r.set_id("kinds");
  r.Set("null", nullptr);
  r.Set("true", true);
  r.Set("false", false);
  r.Set("zero", 0);
  r.Set("int_min", std::numeric_limits<std::int64_t>::min());
  r.Set("int_max", std::numeric_limits<std::int64_t>::max());
  r.Set("two53_plus_1", kTwoTo53 + 1);
  r.Set("float", 3.25);
  r.Set("float_whole", 2.0);
  r.Set("float_tiny", 5e-324);
  r.Set("float_huge", 1.7976931348623157e308);
  r.Set("float_neg", -0.1);
  r.Set("unicode", "héllo wörld — 日本語 😀 ﬁ");
  r.Set("empty", "");
  r.Set("quotes", "she said \"hi\" \\ 'x' \n\t end");
  r.Set("bytes", Bytes{std::string("\0a\0\xff\x80\x01", 6)});
  r.Set("empty_bytes", Bytes{});
  r.Set("ts", Timestamp{1714550400123456});  // 2024-05-01T08:00:00.123456Z
  r.Set("ts_epoch", Timestamp{0});
  r.Set("ts_before_epoch", Timestamp{-86400000001});
  r.Set("list", List{1, 2.5, "x", nullptr, true, List{}, List{List{1}}, Object{{"k", "v"}}});
  r.Set("empty_list", List{});
  r.Set("object", Object{{"z", 1}, {"a", Object{{"deep", List{1, Object{{"deeper", "yes"}}}}}}});
  r.Set("empty_object", Object{});
  r.Set("vector", Vector{1.5f, -2.25f, 0.0f, 3.4028234e38f});
  r.Set("empty_vector", Vector{});
  return r;
}

TEST_P(CrudTest, EveryValueKindRoundTrips) {
  const Record original = EveryKindRecord();
  ASSERT_EQ(db_->Create(original), "kinds");
  const auto got = db_->Read("kinds");
  ASSERT_TRUE(got.has_value());
  for (const Field& want : original.fields()) {
    SCOPED_TRACE("field " + want.name);
    const Field* have = got->FindField(want.name);
    ASSERT_NE(have, nullptr);
    EXPECT_EQ(have->value.kind(), want.value.kind())
        << ValueKindName(have->value.kind()) << " vs " << ValueKindName(want.value.kind());
    EXPECT_TRUE(have->value == want.value)
        << "stored " << DescribeValue(have->value) << "\nwanted " << DescribeValue(want.value);
    EXPECT_EQ(FieldTypeName(have->type), FieldTypeName(want.type));
  }
  EXPECT_EQ(got->size(), original.size()) << DescribeRecord(*got);
}

TEST_P(CrudTest, FieldOrderIsKept) {
  const Record original = EveryKindRecord();
  db_->Create(original);
  const auto got = db_->Read("kinds");
  ASSERT_TRUE(got.has_value());
  std::vector<std::string> want_names, have_names;
  for (const Field& f : original.fields()) want_names.push_back(f.name);
  for (const Field& f : got->fields()) have_names.push_back(f.name);
  EXPECT_EQ(have_names, want_names);
}

TEST_P(CrudTest, ObjectMemberOrderIsKept) {
  db_->Create(MakeRecord("o", {{"obj", Object{{"z", 1}, {"a", 2}, {"m", 3}}}}));
  const auto got = db_->Read("o");
  ASSERT_TRUE(got.has_value());
  const Object* obj = got->Get("obj")->Get<Object>();
  ASSERT_NE(obj, nullptr);
  std::vector<std::string> keys;
  for (const auto& [key, value] : *obj) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"z", "a", "m"}));
}

TEST_P(CrudTest, SearchReturnsRecordsEqualToRead) {
  db_->Create(EveryKindRecord());
  const auto read = db_->Read("kinds");
  const auto found = db_->Search(Query());
  ASSERT_TRUE(read.has_value());
  ASSERT_EQ(found.size(), 1u);
  EXPECT_TRUE(found[0] == *read) << DescribeRecord(found[0]) << "\nvs\n" << DescribeRecord(*read);
}

TEST_P(CrudTest, FieldTypeAndMetadataRoundTrip) {
  Record record;
  record.set_id("meta");
  record.Set(Field("when", "2024-05-01", FieldType::kString, Object{{"unit", "day"}}));
  record.Set(Field("body", "short text", FieldType::kText));
  record.metadata().Set("source", "conformance");
  record.metadata().Set("n", 3);
  db_->Create(record);
  const auto got = db_->Read("meta");
  ASSERT_TRUE(got.has_value());
  const Field* when = got->FindField("when");
  ASSERT_NE(when, nullptr);
  EXPECT_EQ(FieldTypeName(when->type), "string");
  EXPECT_EQ(when->metadata, (Object{{"unit", "day"}}));
  const Field* body = got->FindField("body");
  ASSERT_NE(body, nullptr);
  EXPECT_EQ(FieldTypeName(body->type), "text");
  EXPECT_EQ(got->metadata(), (Object{{"source", "conformance"}, {"n", 3}}));
}

TEST_P(CrudTest, ManyGeneratedIdsAreDistinct) {
  std::set<std::string> ids;
  for (int i = 0; i < 200; ++i) ids.insert(db_->Create(Record{{"i", i}}));
  EXPECT_EQ(ids.size(), 200u);
  EXPECT_EQ(db_->Count(), 200u);
}

TEST_P(CrudTest, ReadIntoReusesARecordAndEqualsRead) {
  Record big{
      {"a", 1}, {"b", "a string longer than the small buffer"}, {"c", List{1, "x", List{2}}}};
  big.set_id("big");
  big.metadata().Set("source", "test");
  big.mutable_fields()[0].metadata.Set("unit", "kg");
  Record small{{"z", Bytes{"\x01"}}};
  small.set_id("small");
  db_->Create(big);
  db_->Create(small);
  Record out;
  for (const char* id : {"big", "small", "big", "small"}) {
    ASSERT_TRUE(db_->ReadInto(id, out)) << id;
    EXPECT_EQ(out, *db_->Read(id)) << id;  // nothing left over from the previous record
  }
  const Record before = out;
  EXPECT_FALSE(db_->ReadInto("absent", out));
  EXPECT_EQ(out, before);
}

DKDATA_INSTANTIATE_CONFORMANCE_SUITE(CrudTest);

}  // namespace
}  // namespace dkdata::conformance
