// formats/parquet/parquet_record_writer.cpp: records as Parquet columns (WriteParquetRecords; see
// parquet_records.hpp and docs/parquet-format.md "Writing").
#include <cmath>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "core/utf8.hpp"
#include "core/worker_pool.hpp"
#include "dkdata/errors.hpp"
#include "dkdata/json.hpp"
#include "formats/parquet/parquet_records.hpp"

namespace dkdata::internal::parquet {
namespace {

enum class ColumnKind : std::uint8_t {
  kBool,
  kInt,
  kFloat,
  kString,
  kBytes,
  kTimestamp,
  kVector,
  kJson
};

// The value kinds a column of that kind holds as themselves.
ColumnKind KindFor(ValueKind kind) {
  switch (kind) {
    case ValueKind::kBool:
      return ColumnKind::kBool;
    case ValueKind::kInt:
      return ColumnKind::kInt;
    case ValueKind::kFloat:
      return ColumnKind::kFloat;
    case ValueKind::kString:
      return ColumnKind::kString;
    case ValueKind::kBytes:
      return ColumnKind::kBytes;
    case ValueKind::kTimestamp:
      return ColumnKind::kTimestamp;
    case ValueKind::kVector:
      return ColumnKind::kVector;
    default:
      return ColumnKind::kJson;
  }
}

// The column kind that stores values of a field type.
ColumnKind KindFor(FieldType type) {
  switch (type) {
    case FieldType::kBoolean:
      return ColumnKind::kBool;
    case FieldType::kInteger:
      return ColumnKind::kInt;
    case FieldType::kFloat:
      return ColumnKind::kFloat;
    case FieldType::kString:
    case FieldType::kText:
      return ColumnKind::kString;
    case FieldType::kBinary:
      return ColumnKind::kBytes;
    case FieldType::kDatetime:
      return ColumnKind::kTimestamp;
    case FieldType::kVector:
      return ColumnKind::kVector;
    case FieldType::kJson:
    case FieldType::kSparseVector:
      return ColumnKind::kJson;
  }
  return ColumnKind::kJson;
}

struct WriteColumn {
  std::string name;
  std::optional<ColumnKind> kind;  // unset while only nulls were seen
  bool mixed = false;
  std::optional<FieldType> declared;  // from RecordWriteOptions::schema
};

[[noreturn]] void Invalid(std::string message) {
  throw Error(ErrorCode::kInvalidArgument, std::move(message));
}

std::string Where(const Record& record, const std::string& field) {
  return "record '" + record.id().value_or("") + "', field '" + field + "'";
}

// The value stored for a field in its column: the value itself, or, in a column whose type the
// schema declares, the value converted to that type.
Value StoredValue(const Record& record, const Field& field, const WriteColumn& column) {
  if (!column.declared || *column.kind == ColumnKind::kJson ||
      KindFor(field.value.kind()) == *column.kind) {
    return field.value;
  }
  Value converted;
  try {
    converted = ConvertValue(field.value, *column.declared);
  } catch (const Error& error) {
    Invalid(Where(record, field.name) + ": " + error.what());
  }
  if (KindFor(converted.kind()) != *column.kind) {
    Invalid(Where(record, field.name) + ": a " + std::string(ValueKindName(field.value.kind())) +
            " cannot be stored in a column of type " +
            std::string(FieldTypeName(*column.declared)));
  }
  return converted;
}

SchemaElement Leaf(std::string name, Type type, FieldRepetitionType repetition) {
  SchemaElement element;
  element.name = std::move(name);
  element.type = type;
  element.repetition_type = repetition;
  return element;
}

void AnnotateString(SchemaElement& element) {
  element.logical_type = LogicalType{};
  element.logical_type->kind = LogicalTypeKind::kString;
  element.converted_type = ConvertedType::kUtf8;
}

void AnnotateJson(SchemaElement& element) {
  element.logical_type = LogicalType{};
  element.logical_type->kind = LogicalTypeKind::kJson;
  element.converted_type = ConvertedType::kJson;
}

// The schema elements of one field column (several for a list).
void AppendSchema(const WriteColumn& column, std::vector<SchemaElement>& schema) {
  const auto optional = FieldRepetitionType::kOptional;
  switch (column.mixed || !column.kind ? ColumnKind::kJson : *column.kind) {
    case ColumnKind::kBool:
      schema.push_back(Leaf(column.name, Type::kBoolean, optional));
      return;
    case ColumnKind::kInt: {
      SchemaElement element = Leaf(column.name, Type::kInt64, optional);
      element.logical_type = LogicalType{};
      element.logical_type->kind = LogicalTypeKind::kInteger;
      element.logical_type->bit_width = 64;
      element.logical_type->is_signed = true;
      element.converted_type = ConvertedType::kInt64;
      schema.push_back(std::move(element));
      return;
    }
    case ColumnKind::kFloat:
      schema.push_back(Leaf(column.name, Type::kDouble, optional));
      return;
    case ColumnKind::kString: {
      SchemaElement element = Leaf(column.name, Type::kByteArray, optional);
      AnnotateString(element);
      schema.push_back(std::move(element));
      return;
    }
    case ColumnKind::kBytes:
      schema.push_back(Leaf(column.name, Type::kByteArray, optional));
      return;
    case ColumnKind::kTimestamp: {
      SchemaElement element = Leaf(column.name, Type::kInt64, optional);
      element.logical_type = LogicalType{};
      element.logical_type->kind = LogicalTypeKind::kTimestamp;
      element.logical_type->is_adjusted_to_utc = true;
      element.logical_type->unit = TimeUnit::kMicros;
      element.converted_type = ConvertedType::kTimestampMicros;
      schema.push_back(std::move(element));
      return;
    }
    case ColumnKind::kVector: {
      // The 3-level LIST form (LogicalTypes.md): optional group (LIST) { repeated group list {
      // required float element } }.
      SchemaElement list;
      list.name = column.name;
      list.repetition_type = optional;
      list.num_children = 1;
      list.logical_type = LogicalType{};
      list.logical_type->kind = LogicalTypeKind::kList;
      list.converted_type = ConvertedType::kList;
      schema.push_back(std::move(list));
      SchemaElement repeated;
      repeated.name = "list";
      repeated.repetition_type = FieldRepetitionType::kRepeated;
      repeated.num_children = 1;
      schema.push_back(std::move(repeated));
      schema.push_back(Leaf("element", Type::kFloat, FieldRepetitionType::kRequired));
      return;
    }
    case ColumnKind::kJson: {
      SchemaElement element = Leaf(column.name, Type::kByteArray, optional);
      AnnotateJson(element);
      schema.push_back(std::move(element));
      return;
    }
  }
}

// The type a reader detects for a field from its column (before type tags), without copying the
// value where it is stored as itself.
FieldType ReadBackType(const Record& record, const Field& field, const WriteColumn& column) {
  const Value& value = field.value;
  if (*column.kind == ColumnKind::kJson) {
    // JSON gives back every kind but these (as ISO-8601 text, base64 text, a list).
    const bool changes = value.kind() == ValueKind::kTimestamp ||
                         value.kind() == ValueKind::kBytes || value.kind() == ValueKind::kVector;
    return DetectFieldType(changes ? ParseJson(ToJson(value)) : value);
  }
  if (!column.declared || KindFor(value.kind()) == *column.kind) return DetectFieldType(value);
  return DetectFieldType(StoredValue(record, field, column));
}

// The columns that records' fields make, in the order their names were first seen (the schema's
// first), with the kinds of their values, and what else the records need: found by a pass over a
// run of records (RecordColumnsWriter::PlanRecords), or merged from the plans of several runs.
struct ColumnPlan {
  std::vector<WriteColumn> columns;
  // By name: views into the schema, the records, or the plans merged here (while planning).
  std::unordered_map<std::string_view, std::size_t> index;
  bool has_versions = false;
  bool has_metadata = false;

