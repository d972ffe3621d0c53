// Records to rows and back.
//
// The data column holds the record's fields as one flat JSON object of plain values, as the
// reference implementation writes it: json_extract(data, '$.age') works, and either program reads
// the other's rows. Plain JSON has no datetime, bytes or vector, and no field types or field
// metadata; those go to the dkdata_fields column, a JSON object with only the members needed:
//
//   "k":  a mirror of the field values marking where a value is not what its plain JSON says:
//         {"created": "timestamp", "blob": "bytes", "emb": "vector", "n": {"when": "timestamp"},
//          "tags": {"0": "bytes"}} (list positions are keys too)
//   "t":  declared field types that differ from what the value's type detection gives
//   "m":  field metadata (plain JSON), "mk": its mirror per field
//   "rk": the mirror of the record metadata (which is in the metadata column, as the reference has
//         it)
//
// A row of dkdata's with nothing to say has "{}" there; a row whose dkdata_fields is NULL was
// written by another program, and is read with the reference's conventions: a top-level object
// whose "type" is "vector" is a vector field (its "value" the numbers, its "metadata" the field
// metadata). dkdata writes top-level vectors in that form too, so that the reference reads them
// as vectors.
#include <charconv>

#include "backends/sqlite/sqlite_database.hpp"
#include "dkdata/json.hpp"

namespace dkdata::internal {

namespace {

Value MirrorOfObject(const Object& object);

// The mirror of a value: a kind name for a value plain JSON does not carry, an object of the
// children's mirrors for a container holding such values, null for plain JSON.
Value Mirror(const Value& value) {
  switch (value.kind()) {
    case ValueKind::kTimestamp:
      return Value("timestamp");
    case ValueKind::kBytes:
      return Value("bytes");
    case ValueKind::kVector:
      return Value("vector");
    case ValueKind::kList: {
      const List& list = *value.Get<List>();
      Object mirror;
      for (std::size_t i = 0; i < list.size(); ++i) {
        Value child = Mirror(list[i]);
        if (!child.is_null()) mirror.Set(std::to_string(i), std::move(child));
      }
      return mirror.empty() ? Value() : Value(std::move(mirror));
    }
    case ValueKind::kObject:
      return MirrorOfObject(*value.Get<Object>());
    default:
      return Value();
  }
}

Vector ToVector(const Value& value) {
  Vector vector;
  if (const List* list = value.Get<List>()) {
    vector.reserve(list->size());
    for (const Value& element : *list) {
      if (element.is_number()) vector.push_back(static_cast<float>(element.AsDouble()));
    }
  }
  return vector;
}

// Restores what a mirror says into a value read from plain JSON.
void ApplyMirror(Value& value, const Value& mirror) {
  if (const auto* kind = mirror.Get<std::string>()) {
    if (*kind == "timestamp") {
      if (const auto* text = value.Get<std::string>()) {
        if (auto t = ParseStoredTimestamp(*text)) value = *t;
      }
    } else if (*kind == "bytes") {
      if (const auto* text = value.Get<std::string>()) {
        if (auto bytes = Base64Decode(*text)) value = Bytes{std::move(*bytes)};
      }
    } else if (*kind == "vector") {
      if (value.kind() == ValueKind::kList) {
        value = ToVector(value);
      } else if (const Object* dict = value.Get<Object>()) {
        const Value* numbers = dict->Find("value");
        value = numbers != nullptr ? ToVector(*numbers) : Vector();
      }
    }
    return;
  }
  const Object* children = mirror.Get<Object>();
  if (children == nullptr) return;
  if (List* list = value.Get<List>()) {
    for (const auto& [key, child] : *children) {
      std::size_t index = 0;
      const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), index);
      if (ec == std::errc() && end == key.data() + key.size() && index < list->size()) {
        ApplyMirror((*list)[index], child);
      }
    }
  } else if (Object* object = value.Get<Object>()) {
    for (const auto& [key, child] : *children) {
      if (Value* member = object->Find(key)) ApplyMirror(*member, child);
    }
  }
}

void ApplyObjectMirror(Object& object, const Value* mirror) {
  if (mirror == nullptr) return;
  if (const Object* children = mirror->Get<Object>()) {
    for (const auto& [key, child] : *children) {
      if (Value* member = object.Find(key)) ApplyMirror(*member, child);
    }
  }
}

// Appends plain JSON; an error (invalid UTF-8: NaN was checked before) names `what` and `name`.
void AppendNamed(std::string& out, const Value& value, std::string_view what,
                 std::string_view name) {
  try {
    AppendJson(out, value);
  } catch (const Error& e) {
    ThrowSqlite(ErrorCode::kInvalidArgument,
                std::string(what) + " '" + std::string(name) + "': " + e.what());
  }
}

