// Records to rows and back (json_rows.hpp).
//
// The data column holds the record's fields as one flat JSON object of plain values, as the
// reference implementation writes it: json_extract(data, '$.age') (SQLite) or data->'age'
// (PostgreSQL) works, and either program reads the other's rows. Plain JSON has no datetime,
// bytes or vector, and no field types or field metadata; those go to the dkdata_fields column, a
// JSON object with only the members needed:
//
//   "k":  a mirror of the field values marking where a value is not what its plain JSON says:
//         {"created": "timestamp", "blob": "bytes", "emb": "vector", "n": {"when": "timestamp"},
//          "tags": {"0": "bytes"}} (list positions are keys too). In the jsonb dialect a
//         timestamp's mark is its microseconds since the epoch (a number: SQL compares them), and
//         a string holding U+0000, stored as the base64 of its bytes, is marked "nul".
//   "t":  declared field types that differ from what the value's type detection gives
//   "m":  field metadata (plain JSON), "mk": its mirror per field
//   "rk": the mirror of the record metadata (which is in the metadata column, as the reference has
//         it)
//   jsonb only: "o", "ro" and "mo" note the key order of the objects whose order jsonb changes
//         (data, record metadata, field metadata per field) as the JSON text (a string) of
//         [[path, [keys...]], ...], a path
//         being a list of keys and list positions; "z" and "v" flag U+0000 strings and vectors
//         (json_rows.hpp).
//
// A row of dkdata's with nothing to say has "{}" there; a row whose dkdata_fields is NULL was
// written by another program, and is read with the reference's conventions: a top-level object
// whose "type" is "vector" is a vector field (its "value" the numbers, its "metadata" the field
// metadata). dkdata writes top-level vectors in that form too, so that the reference reads them
// as vectors.
#include "backends/sql/json_rows.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "dkdata/errors.hpp"
#include "dkdata/json.hpp"

namespace dkdata::internal {

namespace {

// The encoder's settings, and its error.
struct Writer {
  std::string_view backend;
  JsonDialect dialect;

  bool jsonb() const noexcept { return dialect == JsonDialect::kJsonb; }
  [[noreturn]] void Fail(ErrorCode code, std::string message) const {
    throw Error(code, std::move(message), std::string(backend));
  }
};

// What the mirrors found on the way (jsonb's flags).
struct Findings {
  bool nul_strings = false;
  bool vectors = false;
};

bool HasNul(std::string_view s) noexcept {
  return s.find('\0') != std::string_view::npos;
}

// A text for messages: U+0000 shown as \u0000.
std::string Printable(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c == '\0') {
      out += "\\u0000";
    } else {
      out += c;
    }
  }
  return out;
}

// ---- Writing ----

// A float for jsonb, which keeps a number's decimal value but not its spelling: no exponent
// (jsonb would print 1e20 as an integer), ".0" when integral, and from 2^53 on the exact integer,
// so that SQL compares it with integers exactly.
void AppendJsonbFloat(std::string& out, double d) {
  char digits[400];  // the largest double has 309 digits
  const auto result =
      std::fabs(d) >= 9007199254740992.0
          ? std::to_chars(digits, digits + sizeof digits, d, std::chars_format::fixed, 0)
          : std::to_chars(digits, digits + sizeof digits, d, std::chars_format::fixed);
  out.append(digits, result.ptr);
  if (std::find(digits, result.ptr, '.') == result.ptr) out += ".0";
}

void AppendKeyText(std::string& out, const std::string& key, const Writer& w) {
  if (w.jsonb() && HasNul(key)) {
    w.Fail(ErrorCode::kInvalidArgument,
           "key '" + Printable(key) + "' holds U+0000, which PostgreSQL's jsonb cannot store");
  }
  thread_local Value text = std::string();
  *text.Get<std::string>() = key;
  AppendJson(out, text);
}