  // The column of a field that follows, in its record, a field of column `previous`
  // (kNoColumn for a record's first field); a name not seen yet gets a new column. Columns are in
  // the order fields were first seen, so the next few columns after `previous` are tried first
  // (records mostly share a layout, some fields missing), then the name is looked up.
  static constexpr std::size_t kNoColumn = static_cast<std::size_t>(-1);
  static constexpr std::size_t kColumnsTried = 4;
  std::size_t ColumnAfter(std::size_t previous, const std::string& name) {
    const std::size_t first = previous == kNoColumn ? 0 : previous + 1;
    for (std::size_t c = first; c < columns.size() && c < first + kColumnsTried; ++c) {
      if (columns[c].name == name) return c;
    }
    auto [it, added] = index.emplace(name, columns.size());
    if (added) columns.push_back(WriteColumn{name, std::nullopt, false, std::nullopt});
    return it->second;
  }

  // Adds the plan of the records after these: its columns not seen here come after these, in
  // its order, and a column of both keeps the kind seen first. Returns where each of its columns
  // is here.
  std::vector<std::uint32_t> Merge(const ColumnPlan& later) {
    std::vector<std::uint32_t> merged_at(later.columns.size());
    for (std::size_t c = 0; c < later.columns.size(); ++c) {
      const WriteColumn& other = later.columns[c];
      auto [it, added] = index.emplace(other.name, columns.size());
      merged_at[c] = static_cast<std::uint32_t>(it->second);
      if (added) {
        columns.push_back(other);
        continue;
      }
      WriteColumn& column = columns[it->second];
      if (!column.kind) {
        column.kind = other.kind;
      } else if (other.kind && *other.kind != *column.kind) {
        column.mixed = true;
      }
      column.mixed = column.mixed || other.mixed;
    }
    has_versions = has_versions || later.has_versions;
    has_metadata = has_metadata || later.has_metadata;
    return merged_at;
  }
};

// A row group's columns as the Parquet writer takes them (by leaf), the slices' columns their
// views may point into (kept until the next row group is filled here), and the row group encoded.
struct FilledRowGroup {
  std::vector<ColumnData> leaves;
  std::vector<std::vector<ColumnData>> slices;  // by slice of rows filled on a thread of its own
  EncodedRowGroup encoded;
};

// The passes over the records (planning, filling) wait mostly for memory: each record's fields
// are an allocation of their own, which the processor does not see coming. Asking for the fields
// of the record kPrefetchAhead rows ahead overlaps the waits (a write of 1 M records of 8 fields:
// about 10 % faster).
constexpr std::size_t kPrefetchAhead = 4;
void PrefetchFields(const Record& record) {
  constexpr std::size_t kCacheLineBytes = 64;
  const char* fields = reinterpret_cast<const char*>(record.fields().data());
  const std::size_t bytes = record.size() * sizeof(Field);
  for (std::size_t at = 0; at < bytes; at += kCacheLineBytes) __builtin_prefetch(fields + at);
}

class RecordColumnsWriter {
 public:
  RecordColumnsWriter(std::span<const Record* const> records, const RecordWriteOptions& options,
                      const ParquetWriter::Sink& sink)
      : records_(records),
        options_(options),
        sink_(sink),
        pool_(WorkerPool::ThreadsFor(options.writer.threads)) {}