void AppendKey(std::string& out, const std::string& name) {
  thread_local Value key = std::string();
  *key.Get<std::string>() = name;
  AppendNamed(out, key, "field name", name);
  out += ':';
}

// Appends `"name":` to a JSON object's members being written (without the braces).
void AppendMemberKey(std::string& members, const std::string& name) {
  if (!members.empty()) members += ',';
  AppendKey(members, name);
}

// The reference's form of a vector field: {"name", "value", "type": "vector", "metadata",
// "dimensions"}.
void AppendVectorField(std::string& out, const Field& field) {
  const Vector& vector = *field.value.Get<Vector>();
  out += "{\"name\":";
  AppendNamed(out, Value(field.name), "field name", field.name);
  out += ",\"value\":";
  AppendNamed(out, field.value, "field", field.name);
  out += ",\"type\":\"vector\",\"metadata\":";
  AppendNamed(out, Value(field.metadata), "metadata of field", field.name);
  out += ",\"dimensions\":";
  out += std::to_string(vector.size());
  out += '}';
}

Object ReadObject(std::string_view json, std::string_view what, std::string_view id) {
  Value value = ParseJson(json);
  if (value.is_null()) return Object();
  Object* object = value.Get<Object>();
  if (object == nullptr) {
    ThrowSqlite(ErrorCode::kIo, "stored row '" + std::string(id) + "': " + std::string(what) +
                                    " is not a JSON object");
  }
  return std::move(*object);
}

Value MirrorOfObject(const Object& object) {
  Object mirror;
  for (const auto& [key, member] : object) {
    Value child = Mirror(member);
    if (!child.is_null()) mirror.Set(key, std::move(child));
  }
  return mirror.empty() ? Value() : Value(std::move(mirror));
}

}  // namespace

std::optional<Timestamp> ParseStoredTimestamp(std::string_view text) noexcept {
  if (auto t = Timestamp::Parse(text)) return t;
  // Timestamp::ToIso writes such years with as many digits as needed and a sign when negative.
  // The calendar repeats every 400 years (146097 days): read the date in a year of 2000-2399 and
  // shift it back.
  const std::size_t dash = text.find('-', text.starts_with('-') ? 1 : 0);
  if (dash == std::string_view::npos || dash == 0) return std::nullopt;
  std::int64_t year = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + dash, year);
  if (ec != std::errc() || end != text.data() + dash || (year >= 0 && year <= 9999)) {
    return std::nullopt;
  }
  if (year < -290000 || year > 290000) return std::nullopt;  // beyond int64 microseconds
  const std::int64_t cycles = (year - 2000 >= 0 ? year - 2000 : year - 2000 - 399) / 400;
  const std::int64_t shifted = year - cycles * 400;
  std::string standard = std::to_string(shifted);
  standard += text.substr(dash);
  const auto t = Timestamp::Parse(standard);
  if (!t) return std::nullopt;
  constexpr std::int64_t kMicrosPer400Years = std::int64_t{146097} * 86400 * 1000000;
  return Timestamp{t->micros + cycles * kMicrosPer400Years};
}

void EncodeRow(const Record& record, EncodedRow& out) {
  out.Clear();
  // NaN and infinity: the JSON encoder refuses them, and AppendNamed names the field.
  // The members of dkdata_fields' sections, written as they are found (most records have none).
  std::string& kinds = out.scratch[0];
  std::string& types = out.scratch[1];
  std::string& field_metadata = out.scratch[2];
  std::string& metadata_kinds = out.scratch[3];
  std::string& data = out.data;
  data += '{';
  bool first = true;
  for (const Field& field : record.fields()) {
    if (!first) data += ',';
    first = false;
    AppendKey(data, field.name);
    if (field.value.kind() == ValueKind::kVector) {
      AppendVectorField(data, field);
    } else {
      AppendNamed(data, field.value, "field", field.name);
    }
    switch (field.value.kind()) {
      case ValueKind::kTimestamp:
      case ValueKind::kBytes:
      case ValueKind::kVector:
        AppendMemberKey(kinds, field.name);
        kinds += field.value.kind() == ValueKind::kTimestamp ? "\"timestamp\""
                 : field.value.kind() == ValueKind::kBytes   ? "\"bytes\""
                                                             : "\"vector\"";
        break;
      case ValueKind::kList:
      case ValueKind::kObject:
        if (const Value mirror = Mirror(field.value); !mirror.is_null()) {
          AppendMemberKey(kinds, field.name);
          AppendJson(kinds, mirror);
        }
        break;
      default:
        break;
    }
    if (field.type != DetectFieldType(field.value)) {
      AppendMemberKey(types, field.name);
      types += '"';
      types += FieldTypeName(field.type);
      types += '"';
    }
    if (!field.metadata.empty()) {
      AppendMemberKey(field_metadata, field.name);
      AppendNamed(field_metadata, Value(field.metadata), "metadata of field", field.name);
      if (const Value mirror = MirrorOfObject(field.metadata); !mirror.is_null()) {
        AppendMemberKey(metadata_kinds, field.name);
        AppendJson(metadata_kinds, mirror);
      }
    }
  }
  data += '}';

  if (!record.metadata().empty()) {
    AppendNamed(out.metadata, Value(record.metadata()), "the record's", "metadata");
  }
  const Value record_metadata_kinds = MirrorOfObject(record.metadata());
  std::string& fields = out.fields;
  fields += '{';
  auto section = [&fields](const char* key, const std::string& members) {
    if (members.empty()) return;
    if (fields.size() > 1) fields += ',';
    fields += key;
    fields += ":{";
    fields += members;
    fields += '}';
  };
  section("\"k\"", kinds);
  section("\"t\"", types);
  section("\"m\"", field_metadata);
  section("\"mk\"", metadata_kinds);
  if (!record_metadata_kinds.is_null()) {
    if (fields.size() > 1) fields += ',';
    fields += "\"rk\":";
    AppendJson(fields, record_metadata_kinds);
  }
  fields += '}';
}