// Plain JSON of a value in the writer's dialect.
void AppendValue(std::string& out, const Value& value, const Writer& w) {
  if (!w.jsonb()) {
    AppendJson(out, value);
    return;
  }
  switch (value.kind()) {
    case ValueKind::kFloat: {
      const double d = *value.Get<double>();
      if (!std::isfinite(d)) break;  // AppendJson names the problem
      AppendJsonbFloat(out, d);
      return;
    }
    case ValueKind::kString: {
      const std::string& s = *value.Get<std::string>();
      if (!HasNul(s)) break;
      thread_local std::string checked;
      checked.clear();
      AppendJson(checked, value);  // refuses invalid UTF-8
      AppendJson(out, Value(Base64Encode(s)));
      return;
    }
    case ValueKind::kVector: {
      out += '[';
      bool first = true;
      for (const float f : *value.Get<Vector>()) {
        if (!first) out += ',';
        first = false;
        if (!std::isfinite(f)) {
          AppendJson(out, value);  // throws, naming the problem
        }
        AppendJsonbFloat(out, static_cast<double>(f));
      }
      out += ']';
      return;
    }
    case ValueKind::kList: {
      out += '[';
      bool first = true;
      for (const Value& element : *value.Get<List>()) {
        if (!first) out += ',';
        first = false;
        AppendValue(out, element, w);
      }
      out += ']';
      return;
    }
    case ValueKind::kObject: {
      out += '{';
      bool first = true;
      for (const auto& [key, member] : *value.Get<Object>()) {
        if (!first) out += ',';
        first = false;
        AppendKeyText(out, key, w);
        out += ':';
        AppendValue(out, member, w);
      }
      out += '}';
      return;
    }
    default:
      break;
  }
  AppendJson(out, value);
}

// Appends plain JSON; an error (invalid UTF-8, NaN, a U+0000 key) names `what` and `name`.
void AppendNamed(std::string& out, const Value& value, std::string_view what, std::string_view name,
                 const Writer& w) {
  try {
    AppendValue(out, value, w);
  } catch (const Error& e) {
    w.Fail(ErrorCode::kInvalidArgument,
           std::string(what) + " '" + Printable(name) + "': " + e.what());
  }
}

void AppendKey(std::string& out, const std::string& name, const Writer& w) {
  try {
    AppendKeyText(out, name, w);
  } catch (const Error& e) {
    w.Fail(ErrorCode::kInvalidArgument, "field name '" + Printable(name) + "': " + e.what());
  }
  out += ':';
}

// Appends `"name":` to a JSON object's members being written (without the braces).
void AppendMemberKey(std::string& members, const std::string& name, const Writer& w) {
  if (!members.empty()) members += ',';
  AppendKey(members, name, w);
}

// The reference's form of a vector field: {"name", "value", "type": "vector", "metadata",
// "dimensions"}.
void AppendVectorField(std::string& out, const Field& field, const Writer& w) {
  const Vector& vector = *field.value.Get<Vector>();
  out += "{\"name\":";
  AppendNamed(out, Value(field.name), "field name", field.name, w);
  out += ",\"value\":";
  AppendNamed(out, field.value, "field", field.name, w);
  out += ",\"type\":\"vector\",\"metadata\":";
  AppendNamed(out, Value(field.metadata), "metadata of field", field.name, w);
  out += ",\"dimensions\":";
  out += std::to_string(vector.size());
  out += '}';
}

// ---- Mirrors ----

Value MirrorOfObject(const Object& object, const Writer& w, Findings& found);