  void Write() {
    PlanColumns();
    std::vector<SchemaElement> schema(1);
    schema[0].name = "schema";
    std::vector<SchemaElement> fields;
    SchemaElement id =
        Leaf(std::string(kIdColumn), Type::kByteArray, FieldRepetitionType::kOptional);
    AnnotateString(id);
    fields.push_back(std::move(id));
    std::int32_t top_level = 1;
    if (has_versions_) {
      fields.push_back(
          Leaf(std::string(kVersionColumn), Type::kInt64, FieldRepetitionType::kOptional));
      ++top_level;
    }
    for (const WriteColumn& column : columns_) {
      AppendSchema(column, fields);
      ++top_level;
    }
    if (has_metadata_) {
      SchemaElement metadata =
          Leaf(std::string(kMetadataColumn), Type::kByteArray, FieldRepetitionType::kOptional);
      AnnotateJson(metadata);
      fields.push_back(std::move(metadata));
      ++top_level;
    }
    schema[0].num_children = top_level;
    schema.insert(schema.end(), fields.begin(), fields.end());
    ParquetWriter writer(std::move(schema), options_.writer, sink_);
    const std::size_t group_rows = std::max<std::size_t>(1, options_.row_group_rows);
    // At least one row group, even of no rows.
    const std::size_t groups =
        std::max<std::size_t>(1, (records_.size() + group_rows - 1) / group_rows);
    auto rows_of = [&](std::size_t group) {
      const std::size_t start = group * group_rows;
      return std::pair(start, std::min(records_.size(), start + group_rows));
    };
    const unsigned threads = pool_.threads();
    std::vector<FilledRowGroup> filled(groups > 1 ? threads : 1);
    for (FilledRowGroup& group : filled) group.leaves.resize(writer.leaves().size());
    if (groups == 1 || threads == 1) {
      // A row group at a time, every thread on it: its rows filled in slices, then its column
      // chunks encoded at once (by the writer's own threads).
      for (std::size_t group = 0; group < groups; ++group) {
        const auto [start, end] = rows_of(group);
        FillRowGroup(start, end, threads, filled[0]);
        writer.WriteRowGroup(filled[0].leaves, static_cast<std::int64_t>(end - start));
      }
    } else {
      // A row group per thread, filled and encoded whole, appended in order: no thread waits for
      // the slowest column or slice of another's row group.
      pool_.RunInOrder(
          groups,
          [&](std::size_t group) {
            const auto [start, end] = rows_of(group);
            FilledRowGroup& own = filled[group % threads];
            FillRowGroup(start, end, 1, own);
            writer.EncodeRowGroup(own.leaves, static_cast<std::int64_t>(end - start), own.encoded);
          },
          [&](std::size_t group) { writer.AppendRowGroup(filled[group % threads].encoded); });
    }
    writer.Finish();
  }

