// formats/parquet/parquet_column.hpp: the values of one column over a run of rows, in the
// column's physical type, with their definition and repetition levels: what the page reader
// produces from a column chunk and what the writer turns into one.
//
// Layout (Parquet's own, README.md "Nested Encoding"): one level entry per value slot, a slot being
// a row's value, a null, or one element / null element / empty-or-null list of a repeated column.
// definition_levels is empty when the column's max definition level is 0 (every slot holds a
// value); repetition_levels is empty when its max repetition level is 0 (one slot per row). The
// values vectors hold only the slots whose definition level is the maximum (the present values),
// in order; exactly one of them is used, the one of the physical type.
//
// Thread-safety: a plain value; one writer at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "formats/parquet/parquet_encodings.hpp"
#include "formats/parquet/parquet_metadata.hpp"

namespace dkdata::internal::parquet {

// Appends from's elements to to.
template <typename T>
void AppendTo(std::vector<T>& to, const std::vector<T>& from) {
  to.insert(to.end(), from.begin(), from.end());
}

struct ColumnData {
  std::vector<std::uint32_t> definition_levels;
  std::vector<std::uint32_t> repetition_levels;

  std::vector<std::uint8_t> booleans;  // BOOLEAN: 0 or 1
  std::vector<std::int32_t> int32s;    // INT32
  std::vector<std::int64_t> int64s;    // INT64
  std::vector<Int96> int96s;           // INT96
  std::vector<float> floats;           // FLOAT
  std::vector<double> doubles;         // DOUBLE
  // BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY. The views point into storage (the reader's decompressed
  // pages, AppendByteArrayCopy's blocks) or into memory the writer's caller keeps alive until the
  // write returns.
  std::vector<std::string_view> byte_arrays;
  std::deque<std::string> storage;  // a deque never moves its strings

  // The number of level entries (slots) the column has: the definition levels', or the values'
  // when there are no levels.
  std::size_t slot_count(Type type) const;
  // The number of present values, i.e. the size of the vector of the physical type.
  std::size_t value_count(Type type) const;
  void clear();
  // Appends a copy of value to byte_arrays, kept in storage next to the copies before it
  // (KeepPacked): values packed together encode faster than views into memory all over the heap.
  void AppendByteArrayCopy(std::string_view value);
  // Appends other's levels and values after these (a column filled in slices of rows). Byte
  // arrays are appended as views: other's storage must outlive this column's use of them.
  void Append(const ColumnData& other);
};

}  // namespace dkdata::internal::parquet
