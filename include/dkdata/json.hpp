// dkdata/json.hpp: JSON encoding of values and records.
//
// Records have two JSON forms, as in the reference implementation:
// - structured: {"id": .., "fields": {name: {"name", "value", "type", "metadata"}}, "metadata":
// {..}}
//   The field type says how to read the value back, so every type round-trips: datetime as an
//   ISO-8601 UTC string, binary as base64, vector as a list of numbers.
// - flat: {field: value, ..., "_id": ..}. JSON has no datetime, bytes or vector: when a record
// holds
//   any, the flat form adds "_types": {field: type} for those fields so they round-trip too;
//   readers that do not know "_types" still see plain JSON values.
// A "_version" key carries the stored version in both forms when it is not 0.
//
// NaN and ±infinity are not JSON: the encoder rejects them with Error(kInvalidArgument) naming the
// field, and so does every database on write.
//
// Parsing uses simdjson; errors are Error(kInvalidArgument) with the line and column.
//
// Thread-safety: all functions are reentrant.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dkdata/record.hpp"
#include "dkdata/value.hpp"

namespace dkdata {

enum class RecordFormat { kStructured, kFlat };

// Plain JSON of a value: bytes as base64, timestamps as ISO-8601, vectors as lists.
std::string ToJson(const Value& value);
void AppendJson(std::string& out, const Value& value);
// Parses one JSON document (numbers without fraction or exponent become int64 when they fit).
Value ParseJson(std::string_view text);

std::string RecordToJson(const Record& record, RecordFormat format = RecordFormat::kStructured);
void AppendRecordJson(std::string& out, const Record& record,
                      RecordFormat format = RecordFormat::kStructured);
// Reads either form: an object with a "fields" object whose members are field objects is
// structured, anything else is flat ("_id" or "id" gives the id).
Record RecordFromJson(std::string_view text);
Record RecordFromJsonValue(const Value& value);

// The fields a partial decode reads, given as paths (as in filters and Record::Get): a path
// selects the field of exactly that name and, when it holds dots, the field its part before the
// first dot names.
class FieldSelection {
 public:
  explicit FieldSelection(const std::vector<std::string>& paths);
  bool Selects(std::string_view name) const noexcept;

 private:
  std::vector<std::string> names_;
};

// Reads a record as RecordFromJson does, but builds only the selected fields (plus the id, the
// record metadata and the version); the others are skipped without being decoded, which is what
// makes filtering stored JSON cheap. The result holds every selected field the record has, and
// may hold others. Errors are those of RecordFromJson for the parts it reads; the skipped parts
// are checked only for JSON syntax.
Record RecordFromJson(std::string_view text, const FieldSelection& selection);

// Throws Error(kInvalidArgument) naming the field when the record holds NaN or ±infinity.
void CheckFinite(const Record& record);

// base64 (RFC 4648, with padding).
std::string Base64Encode(std::string_view bytes);
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace dkdata