 private:
  // The number of slices of rows to spread [begin, end) over, on up to max_slices threads.
  static std::size_t SlicesOf(std::size_t begin, std::size_t end, std::size_t max_slices) {
    return std::min(max_slices, std::max<std::size_t>(1, (end - begin) / 4096));
  }
  // The first row of slice `slice` of `slices` of rows [begin, end).
  static std::size_t SliceStart(std::size_t begin, std::size_t end, std::size_t slice,
                                std::size_t slices) {
    return begin + (end - begin) * slice / slices;
  }

  // Finds the columns and what else the file needs, then checks the values of columns of mixed
  // kinds.
  void PlanColumns() {
    ColumnPlan plan = PlanInSlices();
    columns_ = std::move(plan.columns);
    has_versions_ = plan.has_versions;
    has_metadata_ = plan.has_metadata;
    bool any_mixed = false;
    for (WriteColumn& column : columns_) {
      if (column.mixed || !column.kind) column.kind = ColumnKind::kJson;
      any_mixed = any_mixed || column.mixed;
    }
    if (any_mixed) CheckMixedColumns();
  }

  // The plan of every record (PlanRecords), in slices of them on the pool's threads, the slices'
  // plans then merged in order: the plan one pass would make.
  ColumnPlan PlanInSlices() {
    ColumnPlan plan;  // the schema's columns, then what the slices add
    for (const auto& [name, type] : options_.schema) {
      if (!plan.index.emplace(name, plan.columns.size()).second) {
        Invalid("the schema names field '" + name + "' twice");
      }
      plan.columns.push_back(WriteColumn{name, KindFor(type), false, type});
    }
    const std::size_t records = records_.size();
    const std::size_t slices = SlicesOf(0, records, pool_.threads());
    // Each slice's fields first counted, so that the slices can fill field_columns_ at once.
    std::vector<std::size_t> first_field(slices + 1, 0);
    pool_.Run(slices, [&](std::size_t slice) {
      std::size_t fields = 0;
      for (std::size_t r = SliceStart(0, records, slice, slices);
           r < SliceStart(0, records, slice + 1, slices); ++r) {
        fields += records_[r]->size();
      }
      first_field[slice + 1] = fields;
    });
    for (std::size_t slice = 0; slice < slices; ++slice) {
      first_field[slice + 1] += first_field[slice];
    }
    field_starts_.resize(records + 1);
    field_starts_[records] = first_field[slices];
    field_columns_.resize(first_field[slices]);
    std::vector<ColumnPlan> slice_plans(slices, plan);
    // A bad record is the error of the first slice that has one, as one pass would report it.
    pool_.Run(slices, [&](std::size_t slice) {
      PlanRecords(SliceStart(0, records, slice, slices), SliceStart(0, records, slice + 1, slices),
                  first_field[slice], slice_plans[slice]);
    });
    std::vector<std::vector<std::uint32_t>> merged_at(slices);
    for (std::size_t slice = 0; slice < slices; ++slice) {
      merged_at[slice] = plan.Merge(slice_plans[slice]);
    }
    // The slices' fields from their plans' column numbers to the merged plan's.
    pool_.Run(slices, [&](std::size_t slice) {
      const std::vector<std::uint32_t>& at = merged_at[slice];
      for (std::size_t f = first_field[slice]; f < first_field[slice + 1]; ++f) {
        field_columns_[f] = at[field_columns_[f]];
      }
    });
    return plan;
  }