// The mirror of a value: a kind mark for a value plain JSON does not carry, an object of the
// children's mirrors for a container holding such values, null for plain JSON.
Value Mirror(const Value& value, const Writer& w, Findings& found) {
  switch (value.kind()) {
    case ValueKind::kTimestamp:
      if (w.jsonb()) return Value(value.Get<Timestamp>()->micros);
      return Value("timestamp");
    case ValueKind::kBytes:
      return Value("bytes");
    case ValueKind::kVector:
      found.vectors = true;
      return Value("vector");
    case ValueKind::kString:
      if (w.jsonb() && HasNul(*value.Get<std::string>())) {
        found.nul_strings = true;
        return Value("nul");
      }
      return Value();
    case ValueKind::kList: {
      const List& list = *value.Get<List>();
      Object mirror;
      for (std::size_t i = 0; i < list.size(); ++i) {
        Value child = Mirror(list[i], w, found);
        if (!child.is_null()) mirror.Set(std::to_string(i), std::move(child));
      }
      return mirror.empty() ? Value() : Value(std::move(mirror));
    }
    case ValueKind::kObject:
      return MirrorOfObject(*value.Get<Object>(), w, found);
    default:
      return Value();
  }
}

Value MirrorOfObject(const Object& object, const Writer& w, Findings& found) {
  Object mirror;
  for (const auto& [key, member] : object) {
    Value child = Mirror(member, w, found);
    if (!child.is_null()) mirror.Set(key, std::move(child));
  }
  return mirror.empty() ? Value() : Value(std::move(mirror));
}

// ---- Key order (jsonb) ----

// jsonb's order of keys: shorter first, then by bytes.
bool JsonbKeyLess(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return a.size() < b.size();
  return a < b;  // char_traits<char> compares as unsigned char
}

// Adds [path, [keys]] to notes for each object under value whose order jsonb would change.
void NoteOrders(const Value& value, List& path, List& notes) {
  if (const Object* object = value.Get<Object>()) {
    const auto& members = object->members();
    for (std::size_t i = 1; i < members.size(); ++i) {
      if (!JsonbKeyLess(members[i - 1].first, members[i].first)) {
        List keys;
        keys.reserve(members.size());
        for (const auto& member : members) keys.emplace_back(member.first);
        notes.emplace_back(List{Value(path), Value(std::move(keys))});
        break;
      }
    }
    for (const auto& [key, member] : members) {
      path.emplace_back(key);
      NoteOrders(member, path, notes);
      path.pop_back();
    }
  } else if (const List* list = value.Get<List>()) {
    for (std::size_t i = 0; i < list->size(); ++i) {
      path.emplace_back(static_cast<std::int64_t>(i));
      NoteOrders((*list)[i], path, notes);
      path.pop_back();
    }
  }
}

// The notes of a record's fields: the field order, then the objects in the values.
List FieldOrderNotes(const std::vector<Field>& fields) {
  List notes;
  for (std::size_t i = 1; i < fields.size(); ++i) {
    if (!JsonbKeyLess(fields[i - 1].name, fields[i].name)) {
      List names;
      names.reserve(fields.size());
      for (const Field& field : fields) names.emplace_back(field.name);
      notes.emplace_back(List{Value(List()), Value(std::move(names))});
      break;
    }
  }
  List path;
  for (const Field& field : fields) {
    const ValueKind kind = field.value.kind();
    if (kind != ValueKind::kObject && kind != ValueKind::kList) continue;
    path.emplace_back(field.name);
    NoteOrders(field.value, path, notes);
    path.pop_back();
  }
  return notes;
}

List ObjectOrderNotes(const Object& object) {
  List notes, path;
  NoteOrders(Value(object), path, notes);
  return notes;
}

// Order notes are written as one JSON string holding their JSON text: jsonb reads a string much
// faster than the same notes as arrays (a bulk load of 8-field records: about 10% faster), and
// nothing in SQL reads them.
void AppendNotes(std::string& out, const List& notes) {
  AppendJson(out, Value(ToJson(Value(notes))));
}

