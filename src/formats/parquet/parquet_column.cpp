// formats/parquet/parquet_column.cpp: see parquet_column.hpp.
#include "formats/parquet/parquet_column.hpp"

namespace dkdata::internal::parquet {

std::size_t ColumnData::slot_count(Type type) const {
  return definition_levels.empty() ? value_count(type) : definition_levels.size();
}

std::size_t ColumnData::value_count(Type type) const {
  switch (type) {
    case Type::kBoolean:
      return booleans.size();
    case Type::kInt32:
      return int32s.size();
    case Type::kInt64:
      return int64s.size();
    case Type::kInt96:
      return int96s.size();
    case Type::kFloat:
      return floats.size();
    case Type::kDouble:
      return doubles.size();
    case Type::kByteArray:
    case Type::kFixedLenByteArray:
      return byte_arrays.size();
  }
  return 0;
}

void ColumnData::clear() {
  definition_levels.clear();
  repetition_levels.clear();
  booleans.clear();
  int32s.clear();
  int64s.clear();
  int96s.clear();
  floats.clear();
  doubles.clear();
  byte_arrays.clear();
  storage.clear();
}

void ColumnData::AppendByteArrayCopy(std::string_view value) {
  byte_arrays.push_back(KeepPacked(value, storage));
}

void ColumnData::Append(const ColumnData& other) {
  AppendTo(definition_levels, other.definition_levels);
  AppendTo(repetition_levels, other.repetition_levels);
  AppendTo(booleans, other.booleans);
  AppendTo(int32s, other.int32s);
  AppendTo(int64s, other.int64s);
  AppendTo(int96s, other.int96s);
  AppendTo(floats, other.floats);
  AppendTo(doubles, other.doubles);
  AppendTo(byte_arrays, other.byte_arrays);
}

}  // namespace dkdata::internal::parquet