  // Values in a JSON column of mixed kinds: no NaN or infinity (JSON has none); a type tag for
  // those that JSON gives back as another kind (a timestamp as text, ...).
  void CheckMixedColumns() {
    for (std::size_t r = 0; r < records_.size(); ++r) {
      const Record& record = *records_[r];
      const std::uint32_t* column_of = ColumnsOf(r);
      for (std::size_t i = 0; i < record.fields().size(); ++i) {
        const Field& field = record.fields()[i];
        const WriteColumn& column = columns_[column_of[i]];
        if (!column.mixed || field.value.is_null()) continue;
        if (field.value.kind() == ValueKind::kFloat && !std::isfinite(field.value.AsDouble())) {
          Invalid(Where(record, field.name) +
                  ": NaN and infinity cannot be stored in a column of mixed kinds (JSON)");
        }
        if (ReadBackType(record, field, column) != field.type) has_metadata_ = true;
      }
    }
  }

  // Plans records [begin, end) into plan; their fields' columns (numbered in plan) go to
  // field_columns_ from first_field on.
  void PlanRecords(std::size_t begin, std::size_t end, std::size_t first_field, ColumnPlan& plan) {
    std::size_t f = first_field;
    for (std::size_t r = begin; r < end; ++r) {
      if (r + kPrefetchAhead < end) PrefetchFields(*records_[r + kPrefetchAhead]);
      const Record& record = *records_[r];
      if (record.version() != 0) plan.has_versions = true;
      if (!record.metadata().empty()) plan.has_metadata = true;
      field_starts_[r] = f;
      std::size_t previous = ColumnPlan::kNoColumn;
      for (const Field& field : record.fields()) {
        const std::size_t columns_before = plan.columns.size();
        previous = plan.ColumnAfter(previous, field.name);
        field_columns_[f++] = static_cast<std::uint32_t>(previous);
        WriteColumn& column = plan.columns[previous];
        if (plan.columns.size() != columns_before &&
            (field.name == kIdColumn || field.name == kVersionColumn ||
             field.name == kMetadataColumn)) {
          Invalid(Where(record, field.name) + ": the name is reserved in Parquet files (" +
                  field.name + " is a column of dkdata's own; rename the field)");
        }
        if (!field.metadata.empty()) plan.has_metadata = true;
        if (field.value.is_null()) {
          plan.has_metadata = true;  // an explicit null is listed in "nulls"
          continue;
        }
        if (column.declared) {
          if (ReadBackType(record, field, column) != field.type) plan.has_metadata = true;
          continue;
        }
        // A column that keeps one kind stores each value as itself: the reader detects the type
        // from the value. (Columns of mixed kinds, stored as JSON: CheckMixedColumns.)
        if (DetectFieldType(field.value) != field.type) plan.has_metadata = true;
        const ColumnKind kind = KindFor(field.value.kind());
        if (!column.kind) {
          column.kind = kind;
        } else if (*column.kind != kind) {
          column.mixed = true;
        }
      }
    }
  }

  // The columns of record r's fields, in its field order (found once, by PlanColumns).
  const std::uint32_t* ColumnsOf(std::size_t r) const {
    return field_columns_.data() + field_starts_[r];
  }

