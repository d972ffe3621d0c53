// formats/parquet/parquet_records.cpp: see parquet_records.hpp and docs/parquet-format.md.
#include "formats/parquet/parquet_records.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <exception>
#include <limits>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/utf8.hpp"
#include "core/worker_pool.hpp"
#include "dkdata/errors.hpp"
#include "dkdata/json.hpp"

namespace dkdata::internal::parquet {
namespace {

[[noreturn]] void Invalid(std::string message) {
  throw Error(ErrorCode::kInvalidArgument, std::move(message));
}

// ---- Reading: how a column's stored values become Values ----

// The most digits of a DECIMAL the reader converts (Decimal256's, as in Arrow).
constexpr std::int32_t kMaxDecimalPrecision = 76;

enum class Conversion : std::uint8_t {
  kBool,
  kInt32,
  kUInt32,
  kInt64,
  kUInt64,
  kFloat,
  kDouble,
  kFloat16,
  kString,
  kJson,
  kBytes,
  kUuid,
  kDecimalAsFloat,
  kDecimalAsText,
  kDate,
  kTimeMillis,
  kTimeMicros,
  kTimeNanos,
  kTimestampMillis,
  kTimestampMicros,
  kTimestampNanos,
  kInt96Timestamp,
};

[[noreturn]] void UnsupportedColumn(const ParquetFileReader& reader, const std::string& column,
                                    std::string_view what) {
  throw Error(ErrorCode::kUnsupported, reader.name() + ": column '" + column +
                                           "': " + std::string(what) +
                                           " (read the other fields with a projection)");
}

// The conversion of a leaf by its logical type (or, without one, its converted type).
Conversion ConversionOf(const ParquetFileReader& reader, const SchemaElement& element,
                        const std::string& column) {
  const Type type = *element.type;
  auto unsupported = [&](std::string_view annotation) -> Conversion {
    UnsupportedColumn(reader, column,
                      std::string(annotation) + " on " + TypeName(type) + " is not supported");
  };
  auto decimal = [&](std::int32_t precision, std::int32_t scale) {
    if (type == Type::kBoolean || type == Type::kFloat || type == Type::kDouble ||
        type == Type::kInt96) {
      return unsupported("DECIMAL");
    }
    // The scale pads values with zeros ("0.0001"): bounded by the precision, and that by
    // Decimal256's 76 digits (what pyarrow and DuckDB read), so a scale from the file never sizes
    // a string on its own.
    if (precision > kMaxDecimalPrecision) {
      unsupported("DECIMAL(" + std::to_string(precision) + ") above " +
                  std::to_string(kMaxDecimalPrecision) + " digits");
    }
    if (scale < 0 || scale > std::max(precision, 0)) {
      throw Error(ErrorCode::kInvalidArgument, reader.name() + ": column '" + column +
                                                   "': DECIMAL scale " + std::to_string(scale) +
                                                   " is outside 0.." + std::to_string(precision));
    }
    return precision >= 1 && precision <= 15 ? Conversion::kDecimalAsFloat
                                             : Conversion::kDecimalAsText;
  };
  auto timestamp = [&](TimeUnit unit) {
    if (type != Type::kInt64) return unsupported("TIMESTAMP");
    return unit == TimeUnit::kMillis   ? Conversion::kTimestampMillis
           : unit == TimeUnit::kMicros ? Conversion::kTimestampMicros
                                       : Conversion::kTimestampNanos;
  };
  auto time = [&](TimeUnit unit) {
    if (unit == TimeUnit::kMillis ? type != Type::kInt32 : type != Type::kInt64) {
      return unsupported("TIME");
    }
    return unit == TimeUnit::kMillis   ? Conversion::kTimeMillis
           : unit == TimeUnit::kMicros ? Conversion::kTimeMicros
                                       : Conversion::kTimeNanos;
  };
  auto integer = [&](int bits, bool is_signed) {
    if (type == Type::kInt32 && bits <= 32) {
      return is_signed || bits < 32 ? Conversion::kInt32 : Conversion::kUInt32;
    }
    if (type == Type::kInt64) return is_signed ? Conversion::kInt64 : Conversion::kUInt64;
    return unsupported("INTEGER");
  };
  auto text = [&](std::string_view annotation) {
    if (type != Type::kByteArray && type != Type::kFixedLenByteArray)
      return unsupported(annotation);
    return Conversion::kString;
  };
  if (element.logical_type) {
    const LogicalType& logical = *element.logical_type;
    switch (logical.kind) {
      case LogicalTypeKind::kString:
      case LogicalTypeKind::kEnum:
        return text("STRING");
      case LogicalTypeKind::kJson:
        text("JSON");
        return Conversion::kJson;
      case LogicalTypeKind::kBson:
        return Conversion::kBytes;
      case LogicalTypeKind::kDecimal:
        return decimal(logical.decimal_precision, logical.decimal_scale);
      case LogicalTypeKind::kDate:
        if (type != Type::kInt32) return unsupported("DATE");
        return Conversion::kDate;
      case LogicalTypeKind::kTime:
        return time(logical.unit);
      case LogicalTypeKind::kTimestamp:
        return timestamp(logical.unit);
      case LogicalTypeKind::kInteger:
        return integer(logical.bit_width, logical.is_signed);
      case LogicalTypeKind::kUuid:
        if (type != Type::kFixedLenByteArray || element.type_length != 16)
          return unsupported("UUID");
        return Conversion::kUuid;
      case LogicalTypeKind::kFloat16:
        if (type != Type::kFixedLenByteArray || element.type_length != 2) {
          return unsupported("FLOAT16");
        }
        return Conversion::kFloat16;
      case LogicalTypeKind::kNull:
        break;  // always null: the physical type reads the (absent) values
      default:
        break;  // an annotation we do not know: read the physical type
    }
  } else if (element.converted_type) {
    switch (*element.converted_type) {
      case ConvertedType::kUtf8:
      case ConvertedType::kEnum:
        return text("UTF8");
      case ConvertedType::kJson:
        text("JSON");
        return Conversion::kJson;
      case ConvertedType::kBson:
        return Conversion::kBytes;
      case ConvertedType::kDecimal:
        return decimal(element.precision.value_or(0), element.scale.value_or(0));
      case ConvertedType::kDate:
        if (type != Type::kInt32) return unsupported("DATE");
        return Conversion::kDate;
      case ConvertedType::kTimeMillis:
        return time(TimeUnit::kMillis);
      case ConvertedType::kTimeMicros:
        return time(TimeUnit::kMicros);
      case ConvertedType::kTimestampMillis:
        return timestamp(TimeUnit::kMillis);
      case ConvertedType::kTimestampMicros:
        return timestamp(TimeUnit::kMicros);
      case ConvertedType::kInt8:
        return integer(8, true);
      case ConvertedType::kInt16:
        return integer(16, true);
      case ConvertedType::kInt32:
        return integer(32, true);
      case ConvertedType::kInt64:
        return integer(64, true);
      case ConvertedType::kUint8:
        return integer(8, false);
      case ConvertedType::kUint16:
        return integer(16, false);
      case ConvertedType::kUint32:
        return integer(32, false);
      case ConvertedType::kUint64:
        return integer(64, false);
      case ConvertedType::kInterval:
        return unsupported("INTERVAL");
      default:
        break;
    }
  }
  switch (type) {
    case Type::kBoolean:
      return Conversion::kBool;
    case Type::kInt32:
      return Conversion::kInt32;
    case Type::kInt64:
      return Conversion::kInt64;
    case Type::kInt96:
      return Conversion::kInt96Timestamp;
    case Type::kFloat:
      return Conversion::kFloat;
    case Type::kDouble:
      return Conversion::kDouble;
    case Type::kByteArray:
    case Type::kFixedLenByteArray:
      return Conversion::kBytes;
  }
  return Conversion::kBytes;
}

// Dates and INT96 timestamps are days, Timestamp microseconds: days beyond kMaxDays (about
// 292 000 years) do not fit.
constexpr std::int64_t kMicrosPerDay = 86'400'000'000;
constexpr std::int64_t kMaxDays = std::numeric_limits<std::int64_t>::max() / kMicrosPerDay;

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// "HH:MM:SS" and, when not zero, the fraction with `digits` digits.
std::string TimeText(std::int64_t units, std::int64_t per_second, int digits) {
  const std::int64_t seconds = FloorDiv(units, per_second);
  // Not units - seconds * per_second: that product overflows for units near INT64_MIN.
  std::int64_t fraction = units % per_second;
  if (fraction < 0) fraction += per_second;
  char buffer[40];
  int n = std::snprintf(
      buffer, sizeof buffer, "%02lld:%02lld:%02lld", static_cast<long long>(seconds / 3600),
      static_cast<long long>(seconds / 60 % 60), static_cast<long long>(seconds % 60));
  if (fraction != 0) {
    n += std::snprintf(buffer + n, sizeof buffer - static_cast<std::size_t>(n), ".%0*lld", digits,
                       static_cast<long long>(fraction));
  }
  return std::string(buffer, static_cast<std::size_t>(n));
}

// A big-endian two's-complement integer of any length as decimal digits (sign included).
std::string BigEndianToDecimal(std::string_view bytes) {
  if (bytes.empty()) return "0";
  const bool negative = (static_cast<unsigned char>(bytes[0]) & 0x80) != 0;
  std::vector<std::uint8_t> magnitude(bytes.begin(), bytes.end());
  if (negative) {  // two's complement: invert and add one
    for (std::uint8_t& b : magnitude) b = static_cast<std::uint8_t>(~b);
    for (std::size_t i = magnitude.size(); i-- > 0;) {
      if (++magnitude[i] != 0) break;
    }
  }
  std::string digits;
  // Repeated division by 10 of the base-256 number.
  std::size_t start = 0;
  while (start < magnitude.size()) {
    unsigned remainder = 0;
    for (std::size_t i = start; i < magnitude.size(); ++i) {
      const unsigned current = (remainder << 8) | magnitude[i];
      magnitude[i] = static_cast<std::uint8_t>(current / 10);
      remainder = current % 10;
    }
    digits.push_back(static_cast<char>('0' + remainder));
    while (start < magnitude.size() && magnitude[start] == 0) ++start;
  }
  if (negative) digits.push_back('-');
  std::reverse(digits.begin(), digits.end());
  return digits;
}

// Places the decimal point `scale` digits from the right of an integer's text.
std::string ScaleDecimal(std::string digits, std::int32_t scale) {
  if (scale <= 0) {
    if (scale < 0 && digits != "0") digits.append(static_cast<std::size_t>(-scale), '0');
    return digits;
  }
  const bool negative = !digits.empty() && digits[0] == '-';
  std::string body = negative ? digits.substr(1) : digits;
  const auto places = static_cast<std::size_t>(scale);
  if (body.size() <= places) body.insert(0, places + 1 - body.size(), '0');
  body.insert(body.size() - places, 1, '.');
  return negative ? "-" + body : body;
}

std::string IntegerText(std::int64_t value) {
  char buffer[24];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

float HalfToFloat(std::uint16_t half) {
  const std::uint32_t sign = (half & 0x8000u) << 16;
  const std::uint32_t exponent = (half >> 10) & 0x1F;
  std::uint32_t mantissa = half & 0x3FFu;
  std::uint32_t bits;
  if (exponent == 0x1F) {
    bits = sign | 0x7F800000u | (mantissa << 13);
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;
  } else {  // subnormal: normalise
    int shift = 0;
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      ++shift;
    }
    mantissa &= 0x3FFu;
    bits = sign | (static_cast<std::uint32_t>(113 - shift) << 23) | (mantissa << 13);
  }
  return std::bit_cast<float>(bits);
}

// Where a row's value is: for the messages of conversions that can fail.
struct CellPlace {
  const ParquetFileReader* reader;
  std::size_t row_group;
  const std::string* column;
  std::int64_t row;  // in the row group
};

[[noreturn]] void InvalidCell(const CellPlace& place, std::string_view what) {
  Invalid(place.reader->name() + ": row group " + std::to_string(place.row_group) + ", column '" +
          *place.column + "', row " + std::to_string(place.row) + ": " + std::string(what));
}

// One stored value (index i of the column's present values) as a Value.
Value ConvertValue(const ColumnData& data, std::size_t i, Conversion conversion,
                   const SchemaElement& element, const CellPlace& place) {
  switch (conversion) {
    case Conversion::kBool:
      return Value(data.booleans[i] != 0);
    case Conversion::kInt32:
      return Value(static_cast<std::int64_t>(data.int32s[i]));
    case Conversion::kUInt32:
      return Value(static_cast<std::int64_t>(static_cast<std::uint32_t>(data.int32s[i])));
    case Conversion::kInt64:
      return Value(static_cast<std::int64_t>(data.int64s[i]));
    case Conversion::kUInt64: {
      const auto value = static_cast<std::uint64_t>(data.int64s[i]);
      if (value <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return Value(static_cast<std::int64_t>(value));
      }
      return Value(std::to_string(value));  // exact, as text: int64 cannot hold it
    }
    case Conversion::kFloat:
      return Value(static_cast<double>(data.floats[i]));
    case Conversion::kDouble:
      return Value(data.doubles[i]);
    case Conversion::kFloat16: {
      const std::string_view bytes = data.byte_arrays[i];
      const auto half = static_cast<std::uint16_t>(static_cast<unsigned char>(bytes[0]) |
                                                   (static_cast<unsigned char>(bytes[1]) << 8));
      return Value(static_cast<double>(HalfToFloat(half)));
    }
    case Conversion::kString: {
      const std::string_view text = data.byte_arrays[i];
      if (!ValidUtf8(text)) InvalidCell(place, "invalid UTF-8 in a string column");
      return Value(text);
    }
    case Conversion::kJson: {
      const std::string_view text = data.byte_arrays[i];
      try {
        return ParseJson(text);
      } catch (const Error& error) {
        InvalidCell(place, std::string("JSON column holds invalid JSON: ") + error.what());
      }
    }
    case Conversion::kBytes:
      return Value(Bytes{std::string(data.byte_arrays[i])});
    case Conversion::kUuid: {
      static constexpr char kHex[] = "0123456789abcdef";
      const std::string_view bytes = data.byte_arrays[i];
      std::string text;
      text.reserve(36);
      for (std::size_t b = 0; b < 16; ++b) {
        if (b == 4 || b == 6 || b == 8 || b == 10) text.push_back('-');
        const auto byte = static_cast<unsigned char>(bytes[b]);
        text.push_back(kHex[byte >> 4]);
        text.push_back(kHex[byte & 15]);
      }
      return Value(std::move(text));
    }
    case Conversion::kDecimalAsFloat:
    case Conversion::kDecimalAsText: {
      std::string digits;
      if (element.type == Type::kInt32) {
        digits = IntegerText(data.int32s[i]);
      } else if (element.type == Type::kInt64) {
        digits = IntegerText(data.int64s[i]);
      } else {
        digits = BigEndianToDecimal(data.byte_arrays[i]);
      }
      const std::int32_t scale =
          element.logical_type ? element.logical_type->decimal_scale : element.scale.value_or(0);
      std::string text = ScaleDecimal(std::move(digits), scale);
      if (conversion == Conversion::kDecimalAsText) return Value(std::move(text));
      double number = 0;
      std::from_chars(text.data(), text.data() + text.size(), number);
      return Value(number);
    }
    case Conversion::kDate: {
      const std::int64_t days = data.int32s[i];
      if (days > kMaxDays || days < -kMaxDays) InvalidCell(place, "date out of range");
      return Value(Timestamp{days * kMicrosPerDay});
    }
    case Conversion::kTimeMillis:
      return Value(TimeText(data.int32s[i], 1000, 3));
    case Conversion::kTimeMicros:
      return Value(TimeText(data.int64s[i], 1'000'000, 6));
    case Conversion::kTimeNanos:
      return Value(TimeText(data.int64s[i], 1'000'000'000, 9));
    case Conversion::kTimestampMillis: {
      const std::int64_t millis = data.int64s[i];
      if (millis > std::numeric_limits<std::int64_t>::max() / 1000 ||
          millis < std::numeric_limits<std::int64_t>::min() / 1000) {
        InvalidCell(place, "timestamp out of range");
      }
      return Value(Timestamp{millis * 1000});
    }
    case Conversion::kTimestampMicros:
      return Value(Timestamp{data.int64s[i]});
    case Conversion::kTimestampNanos:
      return Value(Timestamp{FloorDiv(data.int64s[i], 1000)});
    case Conversion::kInt96Timestamp: {
      const Int96& raw = data.int96s[i];
      std::uint64_t nanos = 0;
      std::uint32_t julian = 0;
      for (int b = 7; b >= 0; --b) nanos = (nanos << 8) | raw[static_cast<std::size_t>(b)];
      for (int b = 11; b >= 8; --b) julian = (julian << 8) | raw[static_cast<std::size_t>(b)];
      const std::int64_t days = static_cast<std::int64_t>(julian) - 2'440'588;  // 1970-01-01
      // Below 2^64 / 1000: nanos / 1000 fits.
      const auto micros = static_cast<std::int64_t>(nanos / 1000);
      if (days > (std::numeric_limits<std::int64_t>::max() - micros) / kMicrosPerDay) {
        InvalidCell(place, "INT96 timestamp out of range");
      }
      return Value(Timestamp{days * kMicrosPerDay + micros});
    }
  }
  return Value();
}

// A top-level field and the one leaf column that holds it.
struct FieldColumn {
  std::string name;
  std::size_t leaf = 0;
  Conversion conversion = Conversion::kBytes;
  bool is_list = false;
  // Lists: below list_level the list is null, below element_level empty; a present element has
  // the leaf's max definition level.
  std::uint32_t list_level = 0;
  std::uint32_t element_level = 0;
  bool as_vector = false;                  // a list of FLOAT: a Vector when it has no null element
  const SchemaElement* element = nullptr;  // the leaf's
};

bool IsListAnnotated(const SchemaElement& element) {
  return (element.logical_type && element.logical_type->kind == LogicalTypeKind::kList) ||
         (!element.logical_type && element.converted_type == ConvertedType::kList);
}

// Levels counted along a leaf's path up to and including element k of it.
std::uint32_t DefinitionLevelAt(const FileMetaData& metadata, const LeafColumn& leaf,
                                std::size_t k) {
  std::uint32_t level = 0;
  for (std::size_t e = 0; e <= k; ++e) {
    if (metadata.schema[leaf.elements[e]].repetition_type.value_or(
            FieldRepetitionType::kRequired) != FieldRepetitionType::kRequired) {
      ++level;
    }
  }
  return level;
}

// The plan of a read: which leaf holds which field, and the special columns.
struct ReadPlan {
  std::vector<FieldColumn> fields;
  std::vector<std::string> columns;  // fields[f]'s leaf path, for messages
  std::optional<std::size_t> id_leaf, version_leaf, metadata_leaf;
  std::vector<std::size_t> leaves;  // every leaf to read, in schema order
};

bool Selected(const std::vector<std::string>& fields, std::string_view name) {
  if (fields.empty()) return true;
  for (const std::string& path : fields) {
    const std::string_view first = std::string_view(path).substr(0, path.find('.'));
    if (first == name || path == name) return true;
  }
  return false;
}

ReadPlan MakeReadPlan(const ParquetFileReader& reader, const std::vector<std::string>& fields) {
  const FileMetaData& metadata = reader.metadata();
  const std::vector<LeafColumn>& leaves = reader.leaves();
  ReadPlan plan;
  for (std::size_t l = 0; l < leaves.size();) {
    const LeafColumn& leaf = leaves[l];
    const std::size_t top = leaf.elements.front();
    // The leaves under the same top-level element.
    std::size_t end = l + 1;
    while (end < leaves.size() && leaves[end].elements.front() == top) ++end;
    const std::string& name = leaf.path.front();
    const bool single_flat_leaf =
        end == l + 1 && leaf.elements.size() == 1 && leaf.max_repetition_level == 0;
    auto special = [&](std::optional<std::size_t>& slot) {
      if (!single_flat_leaf) return false;
      slot = l;
      return true;
    };
    if ((name == kIdColumn && special(plan.id_leaf)) ||
        (name == kVersionColumn && special(plan.version_leaf)) ||
        (name == kMetadataColumn && special(plan.metadata_leaf))) {
      plan.leaves.push_back(l);
      l = end;
      continue;
    }
    if (!Selected(fields, name)) {
      l = end;
      continue;
    }
    FieldColumn field;
    field.name = name;
    field.leaf = l;
    const std::string column = JoinPath(leaf.path);
    if (end != l + 1) {
      UnsupportedColumn(reader, name, "a group of several columns (a struct or map)");
    }
    if (leaf.max_repetition_level > 1) UnsupportedColumn(reader, column, "a list of lists");
    const SchemaElement& element = metadata.schema[leaf.elements.back()];
    if (leaf.max_repetition_level == 1) {
      // A list: find the repeated element; it must be the top element (a bare repeated field),
      // or its child (LIST annotation, 2- or 3-level form), with at most one more level below.
      std::size_t repeated = 0;
      while (metadata.schema[leaf.elements[repeated]].repetition_type !=
             FieldRepetitionType::kRepeated) {
        ++repeated;
      }
      if (repeated > 1 || leaf.elements.size() > repeated + 2 ||
          (repeated == 1 && !IsListAnnotated(metadata.schema[top]))) {
        UnsupportedColumn(reader, column, "a nested structure other than a list of values");
      }
      field.is_list = true;
      field.list_level = repeated == 0 ? 0 : DefinitionLevelAt(metadata, leaf, repeated - 1);
      field.element_level = DefinitionLevelAt(metadata, leaf, repeated);
      field.as_vector =
          element.type == Type::kFloat && !element.logical_type && !element.converted_type;
    } else if (leaf.elements.size() > 1) {
      UnsupportedColumn(reader, column, "a struct");
    }
    field.conversion = ConversionOf(reader, element, column);
    field.element = &element;
    plan.fields.push_back(std::move(field));
    plan.columns.push_back(column);
    plan.leaves.push_back(l);
    l = end;
  }
  return plan;
}

// ---- Row-group skipping from statistics ----

// A chunk's min and max as Values, when they can be trusted and compared as dkdata compares.
struct Bounds {
  std::optional<Value> min, max;
  std::optional<std::int64_t> null_count;
  std::int64_t num_values = 0;
};

std::optional<Value> StatValue(std::string_view plain, const SchemaElement& element,
                               Conversion conversion) {
  auto load32 = [&]() -> std::optional<std::int32_t> {
    if (plain.size() != 4) return std::nullopt;
    std::int32_t v;
    std::memcpy(&v, plain.data(), 4);
    return v;
  };
  auto load64 = [&]() -> std::optional<std::int64_t> {
    if (plain.size() != 8) return std::nullopt;
    std::int64_t v;
    std::memcpy(&v, plain.data(), 8);
    return v;
  };
  switch (conversion) {
    case Conversion::kBool:
      if (plain.size() != 1) return std::nullopt;
      return Value(plain[0] != 0);
    case Conversion::kInt32:
      if (auto v = load32()) return Value(static_cast<std::int64_t>(*v));
      return std::nullopt;
    case Conversion::kUInt32:
      if (auto v = load32())
        return Value(static_cast<std::int64_t>(static_cast<std::uint32_t>(*v)));
      return std::nullopt;
    case Conversion::kInt64:
      if (auto v = load64()) return Value(*v);
      return std::nullopt;
    case Conversion::kFloat:
      if (auto v = load32()) {
        const double d = std::bit_cast<float>(*v);
        if (std::isnan(d)) return std::nullopt;
        return Value(d);
      }
      return std::nullopt;
    case Conversion::kDouble:
      if (auto v = load64()) {
        const double d = std::bit_cast<double>(*v);
        if (std::isnan(d)) return std::nullopt;
        return Value(d);
      }
      return std::nullopt;
    case Conversion::kString:
      return Value(plain);
    case Conversion::kDate:
      if (auto v = load32())
        return Value(Timestamp{static_cast<std::int64_t>(*v) * 86'400'000'000});
      return std::nullopt;
    case Conversion::kTimestampMillis:
      if (auto v = load64()) {
        if (*v > std::numeric_limits<std::int64_t>::max() / 1000 ||
            *v < std::numeric_limits<std::int64_t>::min() / 1000) {
          return std::nullopt;
        }
        return Value(Timestamp{*v * 1000});
      }
      return std::nullopt;
    case Conversion::kTimestampMicros:
      if (auto v = load64()) return Value(Timestamp{*v});
      return std::nullopt;
    case Conversion::kTimestampNanos:
      if (auto v = load64()) return Value(Timestamp{FloorDiv(*v, 1000)});
      return std::nullopt;
    default:
      (void)element;
      return std::nullopt;  // orders dkdata does not share (decimals as text, JSON, bytes, ...)
  }
}

Bounds ChunkBounds(const FileMetaData& metadata, const ColumnMetaData& meta, std::size_t leaf,
                   const SchemaElement& element, Conversion conversion) {
  Bounds bounds;
  bounds.num_values = meta.num_values;
  if (!meta.statistics) return bounds;
  const Statistics& stats = *meta.statistics;
  bounds.null_count = stats.null_count;
  std::optional<std::string> min, max;
  if (leaf < metadata.column_orders.size() &&
      metadata.column_orders[leaf] == ColumnOrder::kTypeDefinedOrder) {
    min = stats.min_value;
    max = stats.max_value;
  }
  // The deprecated fields are in signed order: usable for the signed kinds only.
  const bool signed_order = conversion == Conversion::kBool || conversion == Conversion::kInt32 ||
                            conversion == Conversion::kInt64 || conversion == Conversion::kFloat ||
                            conversion == Conversion::kDouble || conversion == Conversion::kDate ||
                            conversion == Conversion::kTimestampMillis ||
                            conversion == Conversion::kTimestampMicros ||
                            conversion == Conversion::kTimestampNanos;
  if (!min && signed_order) min = stats.min;
  if (!max && signed_order) max = stats.max;
  if (min) bounds.min = StatValue(*min, element, conversion);
  if (max) bounds.max = StatValue(*max, element, conversion);
  // Float bounds: a zero may stand for either sign; widen them so that -0.0 == 0.0 holds.
  return bounds;
}

bool Before(const Value& a, const Value& b) {  // a < b, both comparable
  auto order = CompareValues(a, b);
  return order && *order == std::strong_ordering::less;
}

// Whether no row with these bounds can satisfy filter (true only when certain).
bool CannotMatch(const Filter& filter, const Bounds& bounds) {
  if (filter.value.is_null() && filter.op != Op::kExists && filter.op != Op::kNotExists) {
    return false;  // comparisons with null have rules of their own: never decided here
  }
  const bool all_null = bounds.null_count && *bounds.null_count == bounds.num_values;
  switch (filter.op) {
    case Op::kExists:
      return all_null;
    case Op::kNotExists:
      return bounds.null_count && *bounds.null_count == 0;
    default:
      break;
  }
  if (all_null) {
    // Every row lacks the field: comparisons fail, except the negative ones.
    return filter.op == Op::kEq || filter.op == Op::kGt || filter.op == Op::kGte ||
           filter.op == Op::kLt || filter.op == Op::kLte || filter.op == Op::kIn ||
           filter.op == Op::kBetween || filter.op == Op::kStartsWith;
  }
  if (!bounds.min || !bounds.max) return false;
  const Value& min = *bounds.min;
  const Value& max = *bounds.max;
  auto comparable = [&](const Value& v) {
    return CompareValues(v, min).has_value() && CompareValues(v, max).has_value();
  };
  auto outside = [&](const Value& v) {
    return comparable(v) && (Before(v, min) || Before(max, v));
  };
  switch (filter.op) {
    case Op::kEq:
      return outside(filter.value);
    case Op::kGt:  // every value <= literal
      return comparable(filter.value) && !Before(filter.value, max);
    case Op::kGte:
      return comparable(filter.value) && Before(max, filter.value);
    case Op::kLt:
      return comparable(filter.value) && !Before(min, filter.value);
    case Op::kLte:
      return comparable(filter.value) && Before(filter.value, min);
    case Op::kIn: {
      const List* list = filter.value.Get<List>();
      if (!list) return false;
      for (const Value& v : *list) {
        if (!outside(v)) return false;
      }
      return true;
    }
    case Op::kBetween: {
      const List* list = filter.value.Get<List>();
      if (!list || list->size() != 2) return false;
      const Value& low = (*list)[0];
      const Value& high = (*list)[1];
      return (comparable(high) && Before(high, min)) || (comparable(low) && Before(max, low));
    }
    default:
      return false;
  }
}

bool SkipRowGroup(const Expr& expr, const std::function<const Bounds*(std::string_view)>& bounds) {
  switch (expr.kind()) {
    case Expr::Kind::kFilter: {
      // The path `id` is the record's id, not a field (docs/query-semantics.md).
      if (expr.filter().field == "id") return false;
      const Bounds* b = bounds(expr.filter().field);
      return b != nullptr && CannotMatch(expr.filter(), *b);
    }
    case Expr::Kind::kAnd:
      for (const Expr& child : expr.children()) {
        if (SkipRowGroup(child, bounds)) return true;
      }
      return false;
    case Expr::Kind::kOr:
      if (expr.children().empty()) return true;
      for (const Expr& child : expr.children()) {
        if (!SkipRowGroup(child, bounds)) return false;
      }
      return true;
    case Expr::Kind::kNot:
      return false;
  }
  return false;
}

// ---- Reading rows ----

// What a `__metadata__` cell says about its row.
struct RowMetadata {
  Object record;
  const Object* fields = nullptr;
  const Object* types = nullptr;
  const List* nulls = nullptr;
  Value document;
};

void ParseRowMetadata(std::string_view text, const CellPlace& place, RowMetadata& out) {
  try {
    out.document = ParseJson(text);
  } catch (const Error& error) {
    InvalidCell(place, std::string("invalid JSON: ") + error.what());
  }
  const Object* object = out.document.Get<Object>();
  if (!object) InvalidCell(place, "not a JSON object");
  out.record = Object();
  out.fields = nullptr;
  out.types = nullptr;
  out.nulls = nullptr;
  if (const Value* record = object->Find("record")) {
    if (!record->Get<Object>()) InvalidCell(place, "\"record\" is not an object");
    out.record = *record->Get<Object>();
  }
  if (const Value* fields = object->Find("fields")) {
    if (!fields->Get<Object>()) InvalidCell(place, "\"fields\" is not an object");
    out.fields = fields->Get<Object>();
  }
  if (const Value* types = object->Find("types")) {
    if (!types->Get<Object>()) InvalidCell(place, "\"types\" is not an object");
    out.types = types->Get<Object>();
  }
  if (const Value* nulls = object->Find("nulls")) {
    if (!nulls->Get<List>()) InvalidCell(place, "\"nulls\" is not a list");
    out.nulls = nulls->Get<List>();
  }
}

// Walks a column's levels row by row.
struct ColumnCursor {
  const ColumnData* data = nullptr;
  std::size_t slot = 0;   // next level entry
  std::size_t value = 0;  // next present value
  std::uint32_t max_definition = 0;
};

// Where each column is at a row: its next level entry and its next present value.
struct CursorStart {
  std::size_t slot = 0;
  std::size_t value = 0;
};

// The cursors of the plan's leaves at each of the given rows (ascending, within the row group),
// found in one pass over each column's levels: starts[i * plan.leaves.size() + k] is the cursor
// of plan.leaves[k] at rows[i].
std::vector<CursorStart> CursorStarts(const ParquetFileReader& reader, const ReadPlan& plan,
                                      const std::vector<ColumnData>& chunks,
                                      const std::vector<std::int64_t>& rows) {
  const std::size_t width = plan.leaves.size();
  std::vector<CursorStart> starts(rows.size() * width);
  for (std::size_t k = 0; k < width; ++k) {
    const std::size_t leaf = plan.leaves[k];
    const ColumnData& data = chunks[leaf];
    const auto max = static_cast<std::uint32_t>(reader.leaves()[leaf].max_definition_level);
    const bool repeated = reader.leaves()[leaf].max_repetition_level > 0;
    std::size_t next = 0;  // the next row of rows to find
    std::size_t value = 0;
    std::int64_t row = -1;  // the row that the current slot belongs to
    const std::size_t slots = data.definition_levels.size();
    if (max == 0) {
      for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto r = static_cast<std::size_t>(rows[i]);
        starts[i * width + k] = CursorStart{r, r};
      }
      continue;
    }
    for (std::size_t slot = 0; slot < slots && next < rows.size(); ++slot) {
      if (!repeated || data.repetition_levels[slot] == 0) ++row;
      if (row == rows[next] && (!repeated || data.repetition_levels[slot] == 0)) {
        starts[next++ * width + k] = CursorStart{slot, value};
      }
      value += data.definition_levels[slot] == max;
    }
    for (; next < rows.size(); ++next) starts[next * width + k] = CursorStart{slots, value};
  }
  return starts;
}

// Builds the records of a run of rows of one row group from its decoded column chunks. One per
// thread: the reader, plan and chunks are only read.
class RowGroupAssembler {
 public:
  RowGroupAssembler(const ParquetFileReader& reader, const ReadPlan& plan, std::size_t row_group,
                    const std::vector<ColumnData>& chunks)
      : reader_(reader), plan_(plan), row_group_(row_group) {
    cursors_.resize(reader.leaves().size());
    for (std::size_t l : plan.leaves) {
      cursors_[l].data = &chunks[l];
      cursors_[l].max_definition =
          static_cast<std::uint32_t>(reader.leaves()[l].max_definition_level);
    }
  }

  // Rows [begin, end), the cursors of the plan's leaves at begin given (starts[k] for
  // plan.leaves[k]): row k's record is record_at(k), refilled (its fields keep their storage
  // where they can), then handed to emit.
  template <typename RecordAt, typename Emit>
  void Assemble(std::int64_t begin, std::int64_t end, const CursorStart* starts,
                RecordAt&& record_at, Emit&& emit) {
    for (std::size_t k = 0; k < plan_.leaves.size(); ++k) {
      cursors_[plan_.leaves[k]].slot = starts[k].slot;
      cursors_[plan_.leaves[k]].value = starts[k].value;
    }
    RowMetadata metadata;
    for (std::int64_t row = begin; row < end; ++row) {
      Record& record = record_at(row - begin);
      used_ = 0;
      record.mutable_fields().reserve(plan_.fields.size());
      if (!record.metadata().empty()) record.metadata() = Object();
      record.clear_id();
      record.set_version(0);
      bool has_metadata = false;
      if (plan_.metadata_leaf) {
        const CellPlace place{&reader_, row_group_, &metadata_name_, row};
        if (const std::string_view* text = NextBytes(*plan_.metadata_leaf)) {
          ParseRowMetadata(*text, place, metadata);
          has_metadata = true;
          record.metadata() = std::move(metadata.record);
        }
      }
      if (plan_.id_leaf) ReadId(*plan_.id_leaf, record, row);
      if (plan_.version_leaf) ReadVersion(*plan_.version_leaf, record, row);
      for (std::size_t f = 0; f < plan_.fields.size(); ++f) {
        ReadField(plan_.fields[f], f, row, record, has_metadata ? &metadata : nullptr);
      }
      record.mutable_fields().resize(used_);
      emit(record);
    }
  }

 private:
  bool NextPresent(ColumnCursor& cursor) {
    if (cursor.max_definition == 0) return true;
    return cursor.data->definition_levels[cursor.slot++] == cursor.max_definition;
  }

  const std::string_view* NextBytes(std::size_t leaf) {
    ColumnCursor& cursor = cursors_[leaf];
    const SchemaElement& element =
        reader_.metadata().schema[reader_.leaves()[leaf].elements.back()];
    if (!NextPresent(cursor)) return nullptr;
    if (element.type != Type::kByteArray) {
      Invalid(reader_.name() + ": column '" + reader_.leaves()[leaf].path.front() +
              "' is not BYTE_ARRAY");
    }
    return &cursor.data->byte_arrays[cursor.value++];
  }

  void ReadId(std::size_t leaf, Record& record, std::int64_t row) {
    ColumnCursor& cursor = cursors_[leaf];
    if (!NextPresent(cursor)) return;
    const SchemaElement& element =
        reader_.metadata().schema[reader_.leaves()[leaf].elements.back()];
    const std::size_t i = cursor.value++;
    switch (*element.type) {
      case Type::kByteArray:
        record.set_id(cursor.data->byte_arrays[i]);
        return;
      case Type::kInt32:
        record.set_id(IntegerText(cursor.data->int32s[i]));
        return;
      case Type::kInt64:
        record.set_id(IntegerText(cursor.data->int64s[i]));
        return;
      default:
        Invalid(reader_.name() + ": row group " + std::to_string(row_group_) + ", row " +
                std::to_string(row) + ": column '__id__' must hold strings or integers");
    }
  }

  void ReadVersion(std::size_t leaf, Record& record, std::int64_t row) {
    ColumnCursor& cursor = cursors_[leaf];
    if (!NextPresent(cursor)) return;
    const SchemaElement& element =
        reader_.metadata().schema[reader_.leaves()[leaf].elements.back()];
    const std::size_t i = cursor.value++;
    std::int64_t version = 0;
    if (element.type == Type::kInt64) {
      version = cursor.data->int64s[i];
    } else if (element.type == Type::kInt32) {
      version = cursor.data->int32s[i];
    } else {
      Invalid(reader_.name() + ": column '__version__' must hold integers");
    }
    if (version < 0) {
      Invalid(reader_.name() + ": row group " + std::to_string(row_group_) + ", row " +
              std::to_string(row) + ": negative __version__ " + std::to_string(version));
    }
    record.set_version(static_cast<std::uint64_t>(version));
  }

  // The next field of the record being refilled, named for plan field f: the one already at
  // that place when the record was not moved from (its name kept when it is the same), else a
  // new one.
  Field& NextField(Record& record, std::size_t f) {
    std::vector<Field>& fields = record.mutable_fields();
    if (used_ == fields.size()) fields.emplace_back();
    Field& field = fields[used_];
    const std::string& name = plan_.fields[f].name;
    if (field.name != name) field.name = name;
    if (!field.metadata.empty()) field.metadata = Object();
    ++used_;
    return field;
  }

  void ReadField(const FieldColumn& field, std::size_t f, std::int64_t row, Record& record,
                 const RowMetadata* metadata) {
    ColumnCursor& cursor = cursors_[field.leaf];
    const SchemaElement& element = *field.element;
    const CellPlace place{&reader_, row_group_, &plan_.columns[f], row};
    if (!field.is_list) {
      if (!NextPresent(cursor)) {
        if (metadata) ReadNull(field, f, record, *metadata, place);
        return;
      }
      Field& out = NextField(record, f);
      if (field.conversion == Conversion::kString) {
        // Strings land in the field's own buffer when it held a string before.
        const std::string_view text = cursor.data->byte_arrays[cursor.value++];
        if (!ValidUtf8(text)) InvalidCell(place, "invalid UTF-8 in a string column");
        out.value.AssignString(text);
      } else {
        out.value = ConvertValue(*cursor.data, cursor.value++, field.conversion, element, place);
      }
      out.type = DetectFieldType(out.value);
      if (metadata) ApplyFieldMetadata(*metadata, place, out);
      return;
    }
    Value value;
    if (!ReadList(field, cursor, element, place, value)) {
      if (metadata) ReadNull(field, f, record, *metadata, place);
      return;
    }
    Field& out = NextField(record, f);
    out.value = std::move(value);
    out.type = DetectFieldType(out.value);
    if (metadata) ApplyFieldMetadata(*metadata, place, out);
  }

  // A null cell: an absent field, unless `__metadata__` lists it as an explicit null.
  void ReadNull(const FieldColumn& field, std::size_t f, Record& record,
                const RowMetadata& metadata, const CellPlace& place) {
    if (!metadata.nulls) return;
    for (const Value& name : *metadata.nulls) {
      const std::string* text = name.Get<std::string>();
      if (text && *text == field.name) {
        Field& out = NextField(record, f);
        out.value = Value();
        out.type = DetectFieldType(out.value);
        ApplyFieldMetadata(metadata, place, out);
        return;
      }
    }
  }

  // One row's list; false for a null list.
  bool ReadList(const FieldColumn& field, ColumnCursor& cursor, const SchemaElement& element,
                const CellPlace& place, Value& out) {
    const ColumnData& data = *cursor.data;
    const std::uint32_t first = data.definition_levels.empty()
                                    ? cursor.max_definition
                                    : data.definition_levels[cursor.slot];
    if (first < field.list_level) {
      ++cursor.slot;
      return false;
    }
    List items;
    bool has_null = false;
    if (first >= field.element_level) {
      do {
        const std::uint32_t level = data.definition_levels.empty()
                                        ? cursor.max_definition
                                        : data.definition_levels[cursor.slot];
        ++cursor.slot;
        if (level == cursor.max_definition) {
          items.push_back(ConvertValue(data, cursor.value++, field.conversion, element, place));
        } else {
          items.emplace_back();
          has_null = true;
        }
      } while (cursor.slot < data.repetition_levels.size() &&
               data.repetition_levels[cursor.slot] != 0);
    } else {
      ++cursor.slot;  // the empty list's one entry
    }
    if (field.as_vector && !has_null) {
      Vector vector;
      vector.reserve(items.size());
      for (const Value& item : items) vector.push_back(static_cast<float>(item.AsDouble()));
      out = Value(std::move(vector));
    } else {
      out = Value(std::move(items));
    }
    return true;
  }

  void ApplyFieldMetadata(const RowMetadata& metadata, const CellPlace& place, Field& field) {
    if (metadata.types) {
      if (const Value* type_name = metadata.types->Find(field.name)) {
        const std::string* text = type_name->Get<std::string>();
        const std::optional<FieldType> type = text ? ParseFieldType(*text) : std::nullopt;
        if (!type)
          InvalidCell(place, "__metadata__ names an unknown type for '" + field.name + "'");
        try {
          field.value = dkdata::ConvertValue(field.value, *type);
        } catch (const Error& error) {
          InvalidCell(place, error.what());
        }
        field.type = *type;
      }
    }
    if (metadata.fields) {
      if (const Value* field_metadata = metadata.fields->Find(field.name)) {
        if (const Object* object = field_metadata->Get<Object>()) field.metadata = *object;
      }
    }
  }

  const ParquetFileReader& reader_;
  const ReadPlan& plan_;
  std::size_t row_group_;
  std::vector<ColumnCursor> cursors_;
  std::string metadata_name_ = std::string(kMetadataColumn);
  std::size_t used_ = 0;  // the fields of the record being refilled so far
};

}  // namespace

namespace {

// With several threads, a row group's rows are assembled in batches of this many, in a ring of a
// few batches per thread: small enough that a batch's records are still in the caches when the
// sink takes them (whole slices of a row group were not: the sink's pass over them cost as much
// as assembling them).
constexpr std::int64_t kRowsPerBatch = 256;
constexpr std::size_t kBatchesPerThread = 4;
// Every this many rows of a row group, DecodedRows keeps each column's cursor: a row's record is
// built after skipping at most this many rows' levels, and its batches start at checkpoints.
constexpr std::int64_t kRowsPerCheckpoint = 64;

// One batch's records, refilled batch after batch (a record the sink moved from is refilled from
// scratch); how many rows were assembled, and the error that stopped the batch, if one did. A
// cache line of its own: the ring's slots are written by different threads.
struct alignas(64) RecordBatch {
  std::vector<Record> records;
  std::size_t assembled = 0;
  std::exception_ptr error;
};

// The records a read refills, kept from one row group to the next: one record when the calling
// thread assembles alone, else the ring of batches.
struct AssemblyBuffers {
  Record single;
  std::vector<RecordBatch> ring;
};

// Assembles rows [begin, end) of a row group into batch, catching the error that stops it.
void AssembleBatch(const ParquetFileReader& reader, const ReadPlan& plan, std::size_t row_group,
                   const std::vector<ColumnData>& chunks, std::int64_t begin, std::int64_t end,
                   const CursorStart* starts, RecordBatch& batch) {
  // Counted here and stored once: a store per row into the shared ring cost more than the rows.
  std::size_t assembled = 0;
  batch.error = nullptr;
  try {
    batch.records.resize(static_cast<std::size_t>(end - begin));
    RowGroupAssembler assembler(reader, plan, row_group, chunks);
    assembler.Assemble(
        begin, end, starts,
        [&](std::int64_t k) -> Record& { return batch.records[static_cast<std::size_t>(k)]; },
        [&](Record&) { ++assembled; });
  } catch (...) {
    batch.error = std::current_exception();
  }
  batch.assembled = assembled;
}

// Hands batches 0..count to sink in order, on the calling thread, while the pool's other threads
// assemble the next ones (assemble(b, slot) fills a ring slot). Batch b goes into slot b % ring
// only once the sink has taken batch b - ring, so the records in flight are bounded by the ring.
// The caller assembles too whenever the batch it waits for is not ready. Rows before a bad row
// are delivered, then its error is thrown; an error from sink stops the pool's threads first.
void PipelineBatches(WorkerPool& pool, std::size_t count, std::vector<RecordBatch>& ring,
                     const std::function<void(std::size_t, RecordBatch&)>& assemble,
                     const std::function<void(Record&)>& sink) {
  const std::size_t slots = ring.size();
  std::atomic<std::size_t> next{0};   // the next batch nobody has claimed
  std::atomic<std::size_t> taken{0};  // batches the sink has taken
  std::atomic<bool> stop{false};
  std::vector<std::atomic<std::size_t>> ready(slots);  // 1 + the batch assembled in the slot
  auto build = [&](std::size_t b) {
    assemble(b, ring[b % slots]);
    ready[b % slots].store(b + 1, std::memory_order_release);
    ready[b % slots].notify_all();
  };
  pool.Start(pool.threads() - 1, [&](std::size_t) {
    while (!stop.load(std::memory_order_relaxed)) {
      const std::size_t b = next.fetch_add(1);
      if (b >= count) return;
      for (std::size_t t = taken.load(std::memory_order_acquire); b >= t + slots;
           t = taken.load(std::memory_order_acquire)) {
        if (stop.load(std::memory_order_relaxed)) return;
        taken.wait(t, std::memory_order_acquire);
      }
      build(b);
    }
  });
  try {
    for (std::size_t t = 0; t < count; ++t) {
      std::atomic<std::size_t>& flag = ready[t % slots];
      for (std::size_t seen = flag.load(std::memory_order_acquire); seen != t + 1;
           seen = flag.load(std::memory_order_acquire)) {
        // Help while waiting: claim the next batch when it fits in the ring.
        std::size_t b = next.load();
        while (b < count && b < t + slots && !next.compare_exchange_weak(b, b + 1)) {
        }
        if (b < count && b < t + slots) {
          build(b);
        } else {
          flag.wait(seen, std::memory_order_acquire);
        }
      }
      RecordBatch& batch = ring[t % slots];
      for (std::size_t k = 0; k < batch.assembled; ++k) sink(batch.records[k]);
      if (batch.error) std::rethrow_exception(batch.error);
      taken.store(t + 1, std::memory_order_release);
      taken.notify_all();
    }
  } catch (...) {
    stop.store(true);
    taken.fetch_add(1);  // wakes the threads waiting for room, which then see stop
    taken.notify_all();
    pool.Wait();  // its tasks use the ring (and catch their own errors)
    throw;
  }
  pool.Wait();
}

// The records of a decoded row group, in order, to sink, on the calling thread; with more than
// one thread, assembled in batches on all of them (PipelineBatches). Either way the rows before a
// bad row are delivered, then its error is thrown. checkpoints: the cursors every
// kRowsPerCheckpoint rows when the caller keeps them (DecodedRows), else null (found here).
void EmitRowGroup(const ParquetFileReader& reader, const ReadPlan& plan, std::size_t row_group,
                  const std::vector<ColumnData>& chunks,
                  const std::vector<CursorStart>* checkpoints, WorkerPool& pool,
                  AssemblyBuffers& buffers, const std::function<void(Record&)>& sink) {
  static_assert(kRowsPerBatch % kRowsPerCheckpoint == 0);
  const std::int64_t rows = reader.metadata().row_groups[row_group].num_rows;
  const std::size_t width = plan.leaves.size();
  std::vector<CursorStart> computed;  // the cursors at the batches' first rows, without checkpoints
  if (pool.threads() == 1 || rows <= kRowsPerBatch) {
    if (!checkpoints) computed = CursorStarts(reader, plan, chunks, {0});
    RowGroupAssembler assembler(reader, plan, row_group, chunks);
    assembler.Assemble(
        0, rows, checkpoints ? checkpoints->data() : computed.data(),
        [&](std::int64_t) -> Record& { return buffers.single; }, sink);
    return;
  }
  std::vector<std::int64_t> begins;
  for (std::int64_t begin = 0; begin < rows; begin += kRowsPerBatch) begins.push_back(begin);
  if (!checkpoints) computed = CursorStarts(reader, plan, chunks, begins);
  buffers.ring.resize(kBatchesPerThread * pool.threads());
  PipelineBatches(
      pool, begins.size(), buffers.ring,
      [&](std::size_t b, RecordBatch& batch) {
        const std::int64_t end = b + 1 < begins.size() ? begins[b + 1] : rows;
        const CursorStart* starts =
            checkpoints ? checkpoints->data() + b * (kRowsPerBatch / kRowsPerCheckpoint) * width
                        : computed.data() + b * width;
        AssembleBatch(reader, plan, row_group, chunks, begins[b], end, starts, batch);
      },
      sink);
}

// A projection may read no chunk that would bound a row group's row count: it is bounded here.
void CheckRowGroupRows(const ParquetFileReader& reader, std::size_t g) {
  const RowGroup& group = reader.metadata().row_groups[g];
  if (static_cast<std::uint64_t>(group.num_rows) > kMaxChunkValues) {
    throw Error(ErrorCode::kUnsupported, reader.name() + ": row group " + std::to_string(g) +
                                             " of " + std::to_string(group.num_rows) +
                                             " rows is above the reader's limit of " +
                                             std::to_string(kMaxChunkValues));
  }
}

// Whether row group g's statistics show that no row can satisfy filter (none: false).
bool SkippedByStatistics(const ParquetFileReader& reader, const ReadPlan& plan, std::size_t g,
                         const Expr* filter) {
  if (!filter || filter->is_true()) return false;
  const FileMetaData& metadata = reader.metadata();
  const RowGroup& group = metadata.row_groups[g];
  std::unordered_map<std::string_view, Bounds> bounds;
  for (const FieldColumn& field : plan.fields) {
    if (field.is_list) continue;
    const SchemaElement& element = metadata.schema[reader.leaves()[field.leaf].elements.back()];
    bounds.emplace(field.name, ChunkBounds(metadata, *group.columns[field.leaf].meta_data,
                                           field.leaf, element, field.conversion));
  }
  return SkipRowGroup(*filter, [&](std::string_view name) -> const Bounds* {
    auto it = bounds.find(name);
    return it == bounds.end() ? nullptr : &it->second;
  });
}

// Leaf's cursor `rows` rows after `at`, found from its levels alone.
CursorStart SkipRows(const ColumnData& data, std::uint32_t max_definition, bool repeated,
                     CursorStart at, std::int64_t rows) {
  if (max_definition == 0) {
    const auto n = static_cast<std::size_t>(rows);
    return CursorStart{at.slot + n, at.value + n};
  }
  const std::size_t slots = data.definition_levels.size();
  if (!repeated) {  // a slot per row: a loop the compiler vectorizes
    const std::size_t end = std::min(slots, at.slot + static_cast<std::size_t>(rows));
    std::size_t present = 0;
    for (std::size_t slot = at.slot; slot < end; ++slot) {
      present += data.definition_levels[slot] == max_definition;
    }
    return CursorStart{end, at.value + present};
  }
  for (std::int64_t skipped = 0; at.slot < slots; ++at.slot) {
    if (data.repetition_levels[at.slot] == 0) {  // a row starts here
      if (skipped == rows) break;
      ++skipped;
    }
    at.value += data.definition_levels[at.slot] == max_definition;
  }
  return at;
}

}  // namespace

RecordReadStats ReadParquetRecords(const ParquetFileReader& reader,
                                   const RecordReadOptions& options,
                                   const std::function<void(Record&)>& sink) {
  const ReadPlan plan = MakeReadPlan(reader, options.fields);
  const FileMetaData& metadata = reader.metadata();
  RecordReadStats stats;
  const unsigned threads = WorkerPool::ThreadsFor(options.threads);
  WorkerPool pool(threads);
  std::vector<ColumnData> chunks(reader.leaves().size());
  AssemblyBuffers buffers;
  for (std::size_t g = 0; g < metadata.row_groups.size(); ++g) {
    CheckRowGroupRows(reader, g);
    if (SkippedByStatistics(reader, plan, g, options.filter)) {
      ++stats.row_groups_skipped;
      continue;
    }
    pool.Run(plan.leaves.size(), [&](std::size_t i) {
      reader.ReadColumnChunk(g, plan.leaves[i], chunks[plan.leaves[i]]);
    });
    stats.column_chunks_read += plan.leaves.size();
    ++stats.row_groups_read;
    EmitRowGroup(reader, plan, g, chunks, nullptr, pool, buffers, sink);
  }
  return stats;
}

// ---- Decoded rows, records on demand ----

struct DecodedRows::Impl {
  // A row group that was read.
  struct Group {
    std::size_t row_group = 0;  // in the file
    std::size_t first_row = 0;  // of the rows kept
    std::int64_t rows = 0;
    std::vector<ColumnData> chunks;  // by leaf; the plan's leaves are filled
    // The cursors of the plan's leaves at every kRowsPerCheckpoint-th row (CursorStarts' form).
    std::vector<CursorStart> checkpoints;
  };

  Impl(const ParquetFileReader& file, ReadPlan read_plan)
      : reader(file), plan(std::move(read_plan)) {}

  const ParquetFileReader& reader;
  ReadPlan plan;
  std::vector<Group> groups;
  std::size_t rows = 0;
  RecordReadStats stats;
};

DecodedRows::DecodedRows(const ParquetFileReader& reader, const RecordReadOptions& options) {
  auto impl = std::make_unique<Impl>(reader, MakeReadPlan(reader, options.fields));
  const ReadPlan& plan = impl->plan;
  for (std::size_t g = 0; g < reader.metadata().row_groups.size(); ++g) {
    CheckRowGroupRows(reader, g);
    if (SkippedByStatistics(reader, plan, g, options.filter)) {
      ++impl->stats.row_groups_skipped;
      continue;
    }
    ++impl->stats.row_groups_read;
    const std::int64_t rows = reader.metadata().row_groups[g].num_rows;
    if (rows == 0) continue;
    Impl::Group group;
    group.row_group = g;
    group.first_row = impl->rows;
    group.rows = rows;
    group.chunks.resize(reader.leaves().size());
    impl->groups.push_back(std::move(group));
    impl->rows += static_cast<std::size_t>(rows);
  }
  // Every chunk of every row group at once; the first error in file order is the one thrown.
  const std::size_t leaves = plan.leaves.size();
  WorkerPool pool(WorkerPool::ThreadsFor(options.threads));
  pool.Run(impl->groups.size() * leaves, [&](std::size_t task) {
    Impl::Group& group = impl->groups[task / leaves];
    const std::size_t leaf = plan.leaves[task % leaves];
    reader.ReadColumnChunk(group.row_group, leaf, group.chunks[leaf]);
  });
  impl->stats.column_chunks_read = impl->groups.size() * leaves;
  pool.Run(impl->groups.size(), [&](std::size_t g) {
    Impl::Group& group = impl->groups[g];
    std::vector<std::int64_t> rows;
    for (std::int64_t row = 0; row < group.rows; row += kRowsPerCheckpoint) rows.push_back(row);
    group.checkpoints = CursorStarts(reader, plan, group.chunks, rows);
  });
  impl_ = std::move(impl);
}

DecodedRows::~DecodedRows() = default;

std::size_t DecodedRows::size() const noexcept {
  return impl_->rows;
}

const RecordReadStats& DecodedRows::stats() const noexcept {
  return impl_->stats;
}

void DecodedRows::RecordAt(std::size_t row, Record& out) const {
  const Impl& impl = *impl_;
  // The last group starting at or before row.
  const auto group = std::prev(
      std::upper_bound(impl.groups.begin(), impl.groups.end(), row,
                       [](std::size_t r, const Impl::Group& g) { return r < g.first_row; }));
  const auto in_group = static_cast<std::int64_t>(row - group->first_row);
  const std::size_t width = impl.plan.leaves.size();
  const CursorStart* checkpoint =
      group->checkpoints.data() + static_cast<std::size_t>(in_group / kRowsPerCheckpoint) * width;
  std::vector<CursorStart> starts(checkpoint, checkpoint + width);
  if (const std::int64_t skip = in_group % kRowsPerCheckpoint; skip != 0) {
    for (std::size_t k = 0; k < width; ++k) {
      const std::size_t leaf = impl.plan.leaves[k];
      const LeafColumn& column = impl.reader.leaves()[leaf];
      starts[k] =
          SkipRows(group->chunks[leaf], static_cast<std::uint32_t>(column.max_definition_level),
                   column.max_repetition_level > 0, starts[k], skip);
    }
  }
  RowGroupAssembler assembler(impl.reader, impl.plan, group->row_group, group->chunks);
  assembler.Assemble(
      in_group, in_group + 1, starts.data(), [&](std::int64_t) -> Record& { return out; },
      [](Record&) {});
}

void DecodedRows::ForEach(unsigned threads, const std::function<void(Record&)>& sink) const {
  WorkerPool pool(WorkerPool::ThreadsFor(threads));
  AssemblyBuffers buffers;
  for (const Impl::Group& group : impl_->groups) {
    EmitRowGroup(impl_->reader, impl_->plan, group.row_group, group.chunks, &group.checkpoints,
                 pool, buffers, sink);
  }
}

}  // namespace dkdata::internal::parquet
