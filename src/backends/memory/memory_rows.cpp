#include "backends/memory/memory_rows.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/evaluator.hpp"
#include "dkdata/errors.hpp"

namespace dkdata::internal {

using namespace row_format;

namespace {

std::int64_t UnZigZag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

void EncodeValue(RowWriter& out, const Value& v);

void EncodeObject(RowWriter& out, const Object& o) {
  out.Ensure(10);
  out.Varint(o.size());
  for (const auto& [key, value] : o) {
    out.String(key);
    EncodeValue(out, value);
  }
}

void EncodeValue(RowWriter& out, const Value& v) {
  out.Ensure(11);  // a tag and a varint or a double
  switch (v.kind()) {
    case ValueKind::kNull:
      out.Byte(kTagNull);
      break;
    case ValueKind::kBool:
      out.Byte(*v.Get<bool>() ? kTagTrue : kTagFalse);
      break;
    case ValueKind::kInt:
      out.Byte(kTagInt);
      out.Varint(ZigZag(*v.Get<std::int64_t>()));
      break;
    case ValueKind::kFloat:
      if (!std::isfinite(*v.Get<double>())) throw RowEncoder::NonFinite{};
      out.Byte(kTagFloat);
      out.Raw(v.Get<double>(), 8);
      break;
    case ValueKind::kString:
      out.Byte(kTagString);
      out.String(*v.Get<std::string>());
      break;
    case ValueKind::kBytes:
      out.Byte(kTagBytes);
      out.String(v.Get<Bytes>()->data);
      break;
    case ValueKind::kTimestamp:
      out.Byte(kTagTimestamp);
      out.Varint(ZigZag(v.Get<Timestamp>()->micros));
      break;
    case ValueKind::kList:
      out.Byte(kTagList);
      out.Varint(v.Get<List>()->size());
      for (const Value& e : *v.Get<List>()) EncodeValue(out, e);
      break;
    case ValueKind::kObject:
      out.Byte(kTagObject);
      EncodeObject(out, *v.Get<Object>());
      break;
    case ValueKind::kVector: {
      const Vector& vec = *v.Get<Vector>();
      for (float f : vec) {
        if (!std::isfinite(f)) throw RowEncoder::NonFinite{};
      }
      out.Byte(kTagVector);
      out.Varint(vec.size());
      out.Ensure(vec.size() * sizeof(float));
      out.Raw(vec.data(), vec.size() * sizeof(float));
      break;
    }
  }
}

std::uint64_t GetVarint(const std::uint8_t*& p) {
  std::uint64_t v = 0;
  int shift = 0;
  while (*p & 0x80) {
    v |= static_cast<std::uint64_t>(*p++ & 0x7F) << shift;
    shift += 7;
  }
  v |= static_cast<std::uint64_t>(*p++) << shift;
  return v;
}

std::string_view GetString(const std::uint8_t*& p) {
  const std::size_t n = GetVarint(p);
  std::string_view s(reinterpret_cast<const char*>(p), n);
  p += n;
  return s;
}

void DecodeValue(const std::uint8_t*& p, Value& out);

void DecodeObject(const std::uint8_t*& p, Object& out) {
  const std::size_t n = GetVarint(p);
  out.Reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::string key(GetString(p));
    Value value;
    DecodeValue(p, value);
    out.Set(std::move(key), std::move(value));
  }
}

void DecodeValue(const std::uint8_t*& p, Value& out) {
  switch (*p++) {
    case kTagNull:
      out = Value();
      return;
    case kTagFalse:
      out = false;
      return;
    case kTagTrue:
      out = true;
      return;
    case kTagInt:
      out = UnZigZag(GetVarint(p));
      return;
    case kTagFloat: {
      double d;
      std::memcpy(&d, p, 8);
      p += 8;
      out = d;
      return;
    }
    case kTagString:
      out.AssignString(GetString(p));  // reuses the scratch value's buffer
      return;
    case kTagBytes:
      out = Bytes{std::string(GetString(p))};
      return;
    case kTagTimestamp:
      out = Timestamp{UnZigZag(GetVarint(p))};
      return;
    case kTagList: {
      const std::size_t n = GetVarint(p);
      if (List* existing = out.Get<List>()) {  // reuse the scratch list and its elements
        existing->resize(n);
        for (Value& e : *existing) DecodeValue(p, e);
        return;
      }
      List list(n);
      for (Value& e : list) DecodeValue(p, e);
      out = std::move(list);
      return;
    }
    case kTagObject: {
      Object o;
      DecodeObject(p, o);
      out = std::move(o);
      return;
    }
    case kTagVector: {
      const std::size_t n = GetVarint(p);
      Vector vec(n);
      if (n > 0) std::memcpy(vec.data(), p, n * sizeof(float));
      p += n * sizeof(float);
      out = std::move(vec);
      return;
    }
    default:
      throw Error(ErrorCode::kInternal, "corrupt row in memory store", "memory");
  }
}

// Walks the fields of a row; calls visit(name_id, type_byte, value_ptr) for each until it returns
// true. Returns a pointer just past the fields (to the record metadata) when all were visited.
template <class Visit>
const std::uint8_t* ForEachField(const std::uint8_t* p, Visit&& visit) {
  const std::size_t count = GetVarint(p);
  for (std::size_t i = 0; i < count; ++i) {
    const auto name_id = static_cast<std::uint32_t>(GetVarint(p));
    const std::uint8_t type = *p++;
    const std::size_t size = GetVarint(p);
    if (visit(name_id, type, p)) return nullptr;
    p += size;
    if (type & kHasMetadata) {
      Object skipped;
      DecodeObject(p, skipped);
    }
  }
  return p;
}

// Skips the size, id and version header; returns a pointer to the field count.
const std::uint8_t* FieldsStart(const std::uint8_t* bytes) {
  const std::uint8_t* p = bytes + 4;
  const std::size_t id_len = GetVarint(p);
  p += id_len;
  GetVarint(p);
  return p;
}

}  // namespace