  // The `__metadata__` cell of a record, or nothing when it needs none.
  bool MetadataCell(std::size_t r, std::string& out) {
    const Record& record = *records_[r];
    const std::uint32_t* column_of = ColumnsOf(r);
    Object fields, types;
    List nulls;
    for (std::size_t i = 0; i < record.fields().size(); ++i) {
      const Field& field = record.fields()[i];
      const std::size_t previous = column_of[i];
      if (!field.metadata.empty()) fields.Set(field.name, Value(field.metadata));
      if (field.value.is_null()) {
        nulls.push_back(Value(field.name));
        if (field.type != FieldType::kString)
          types.Set(field.name, Value(FieldTypeName(field.type)));
        continue;
      }
      const WriteColumn& column = columns_[previous];
      if (ReadBackType(record, field, column) != field.type) {
        types.Set(field.name, Value(FieldTypeName(field.type)));
      }
    }
    if (record.metadata().empty() && fields.empty() && types.empty() && nulls.empty()) return false;
    Object cell;
    if (!record.metadata().empty()) cell.Set("record", Value(record.metadata()));
    if (!fields.empty()) cell.Set("fields", Value(std::move(fields)));
    if (!types.empty()) cell.Set("types", Value(std::move(types)));
    if (!nulls.empty()) cell.Set("nulls", Value(std::move(nulls)));
    out.clear();
    AppendJson(out, Value(std::move(cell)));
    return true;
  }

  // Rows [start, end) into out.leaves, the field columns in up to max_slices slices of rows on
  // the pool's threads (1: on this thread alone).
  void FillRowGroup(std::size_t start, std::size_t end, std::size_t max_slices,
                    FilledRowGroup& out) {
    std::vector<ColumnData>& data = out.leaves;
    for (ColumnData& column : data) column.clear();
    std::size_t leaf = 0;
    ColumnData& ids = data[leaf++];
    for (std::size_t r = start; r < end; ++r) {
      const Record& record = *records_[r];
      if (record.id()) {
        if (!ValidUtf8(*record.id())) Invalid("record id is not valid UTF-8");
        ids.definition_levels.push_back(1);
        ids.AppendByteArrayCopy(*record.id());
      } else {
        ids.definition_levels.push_back(0);
      }
    }
    if (has_versions_) {
      ColumnData& versions = data[leaf++];
      for (std::size_t r = start; r < end; ++r) {
        versions.definition_levels.push_back(1);
        versions.int64s.push_back(static_cast<std::int64_t>(records_[r]->version()));
      }
    }
    // The field columns, filled row by row (one pass over the records' memory): straight into
    // data, or slices of rows into columns of their own, then appended in order (the slices'
    // columns stay until the next fill: data's views point into them).
    const std::size_t columns = columns_.size();
    const std::size_t slices = SlicesOf(start, end, max_slices);
    if (slices == 1) {
      FillFields(start, end, &data[leaf]);
    } else {
      out.slices.resize(slices);
      pool_.Run(slices, [&](std::size_t slice) {
        std::vector<ColumnData>& own = out.slices[slice];
        own.resize(columns);
        for (ColumnData& column : own) column.clear();
        FillFields(SliceStart(start, end, slice, slices), SliceStart(start, end, slice + 1, slices),
                   own.data());
      });
      pool_.Run(columns, [&](std::size_t c) {
        for (std::vector<ColumnData>& own : out.slices) data[leaf + c].Append(own[c]);
      });
    }
    leaf += columns;
    if (has_metadata_) {
      ColumnData& metadata = data[leaf++];
      std::string cell;
      for (std::size_t r = start; r < end; ++r) {
        if (MetadataCell(r, cell)) {
          metadata.definition_levels.push_back(1);
          metadata.AppendByteArrayCopy(cell);
        } else {
          metadata.definition_levels.push_back(0);
        }
      }
    }
  }

