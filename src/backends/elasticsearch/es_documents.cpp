// Records as Elasticsearch documents (es_documents.hpp).
#include "backends/elasticsearch/es_documents.hpp"

#include <cmath>

#include "backends/elasticsearch/es_database.hpp"
#include "dkdata/json.hpp"

namespace dkdata::internal {

namespace {

// Integers a double holds exactly: the projection keeps numbers in a double field.
constexpr std::int64_t kExactIntLimit = std::int64_t{1} << 53;
// Lucene's keyword terms are at most 32766 bytes; 8191 characters always fit (also the mapping's
// ignore_above, so a longer string could never make a document fail).
constexpr std::size_t kMaxKeywordBytes = 8191;

bool PlainKeyChar(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// Which part of the projection a top-level value goes to.
enum class Slot : std::uint8_t { kAbsent, kString, kNumber, kBool, kOdd };

Slot SlotOf(const Value& value) noexcept {
  switch (value.kind()) {
    case ValueKind::kNull:
      return Slot::kAbsent;
    case ValueKind::kBool:
      return Slot::kBool;
    case ValueKind::kInt: {
      const std::int64_t i = *value.Get<std::int64_t>();
      return (i <= kExactIntLimit && i >= -kExactIntLimit) ? Slot::kNumber : Slot::kOdd;
    }
    case ValueKind::kFloat: {
      const double d = *value.Get<double>();
      // -0.0 is a point of its own in Lucene, but equal to 0 in dkdata's comparisons.
      return (d == 0 && std::signbit(d)) ? Slot::kOdd : Slot::kNumber;
    }
    case ValueKind::kString:
      return value.Get<std::string>()->size() <= kMaxKeywordBytes ? Slot::kString : Slot::kOdd;
    default:
      return Slot::kOdd;
  }
}

// Years 1 to 9999: what a date field's ISO format takes (Timestamp::ToIso writes others with a sign
// and more digits).
bool ProjectableTime(Timestamp t) {
  constexpr std::int64_t kYear1 = -62135596800000000;      // 0001-01-01T00:00:00Z, in microseconds
  constexpr std::int64_t kYear10000 = 253402300800000000;  // 10000-01-01T00:00:00Z
  return t.micros >= kYear1 && t.micros < kYear10000;
}

void AppendMember(std::string& out, std::string_view field, const Value& value) {
  if (out.size() > 1) out += ',';
  out += '"';
  AppendProjectionKey(out, field);
  out += "\":";
  AppendRowJson(out, value, kElasticsearchBackend, JsonDialect::kJson);
}

void AppendListItem(std::string& out, std::string_view field) {
  if (out.size() > 1) out += ',';
  AppendJsonString(out, field);
}

}  // namespace

void AppendProjectionKey(std::string& out, std::string_view field) {
  bool plain = !field.empty();
  for (const char c : field) plain = plain && PlainKeyChar(c);
  if (plain) {
    out += field;
    return;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  out += '~';
  for (const char c : field) {
    const auto byte = static_cast<unsigned char>(c);
    out += kHex[byte >> 4];
    out += kHex[byte & 15];
  }
}

std::string ProjectionKey(std::string_view field) {
  std::string out;
  AppendProjectionKey(out, field);
  return out;
}

void DocumentEncoder::Append(std::string& out, std::string_view id, const Record& record,
                             std::uint64_t version, std::string_view batch_token) {
  EncodeRow(record, row_, kElasticsearchBackend, JsonDialect::kJson);
  // (assign(1, c), not = "{": GCC 12 at -O3 reports a false -Wrestrict for the latter.)
  s_.assign(1, '{');
  n_.assign(1, '{');
  b_.assign(1, '{');
  p_.assign(1, '[');
  o_.assign(1, '[');
  t_.assign(1, '{');
  for (const Field& field : record.fields()) {
    const Slot slot = SlotOf(field.value);
    if (slot == Slot::kAbsent) continue;
    AppendListItem(p_, field.name);
    switch (slot) {
      case Slot::kString:
        AppendMember(s_, field.name, field.value);
        break;
      case Slot::kNumber:
        AppendMember(n_, field.name, field.value);
        break;
      case Slot::kBool:
        AppendMember(b_, field.name, field.value);
        break;
      default:
        AppendListItem(o_, field.name);
        // Timestamps are odd to queries (the core compares them, to the microsecond, also with
        // ISO strings) but also go to _dk.t, a date field, for date histograms.
        if (const Timestamp* t = field.value.Get<Timestamp>(); t && ProjectableTime(*t)) {
          AppendMember(t_, field.name, field.value);
        }
        break;
    }
  }
  out += "{\"id\":";
  AppendJsonString(out, id);
  out += ",\"data\":";
  out += row_.data;
  out += ",\"metadata\":";
  out += row_.metadata.empty() ? std::string_view("{}") : std::string_view(row_.metadata);
  out += ",\"_dk\":{\"v\":";
  out += std::to_string(version);
  if (!batch_token.empty()) {
    out += ",\"c\":";
    AppendJsonString(out, batch_token);
  }
  if (row_.fields != "{}") {
    out += ",\"f\":";
    out += row_.fields;
  }
  const auto section = [&out](std::string_view name, std::string& text, char close) {
    if (text.size() == 1) return;
    text += close;
    out += ",\"";
    out += name;
    out += "\":";
    out += text;
  };
  section("p", p_, ']');
  section("o", o_, ']');
  section("s", s_, '}');
  section("n", n_, '}');
  section("b", b_, '}');
  section("t", t_, '}');
  out += "}}";
}

void AppendBulkAction(std::string& out, std::string_view action, std::string_view id,
                      std::string_view extra) {
  out += "{\"";
  out += action;
  out += "\":{\"_id\":";
  AppendJsonString(out, id);
  out += extra;
  out += "}}\n";
}

}  // namespace dkdata::internal