const Object& RowDecoder::FieldsInfo(std::string_view text, std::string_view id) {
  if (text != fields_text_ || fields_text_.empty()) {
    fields_info_ = ReadObject(text, "dkdata_fields", id);
    fields_text_.assign(text);
  }
  return fields_info_;
}

void RowDecoder::Decode(const StoredRow& row, Record& out) {
  Object data = ReadObject(row.data, "data", row.id);
  std::vector<Field>& fields = out.mutable_fields();
  fields.clear();
  fields.reserve(data.size());
  for (const auto& member : data.members()) {
    // `data` is ours and dropped afterwards: its members are moved out (Object offers no mutable
    // iteration).
    auto& owned = const_cast<Object::Member&>(member);
    Field& field = fields.emplace_back();
    field.name = std::move(owned.first);
    field.value = std::move(owned.second);
  }
  out.set_id(row.id);
  out.set_version(row.version);
  out.metadata() = row.metadata ? ReadObject(*row.metadata, "metadata", row.id) : Object();

  if (!row.fields) {
    // Written by another program: the reference's vector fields.
    for (Field& field : fields) {
      const Object* dict = field.value.Get<Object>();
      const Value* type = dict != nullptr ? dict->Find("type") : nullptr;
      if (type == nullptr || type->Get<std::string>() == nullptr ||
          *type->Get<std::string>() != "vector") {
        field.type = DetectFieldType(field.value);
        continue;
      }
      Object metadata;
      if (const Value* m = dict->Find("metadata"); m != nullptr && m->Get<Object>() != nullptr) {
        metadata = *m->Get<Object>();
      }
      const Value* numbers = dict->Find("value");
      field.value = numbers != nullptr ? ToVector(*numbers) : Vector();
      field.type = FieldType::kVector;
      field.metadata = std::move(metadata);
    }
    return;
  }

  if (*row.fields == "{}") {
    for (Field& field : fields) {
      field.type = DetectFieldType(field.value);
      field.metadata = Object();
    }
    return;
  }
  const Object& info = FieldsInfo(*row.fields, row.id);
  const Value* kinds = info.Find("k");
  const Value* types = info.Find("t");
  const Value* field_metadata = info.Find("m");
  const Value* metadata_kinds = info.Find("mk");
  for (Field& field : fields) {
    if (kinds != nullptr && kinds->Get<Object>() != nullptr) {
      if (const Value* mirror = kinds->Get<Object>()->Find(field.name)) {
        ApplyMirror(field.value, *mirror);
      }
    }
    field.type = DetectFieldType(field.value);
    if (types != nullptr && types->Get<Object>() != nullptr) {
      if (const Value* name = types->Get<Object>()->Find(field.name)) {
        if (const auto* text = name->Get<std::string>()) {
          if (auto type = ParseFieldType(*text)) field.type = *type;
        }
      }
    }
    field.metadata = Object();
    if (field_metadata != nullptr && field_metadata->Get<Object>() != nullptr) {
      if (const Value* m = field_metadata->Get<Object>()->Find(field.name);
          m != nullptr && m->Get<Object>() != nullptr) {
        field.metadata = *m->Get<Object>();
        if (metadata_kinds != nullptr && metadata_kinds->Get<Object>() != nullptr) {
          ApplyObjectMirror(field.metadata, metadata_kinds->Get<Object>()->Find(field.name));
        }
      }
    }
  }
  ApplyObjectMirror(out.metadata(), info.Find("rk"));
}

}  // namespace dkdata::internal