  // Rows [begin, end) into the field columns out[0..columns): each record's fields found by
  // column in one pass, then a null for each column the record lacks.
  void FillFields(std::size_t begin, std::size_t end, ColumnData* out) {
    const std::size_t columns = columns_.size();
    constexpr std::size_t kNone = static_cast<std::size_t>(-1);
    std::vector<std::size_t> last_row(columns, kNone);  // the row that filled column c last
    for (std::size_t c = 0; c < columns; ++c) out[c].definition_levels.reserve(end - begin);
    for (std::size_t r = begin; r < end; ++r) {
      if (r + kPrefetchAhead < end) PrefetchFields(*records_[r + kPrefetchAhead]);
      const Record& record = *records_[r];
      const std::uint32_t* column_of = ColumnsOf(r);
      for (std::size_t i = 0; i < record.fields().size(); ++i) {
        const std::size_t c = column_of[i];
        last_row[c] = r;
        AppendCell(record, &record.fields()[i], columns_[c], out[c]);
      }
      for (std::size_t c = 0; c < columns; ++c) {
        if (last_row[c] != r) AppendCell(record, nullptr, columns_[c], out[c]);
      }
    }
  }

  // One row's cell of a column: field's value (converted to the schema's type when it has
  // another), or a null when field is null or absent.
  static void AppendCell(const Record& record, const Field* field, const WriteColumn& column,
                         ColumnData& out) {
    const Value* value = field && !field->value.is_null() ? &field->value : nullptr;
    if (value && column.declared && *column.kind != ColumnKind::kJson &&
        KindFor(value->kind()) != *column.kind) {
      const Value converted = StoredValue(record, *field, column);
      AppendValue(record, column, &converted, out);
    } else {
      AppendValue(record, column, value, out);
    }
  }

  // The cell of a value of the column's kind, or of a null (value nullptr). Byte arrays are
  // copied: the writer reads them packed together, and a converted value dies here.
  static void AppendValue(const Record& record, const WriteColumn& column, const Value* value,
                          ColumnData& out) {
    const ColumnKind kind = *column.kind;
    if (kind == ColumnKind::kVector) {
      if (!value) {
        out.definition_levels.push_back(0);
        out.repetition_levels.push_back(0);
        return;
      }
      const Vector& vector = *value->Get<Vector>();
      if (vector.empty()) {
        out.definition_levels.push_back(1);
        out.repetition_levels.push_back(0);
        return;
      }
      for (std::size_t i = 0; i < vector.size(); ++i) {
        out.definition_levels.push_back(2);
        out.repetition_levels.push_back(i == 0 ? 0 : 1);
        out.floats.push_back(vector[i]);
      }
      return;
    }
    if (!value) {
      out.definition_levels.push_back(0);
      return;
    }
    out.definition_levels.push_back(1);
    switch (kind) {
      case ColumnKind::kBool:
        out.booleans.push_back(*value->Get<bool>() ? 1 : 0);
        break;
      case ColumnKind::kInt:
        out.int64s.push_back(*value->Get<std::int64_t>());
        break;
      case ColumnKind::kFloat:
        out.doubles.push_back(*value->Get<double>());
        break;
      case ColumnKind::kString: {
        const std::string& text = *value->Get<std::string>();
        if (!ValidUtf8(text)) Invalid(Where(record, column.name) + ": string is not valid UTF-8");
        out.AppendByteArrayCopy(text);
        break;
      }
      case ColumnKind::kBytes:
        out.AppendByteArrayCopy(value->Get<Bytes>()->data);
        break;
      case ColumnKind::kTimestamp:
        out.int64s.push_back(value->Get<Timestamp>()->micros);
        break;
      case ColumnKind::kJson:
        out.AppendByteArrayCopy(ToJson(*value));
        break;
      case ColumnKind::kVector:
        break;
    }
  }

  std::span<const Record* const> records_;
  const RecordWriteOptions& options_;
  const ParquetWriter::Sink& sink_;
  std::vector<WriteColumn> columns_;  // PlanColumns'
  // Every record's fields' columns, record after record, and where each record's begin.
  std::vector<std::uint32_t> field_columns_;
  std::vector<std::size_t> field_starts_;
  WorkerPool pool_;  // plans the columns, fills (and encodes) row groups
  bool has_versions_ = false;
  bool has_metadata_ = false;
};

}  // namespace

void WriteParquetRecords(std::span<const Record* const> records, const RecordWriteOptions& options,
                         const ParquetWriter::Sink& sink) {
  RecordColumnsWriter(records, options, sink).Write();
}

}  // namespace dkdata::internal::parquet