// Moves the named items to the front in the notes' order, the others after them in their order.
template <typename Item, typename NameOf>
void Reorder(std::vector<Item>& items, const List& names, NameOf name_of) {
  std::size_t place = 0;
  for (const Value& name : names) {
    const std::string* wanted = name.Get<std::string>();
    if (wanted == nullptr) continue;
    for (std::size_t j = place; j < items.size(); ++j) {
      if (name_of(items[j]) != *wanted) continue;
      std::rotate(items.begin() + static_cast<std::ptrdiff_t>(place),
                  items.begin() + static_cast<std::ptrdiff_t>(j),
                  items.begin() + static_cast<std::ptrdiff_t>(j) + 1);
      ++place;
      break;
    }
  }
}

void ReorderObject(Object& object, const List& names) {
  // Object offers no mutable access to its members; reordering keeps every member intact.
  auto& members = const_cast<std::vector<Object::Member>&>(object.members());
  Reorder(members, names, [](const Object::Member& m) -> const std::string& { return m.first; });
}

// The value a note's path leads to from `at`, its steps taken from index `from`; nullptr when the
// row does not hold it (a projection, another program's write).
Value* Walk(Value* at, const List& path, std::size_t from) {
  for (std::size_t i = from; at != nullptr && i < path.size(); ++i) {
    if (const auto* key = path[i].Get<std::string>()) {
      Object* object = at->Get<Object>();
      at = object != nullptr ? object->Find(*key) : nullptr;
    } else if (const auto* index = path[i].Get<std::int64_t>()) {
      List* list = at->Get<List>();
      at = list != nullptr && *index >= 0 && static_cast<std::size_t>(*index) < list->size()
               ? &(*list)[static_cast<std::size_t>(*index)]
               : nullptr;
    } else {
      return nullptr;
    }
  }
  return at;
}

// The notes as written (a JSON string) read back as a list; a list stays as it is.
Value ParsedNotes(const Value& written) {
  const std::string* text = written.Get<std::string>();
  if (text == nullptr) return written;
  try {
    return ParseJson(*text);
  } catch (const Error&) {
    return Value();  // not dkdata's: the order stays jsonb's
  }
}

// Each note as (path, names), skipping malformed ones. `notes` went through ParsedNotes.
template <typename Fn>
void ForEachNote(const Value* notes, Fn&& fn) {
  const List* list = notes != nullptr ? notes->Get<List>() : nullptr;
  if (list == nullptr) return;
  for (const Value& note : *list) {
    const List* pair = note.Get<List>();
    if (pair == nullptr || pair->size() != 2) continue;
    const List* path = (*pair)[0].Get<List>();
    const List* names = (*pair)[1].Get<List>();
    if (path != nullptr && names != nullptr) fn(*path, *names);
  }
}

void ApplyFieldOrder(std::vector<Field>& fields, const Value* notes) {
  ForEachNote(notes, [&](const List& path, const List& names) {
    if (path.empty()) {
      Reorder(fields, names, [](const Field& f) -> const std::string& { return f.name; });
      return;
    }
    const std::string* head = path[0].Get<std::string>();
    if (head == nullptr) return;
    for (Field& field : fields) {
      if (field.name != *head) continue;
      if (Value* v = Walk(&field.value, path, 1); v != nullptr && v->Get<Object>() != nullptr) {
        ReorderObject(*v->Get<Object>(), names);
      }
      break;
    }
  });
}

void ApplyObjectOrder(Object& object, const Value* notes) {
  ForEachNote(notes, [&](const List& path, const List& names) {
    if (path.empty()) {
      ReorderObject(object, names);
      return;
    }
    const std::string* head = path[0].Get<std::string>();
    Value* member = head != nullptr ? object.Find(*head) : nullptr;
    if (Value* v = member != nullptr ? Walk(member, path, 1) : nullptr;
        v != nullptr && v->Get<Object>() != nullptr) {
      ReorderObject(*v->Get<Object>(), names);
    }
  });
}

