#include "backends/memory/memory_rows.hpp"

#include <cstring>

#include "dkdata/errors.hpp"

namespace dkdata::internal {

namespace {

enum Tag : std::uint8_t {
  kTagNull,
  kTagFalse,
  kTagTrue,
  kTagInt,
  kTagFloat,
  kTagString,
  kTagBytes,
  kTagTimestamp,
  kTagList,
  kTagObject,
  kTagVector,
};

constexpr std::uint8_t kHasMetadata = 0x80;

void PutVarint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
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

std::uint64_t ZigZag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
std::int64_t UnZigZag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

void PutString(std::string& out, std::string_view s) {
  PutVarint(out, s.size());
  out.append(s);
}

void EncodeValue(std::string& out, const Value& v);

void EncodeObject(std::string& out, const Object& o) {
  PutVarint(out, o.size());
  for (const auto& [key, value] : o) {
    PutString(out, key);
    EncodeValue(out, value);
  }
}

void EncodeValue(std::string& out, const Value& v) {
  switch (v.kind()) {
    case ValueKind::kNull:
      out.push_back(kTagNull);
      break;
    case ValueKind::kBool:
      out.push_back(*v.Get<bool>() ? kTagTrue : kTagFalse);
      break;
    case ValueKind::kInt:
      out.push_back(kTagInt);
      PutVarint(out, ZigZag(*v.Get<std::int64_t>()));
      break;
    case ValueKind::kFloat: {
      out.push_back(kTagFloat);
      char buf[8];
      std::memcpy(buf, v.Get<double>(), 8);
      out.append(buf, 8);
      break;
    }
    case ValueKind::kString:
      out.push_back(kTagString);
      PutString(out, *v.Get<std::string>());
      break;
    case ValueKind::kBytes:
      out.push_back(kTagBytes);
      PutString(out, v.Get<Bytes>()->data);
      break;
    case ValueKind::kTimestamp:
      out.push_back(kTagTimestamp);
      PutVarint(out, ZigZag(v.Get<Timestamp>()->micros));
      break;
    case ValueKind::kList:
      out.push_back(kTagList);
      PutVarint(out, v.Get<List>()->size());
      for (const Value& e : *v.Get<List>()) EncodeValue(out, e);
      break;
    case ValueKind::kObject:
      out.push_back(kTagObject);
      EncodeObject(out, *v.Get<Object>());
      break;
    case ValueKind::kVector: {
      out.push_back(kTagVector);
      const Vector& vec = *v.Get<Vector>();
      PutVarint(out, vec.size());
      out.append(reinterpret_cast<const char*>(vec.data()), vec.size() * sizeof(float));
      break;
    }
  }
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
    case kTagString: {
      const std::string_view s = GetString(p);
      if (auto* existing = out.Get<std::string>()) {
        existing->assign(s);  // reuses the scratch value's buffer
      } else {
        out = std::string(s);
      }
      return;
    }
    case kTagBytes:
      out = Bytes{std::string(GetString(p))};
      return;
    case kTagTimestamp:
      out = Timestamp{UnZigZag(GetVarint(p))};
      return;
    case kTagList: {
      const std::size_t n = GetVarint(p);
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
      std::memcpy(vec.data(), p, n * sizeof(float));
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

// ---- Row ----

Row Row::Encode(const Record& record, std::string_view id, std::uint64_t version,
                FieldDictionary& dictionary) {
  thread_local std::string buf;
  buf.assign(4, '\0');
  PutString(buf, id);
  PutVarint(buf, version);
  PutVarint(buf, record.size());
  std::size_t position = 0;
  for (const Field& f : record.fields()) {
    PutVarint(buf, dictionary.Intern(f.name, position++));
    const bool has_metadata = !f.metadata.empty();
    buf.push_back(
        static_cast<char>(static_cast<std::uint8_t>(f.type) | (has_metadata ? kHasMetadata : 0)));
    // Encode the value in place after a one-byte length; values of 128 bytes or more (rare) need a
    // longer varint, and the value is moved right to make room.
    const std::size_t length_at = buf.size();
    buf.push_back('\0');
    EncodeValue(buf, f.value);
    const std::size_t value_size = buf.size() - length_at - 1;
    if (value_size < 0x80) {
      buf[length_at] = static_cast<char>(value_size);
    } else {
      std::string length;
      PutVarint(length, value_size);
      buf.replace(length_at, 1, length);
    }
    if (has_metadata) EncodeObject(buf, f.metadata);
  }
  buf.push_back(record.metadata().empty() ? 0 : 1);
  if (!record.metadata().empty()) EncodeObject(buf, record.metadata());
  const auto total = static_cast<std::uint32_t>(buf.size());
  std::memcpy(buf.data(), &total, 4);
  Row row;
  row.bytes_ = std::make_unique_for_overwrite<std::uint8_t[]>(buf.size());
  std::memcpy(row.bytes_.get(), buf.data(), buf.size());
  return row;
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
  const std::uint8_t* p = bytes_.get() + 4;
  record.set_id(std::string(GetString(p)));
  record.set_version(GetVarint(p));
  const std::uint8_t* fields = p;
  const std::size_t count = GetVarint(fields);
  record.mutable_fields().reserve(count);
  const std::uint8_t* end =
      ForEachField(p, [&](std::uint32_t name_id, std::uint8_t type, const std::uint8_t* value) {
        Field& f = record.mutable_fields().emplace_back();
        f.name = dictionary.Name(name_id);
        f.type = static_cast<FieldType>(type & ~kHasMetadata);
        DecodeValue(value, f.value);
        if (type & kHasMetadata) DecodeObject(value, f.metadata);
        return false;
      });
  if (*end++) DecodeObject(end, record.metadata());
  return record;
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
    : whole_id_(dictionary.Find(path)) {
  const std::size_t dot = path.find('.');
  if (dot != std::string_view::npos) {
    head_id_ = dictionary.Find(path.substr(0, dot));
    rest_ = std::string(path.substr(dot + 1));
  }
}

const Value* RowPath::Lookup(const Row& row, Value& scratch) const {
  if (whole_id_ && row.DecodeField(*whole_id_, scratch)) return &scratch;
  if (head_id_ && row.DecodeField(*head_id_, scratch)) return scratch.FindPath(rest_);
  return nullptr;
}

}  // namespace dkdata::internal
