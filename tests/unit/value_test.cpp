#include "dkdata/value.hpp"

#include <gtest/gtest.h>

#include "dkdata/errors.hpp"
#include "dkdata/record.hpp"

namespace dkdata {
namespace {

TEST(TimestampTest, ParsesIsoFormsAndNormalisesToUtc) {
  EXPECT_EQ(Timestamp::Parse("1970-01-01")->micros, 0);
  EXPECT_EQ(Timestamp::Parse("1970-01-01T00:00:01Z")->micros, 1000000);
  EXPECT_EQ(Timestamp::Parse("1970-01-01T02:00:00+02:00")->micros, 0);
  EXPECT_EQ(Timestamp::Parse("1970-01-01 00:00:00.5")->micros, 500000);
  EXPECT_EQ(Timestamp::Parse("1970-01-01T00:00:00.1234567Z")->micros, 123456);
  EXPECT_EQ(Timestamp::Parse("1969-12-31T23:59:59Z")->micros, -1000000);
  EXPECT_EQ(Timestamp::Parse("2024-02-29T12:00:00-0130")->ToIso(), "2024-02-29T13:30:00Z");
}

TEST(TimestampTest, RejectsWhatIsNotADate) {
  for (const char* bad : {"", "2024", "2024-13-01", "2023-02-29", "2024-01-01T25:00", "abc",
                          "2024-01-01T10:00:00Zjunk", "2024-01-01T10:00:00.", "2024-1-01"}) {
    EXPECT_FALSE(Timestamp::Parse(bad).has_value()) << bad;
  }
}

TEST(TimestampTest, IsoRoundTripsIncludingMicrosAndPre1970) {
  for (std::int64_t micros : {0LL, 1LL, -1LL, 1714550400123456LL, -62135596800000000LL}) {
    const Timestamp t{micros};
    EXPECT_EQ(Timestamp::Parse(t.ToIso())->micros, micros) << t.ToIso();
  }
  EXPECT_EQ(Timestamp{-1}.ToIso(), "1969-12-31T23:59:59.999999Z");
}

TEST(ValueTest, FindPathWalksObjectsAndLists) {
  const Value v = Object{{"address", Object{{"city", "SF"}}}, {"tags", List{"a", "b"}}};
  EXPECT_EQ(*v.FindPath("address.city"), Value("SF"));
  EXPECT_EQ(*v.FindPath("tags.1"), Value("b"));
  EXPECT_EQ(v.FindPath("tags.2"), nullptr);
  EXPECT_EQ(v.FindPath("tags.x"), nullptr);
  EXPECT_EQ(v.FindPath("address.city.more"), nullptr);
}

TEST(ValueTest, CheckedAccessNamesBothKinds) {
  try {
    Value("x").AsInt();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_STREQ(e.what(), "expected a int value, found string");
  }
}

TEST(FieldTypeTest, DetectionFollowsTheReference) {
  EXPECT_EQ(DetectFieldType(Value(true)), FieldType::kBoolean);
  EXPECT_EQ(DetectFieldType(Value(3)), FieldType::kInteger);
  EXPECT_EQ(DetectFieldType(Value(3.5)), FieldType::kFloat);
  EXPECT_EQ(DetectFieldType(Value(std::string(1000, 'a'))), FieldType::kString);
  EXPECT_EQ(DetectFieldType(Value(std::string(1001, 'a'))), FieldType::kText);
  EXPECT_EQ(DetectFieldType(Value(List{})), FieldType::kJson);
  EXPECT_EQ(DetectFieldType(Value(Object{})), FieldType::kJson);
  EXPECT_EQ(DetectFieldType(Value(Bytes{"x"})), FieldType::kBinary);
  EXPECT_EQ(DetectFieldType(Value(Timestamp{})), FieldType::kDatetime);
  EXPECT_EQ(DetectFieldType(Value(Vector{1.f})), FieldType::kVector);
  EXPECT_EQ(ParseFieldType("SPARSE_VECTOR"), FieldType::kSparseVector);
  EXPECT_FALSE(ParseFieldType("decimal").has_value());
}

TEST(ConvertTest, ReferencePairsAndTheMissingOnes) {
  EXPECT_EQ(ConvertValue(Value("42"), FieldType::kInteger), Value(42));
  EXPECT_EQ(ConvertValue(Value(42), FieldType::kString), Value("42"));
  EXPECT_EQ(ConvertValue(Value(4.0), FieldType::kInteger), Value(4));
  EXPECT_EQ(ConvertValue(Value(4), FieldType::kFloat), Value(4.0));
  EXPECT_EQ(ConvertValue(Value("yes"), FieldType::kBoolean), Value(true));
  EXPECT_EQ(ConvertValue(Value(true), FieldType::kString), Value("true"));
  // datetime <-> ISO-8601 string
  const Value t = ConvertValue(Value("2024-05-01T10:00:00+02:00"), FieldType::kDatetime);
  EXPECT_EQ(t.AsTimestamp().ToIso(), "2024-05-01T08:00:00Z");
  EXPECT_EQ(ConvertValue(t, FieldType::kString), Value("2024-05-01T08:00:00Z"));
  // bytes <-> base64
  EXPECT_EQ(ConvertValue(Value(Bytes{std::string("\0\xff", 2)}), FieldType::kString),
            Value("AP8="));
  EXPECT_EQ(ConvertValue(Value("AP8="), FieldType::kBinary),
            Value(Bytes{std::string("\0\xff", 2)}));
  // json <-> string
  EXPECT_EQ(ConvertValue(Value("[1,\"a\"]"), FieldType::kJson), Value(List{1, "a"}));
  EXPECT_EQ(ConvertValue(Value(List{1, "a"}), FieldType::kString), Value("[1,\"a\"]"));
  EXPECT_EQ(ConvertValue(Value(List{1, 2.5}), FieldType::kVector), Value(Vector{1.f, 2.5f}));
  EXPECT_TRUE(ConvertValue(Value(), FieldType::kInteger).is_null());
}

TEST(ConvertTest, LossyOrMeaninglessConversionsFailWithTheValueNamed) {
  for (const auto& [value, type] :
       std::vector<std::pair<Value, FieldType>>{{Value("abc"), FieldType::kInteger},
                                                {Value(4.5), FieldType::kInteger},
                                                {Value("maybe"), FieldType::kBoolean},
                                                {Value("not a date"), FieldType::kDatetime},
                                                {Value("%%%"), FieldType::kBinary},
                                                {Value("{bad json"), FieldType::kJson},
                                                {Value(List{"a"}), FieldType::kVector}}) {
    try {
      ConvertValue(value, type);
      ADD_FAILURE() << "converted " << value.ToDisplayString();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(std::string(e.what()).find(FieldTypeName(type)), std::string::npos) << e.what();
    }
  }
}

TEST(RecordTest, SetKeepsPositionAndGetPrefersExactNames) {
  Record r{{"a", 1}, {"b", Object{{"c", 2}}}};
  r.Set("a", "x");
  EXPECT_EQ(r.fields()[0].name, "a");
  EXPECT_EQ(r.fields()[0].type, FieldType::kString);
  EXPECT_EQ(*r.Get("b.c"), Value(2));
  r.Set("b.c", 3);  // a field literally named "b.c" wins over the path
  EXPECT_EQ(*r.Get("b.c"), Value(3));
  EXPECT_TRUE(r.Remove("a"));
  EXPECT_FALSE(r.Has("a"));
}

TEST(RecordTest, IdResolution) {
  Record r{{"id", 7}};
  EXPECT_EQ(r.ResolveId(), "7");
  r.set_id("explicit");
  EXPECT_EQ(r.ResolveId(), "explicit");
  EXPECT_FALSE((Record{{"name", "x"}}.ResolveId().has_value()));
  const std::string uuid = GenerateUuid();
  ASSERT_EQ(uuid.size(), 36u);
  EXPECT_EQ(uuid[14], '4');
  EXPECT_NE(std::string("89ab").find(uuid[19]), std::string::npos);
  EXPECT_NE(GenerateUuid(), uuid);
}

TEST(RecordTest, ProjectKeepsIdVersionAndTopLevelOfPaths) {
  Record r{{"a", 1}, {"b", Object{{"c", 2}}}, {"d", 3}};
  r.set_id("x");
  r.set_version(4);
  const Record p = r.Project({"d", "b.c", "missing"});
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p.fields()[0].name, "d");
  EXPECT_EQ(p.fields()[1].name, "b");
  EXPECT_EQ(p.id(), "x");
  EXPECT_EQ(p.version(), 4u);
}

}  // namespace
}  // namespace dkdata