// ---- Reading ----

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
  if (const auto* micros = mirror.Get<std::int64_t>()) {  // a timestamp (jsonb)
    if (value.Get<std::string>() != nullptr) value = Timestamp{*micros};
    return;
  }
  if (const auto* kind = mirror.Get<std::string>()) {
    if (*kind == "timestamp") {
      if (const auto* text = value.Get<std::string>()) {
        if (auto t = ParseStoredTimestamp(*text)) value = *t;
      }
    } else if (*kind == "bytes") {
      if (const auto* text = value.Get<std::string>()) {
        if (auto bytes = Base64Decode(*text)) value = Bytes{std::move(*bytes)};
      }
    } else if (*kind == "nul") {
      if (const auto* text = value.Get<std::string>()) {
        if (auto bytes = Base64Decode(*text)) value = std::move(*bytes);
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

Object ReadObject(std::string_view json, std::string_view what, std::string_view id,
                  std::string_view backend) {
  Value value = ParseJson(json);
  if (value.is_null()) return Object();
  Object* object = value.Get<Object>();
  if (object == nullptr) {
    throw Error(
        ErrorCode::kIo,
        "stored row '" + std::string(id) + "': " + std::string(what) + " is not a JSON object",
        std::string(backend));
  }
  return std::move(*object);
}

const Object* ObjectMember(const Object& info, std::string_view key) {
  const Value* v = info.Find(key);
  return v != nullptr ? v->Get<Object>() : nullptr;
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

void AppendRowJson(std::string& out, const Value& value, std::string_view backend,
                   JsonDialect dialect) {
  AppendNamed(out, value, "value", "operand", Writer{backend, dialect});
}

void EncodeRow(const Record& record, EncodedRow& out, std::string_view backend,
               JsonDialect dialect) {
  out.Clear();
  const Writer w{backend, dialect};
  Findings found;
  Findings ignored;  // what metadata holds is not queried
  // The members of dkdata_fields' sections, written as they are found (most records have none).
  std::string& kinds = out.scratch[0];
  std::string& types = out.scratch[1];
  std::string& field_metadata = out.scratch[2];
  std::string& metadata_kinds = out.scratch[3];
  std::string& metadata_orders = out.scratch[4];
  std::string& data = out.data;
  data += '{';
  bool first = true;
  for (const Field& field : record.fields()) {
    if (!first) data += ',';
    first = false;
    AppendKey(data, field.name, w);
    if (field.value.kind() == ValueKind::kVector) {
      AppendVectorField(data, field, w);
    } else {
      AppendNamed(data, field.value, "field", field.name, w);
    }
    switch (field.value.kind()) {
      case ValueKind::kTimestamp:
      case ValueKind::kBytes:
      case ValueKind::kVector:
      case ValueKind::kString:
      case ValueKind::kList:
      case ValueKind::kObject:
        if (const Value mirror = Mirror(field.value, w, found); !mirror.is_null()) {
          AppendMemberKey(kinds, field.name, w);
          AppendJson(kinds, mirror);
        }
        break;
      default:
        break;
    }
    if (field.type != DetectFieldType(field.value)) {
      AppendMemberKey(types, field.name, w);
      types += '"';
      types += FieldTypeName(field.type);
      types += '"';
    }
    if (!field.metadata.empty()) {
      AppendMemberKey(field_metadata, field.name, w);
      AppendNamed(field_metadata, Value(field.metadata), "metadata of field", field.name, w);
      if (const Value mirror = MirrorOfObject(field.metadata, w, ignored); !mirror.is_null()) {
        AppendMemberKey(metadata_kinds, field.name, w);
        AppendJson(metadata_kinds, mirror);
      }
      if (w.jsonb()) {
        if (const List notes = ObjectOrderNotes(field.metadata); !notes.empty()) {
          AppendMemberKey(metadata_orders, field.name, w);
          AppendNotes(metadata_orders, notes);
        }
      }
    }
  }
  data += '}';

  if (!record.metadata().empty()) {
    AppendNamed(out.metadata, Value(record.metadata()), "the record's", "metadata", w);
  }
  const Value record_metadata_kinds = MirrorOfObject(record.metadata(), w, ignored);
  std::string& fields = out.fields;
  fields += '{';
  auto member = [&fields](std::string_view key) {
    if (fields.size() > 1) fields += ',';
    fields += '"';
    fields += key;
    fields += "\":";
  };
  auto section = [&](std::string_view key, const std::string& members) {
    if (members.empty()) return;
    member(key);
    fields += '{';
    fields += members;
    fields += '}';
  };
  section("k", kinds);
  section("t", types);
  section("m", field_metadata);
  section("mk", metadata_kinds);
  if (!record_metadata_kinds.is_null()) {
    member("rk");
    AppendJson(fields, record_metadata_kinds);
  }
  if (w.jsonb()) {
    if (const List notes = FieldOrderNotes(record.fields()); !notes.empty()) {
      member("o");
      AppendNotes(fields, notes);
    }
    if (const List notes = ObjectOrderNotes(record.metadata()); !notes.empty()) {
      member("ro");
      AppendNotes(fields, notes);
    }
    section("mo", metadata_orders);
    if (found.nul_strings) {
      member(kNulStringsFlag);
      fields += '1';
    }
    if (found.vectors) {
      member(kVectorsFlag);
      fields += '1';
    }
  }
  fields += '}';
}

const Object& RowDecoder::FieldsInfo(std::string_view text, std::string_view id) {
  if (text != fields_text_ || fields_text_.empty()) {
    fields_info_ = ReadObject(text, "dkdata_fields", id, backend_);
    // Parsed once per distinct text, like the rest.
    for (const char* key : {"o", "ro"}) {
      if (Value* notes = fields_info_.Find(key)) *notes = ParsedNotes(*notes);
    }
    if (Value* orders = fields_info_.Find("mo"); orders != nullptr && orders->Get<Object>()) {
      auto& members = const_cast<std::vector<Object::Member>&>(orders->Get<Object>()->members());
      for (auto& [name, notes] : members) notes = ParsedNotes(notes);
    }
    fields_text_.assign(text);
  }
  return fields_info_;
}

void RowDecoder::Decode(const StoredRow& row, Record& out) {
  Object data = ReadObject(row.data, "data", row.id, backend_);
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
  out.metadata() =
      row.metadata ? ReadObject(*row.metadata, "metadata", row.id, backend_) : Object();

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
  const Object* kinds = ObjectMember(info, "k");
  const Object* types = ObjectMember(info, "t");
  const Object* field_metadata = ObjectMember(info, "m");
  const Object* metadata_kinds = ObjectMember(info, "mk");
  const Object* metadata_orders = ObjectMember(info, "mo");
  ApplyFieldOrder(fields, info.Find("o"));
  for (Field& field : fields) {
    if (kinds != nullptr) {
      if (const Value* mirror = kinds->Find(field.name)) ApplyMirror(field.value, *mirror);
    }
    field.type = DetectFieldType(field.value);
    if (types != nullptr) {
      if (const Value* name = types->Find(field.name)) {
        if (const auto* text = name->Get<std::string>()) {
          if (auto type = ParseFieldType(*text)) field.type = *type;
        }
      }
    }
    field.metadata = Object();
    if (field_metadata != nullptr) {
      if (const Value* m = field_metadata->Find(field.name);
          m != nullptr && m->Get<Object>() != nullptr) {
        field.metadata = *m->Get<Object>();
        if (metadata_kinds != nullptr) {
          ApplyObjectMirror(field.metadata, metadata_kinds->Find(field.name));
        }
        if (metadata_orders != nullptr) {
          ApplyObjectOrder(field.metadata, metadata_orders->Find(field.name));
        }
      }
    }
  }
  ApplyObjectMirror(out.metadata(), info.Find("rk"));
  ApplyObjectOrder(out.metadata(), info.Find("ro"));
}

}  // namespace dkdata::internal