// ---- FieldDictionary ----

std::uint32_t FieldDictionary::Intern(std::string_view name, std::size_t position) {
  const bool hinted = position < 64;
  if (hinted && position < last_at_position_.size()) {
    const std::uint32_t guess = last_at_position_[position];
    if (names_[guess] == name) return guess;
  }
  std::uint32_t id;
  if (auto it = ids_.find(name); it != ids_.end()) {
    id = it->second;
  } else {
    id = static_cast<std::uint32_t>(names_.size());
    names_.emplace_back(name);
    ids_.emplace(names_.back(), id);
  }
  if (hinted) {
    if (position >= last_at_position_.size()) last_at_position_.resize(position + 1, id);
    last_at_position_[position] = id;
  }
  return id;
}

std::optional<std::uint32_t> FieldDictionary::Find(std::string_view name) const {
  auto it = ids_.find(name);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

// ---- RowWriter, RowEncoder ----

void RowWriter::PatchLongLength(std::size_t at, std::uint64_t v) {
  char length[10];
  std::size_t n = 0;
  while (v >= 0x80) {
    length[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  length[n++] = static_cast<char>(v);
  Ensure(n);
  std::memmove(bytes_.data() + at + n, bytes_.data() + at + 1, pos_ - at - 1);
  std::memcpy(bytes_.data() + at, length, n);
  pos_ += n - 1;
}

void RowEncoder::Begin(std::string_view id, std::uint64_t version, std::size_t field_count) {
  out_.Clear();
  out_.Ensure(4 + 20);
  out_.Raw("\0\0\0\0", 4);  // the total size, patched in by Finish
  out_.String(id);
  out_.Ensure(20);
  out_.Varint(version);
  out_.Varint(field_count);
}

void RowEncoder::Any(const Value& value) {
  EncodeValue(out_, value);
}

void RowEncoder::WriteMetadata(const Object& metadata) {
  EncodeObject(out_, metadata);
}

Row RowEncoder::Finish(const Object& record_metadata) {
  out_.Ensure(1);
  out_.Byte(record_metadata.empty() ? 0 : 1);
  if (!record_metadata.empty()) EncodeObject(out_, record_metadata);
  Row row;
  row.bytes_ = std::make_unique_for_overwrite<std::uint8_t[]>(out_.size());
  std::memcpy(row.bytes_.get(), out_.data(), out_.size());
  const auto total = static_cast<std::uint32_t>(out_.size());
  std::memcpy(row.bytes_.get(), &total, 4);
  return row;
}

// ---- Row ----

Row Row::Encode(const Record& record, std::string_view id, std::uint64_t version,
                FieldDictionary& dictionary) {
  thread_local RowEncoder encoder;
  encoder.Begin(id, version, record.size());
  std::size_t position = 0;
  for (const Field& f : record.fields()) {
    encoder.BeginField(dictionary.Intern(f.name, position++), f.type, !f.metadata.empty());
    try {
      encoder.Any(f.value);
      encoder.EndField(f.metadata);
    } catch (const RowEncoder::NonFinite&) {
      throw Error(ErrorCode::kInvalidArgument,
                  "field '" + f.name + "' holds NaN or infinity, which cannot be stored", "memory");
    }
  }
  try {
    return encoder.Finish(record.metadata());
  } catch (const RowEncoder::NonFinite&) {
    throw Error(ErrorCode::kInvalidArgument,
                "the record metadata holds NaN or infinity, which cannot be stored", "memory");
  }
}

std::size_t Row::size() const noexcept {
  std::uint32_t total;
  std::memcpy(&total, bytes_.get(), 4);
  return total;
}

std::string_view Row::id() const noexcept {
  const std::uint8_t* p = bytes_.get() + 4;
  return GetString(p);
}

std::uint64_t Row::version() const noexcept {
  const std::uint8_t* p = bytes_.get() + 4;
  GetString(p);
  return GetVarint(p);
}

Record Row::Decode(const FieldDictionary& dictionary) const {
  Record record;
  DecodeInto(dictionary, record);
  return record;
}

void Row::DecodeInto(const FieldDictionary& dictionary, Record& record) const {
  const std::uint8_t* p = bytes_.get() + 4;
  record.set_id(GetString(p));
  record.set_version(GetVarint(p));
  const std::uint8_t* fields_start = p;
  std::vector<Field>& fields = record.mutable_fields();
  fields.resize(GetVarint(fields_start));  // existing fields keep their buffers for reuse
  std::size_t i = 0;
  const std::uint8_t* end =
      ForEachField(p, [&](std::uint32_t name_id, std::uint8_t type, const std::uint8_t* value) {
        Field& f = fields[i++];
        f.name.assign(dictionary.Name(name_id));
        f.type = static_cast<FieldType>(type & ~kHasMetadata);
        DecodeValue(value, f.value);
        if (type & kHasMetadata) {
          f.metadata = Object();
          DecodeObject(value, f.metadata);
        } else if (!f.metadata.empty()) {
          f.metadata = Object();
        }
        return false;
      });
  if (!record.metadata().empty()) record.metadata() = Object();
  if (*end++) DecodeObject(end, record.metadata());
}

Record Row::DecodeFields(const FieldDictionary& dictionary,
                         const std::vector<ProjectedField>& fields) const {
  Record record;
  const std::uint8_t* p = bytes_.get() + 4;
  record.set_id(std::string(GetString(p)));
  record.set_version(GetVarint(p));
  const std::uint8_t* end =
      ForEachField(p, [](std::uint32_t, std::uint8_t, const std::uint8_t*) { return false; });
  if (*end++) DecodeObject(end, record.metadata());
  auto take = [&](std::uint32_t wanted) {
    bool found = false;
    ForEachField(p, [&](std::uint32_t name_id, std::uint8_t type, const std::uint8_t* value) {
      if (name_id != wanted) return false;
      found = true;
      if (record.FindField(dictionary.Name(name_id)) != nullptr) return true;
      Field& f = record.mutable_fields().emplace_back();
      f.name = dictionary.Name(name_id);
      f.type = static_cast<FieldType>(type & ~kHasMetadata);
      DecodeValue(value, f.value);
      if (type & kHasMetadata) DecodeObject(value, f.metadata);
      return true;
    });
    return found;
  };
  for (const ProjectedField& field : fields) {
    if (field.whole_id && take(*field.whole_id)) continue;
    if (field.head_id) take(*field.head_id);
  }
  return record;
}

bool Row::DecodeField(std::uint32_t name_id, Value& out) const {
  bool found = false;
  ForEachField(FieldsStart(bytes_.get()),
               [&](std::uint32_t id, std::uint8_t, const std::uint8_t* value) {
                 if (id != name_id) return false;
                 DecodeValue(value, out);
                 found = true;
                 return true;
               });
  return found;
}

// ---- RowPath ----

RowPath::RowPath(std::string_view path, const FieldDictionary& dictionary)
    : is_record_id_(path == kIdPath), whole_id_(dictionary.Find(path)) {
  const std::size_t dot = path.find('.');
  if (dot != std::string_view::npos) {
    head_id_ = dictionary.Find(path.substr(0, dot));
    rest_ = std::string(path.substr(dot + 1));
  }
}

const Value* RowPath::Lookup(const Row& row, Value& scratch) const {
  if (is_record_id_) {
    scratch = std::string(row.id());
    return &scratch;
  }
  if (whole_id_ && row.DecodeField(*whole_id_, scratch)) return &scratch;
  if (head_id_ && row.DecodeField(*head_id_, scratch)) return scratch.FindPath(rest_);
  return nullptr;
}

}  // namespace dkdata::internal
