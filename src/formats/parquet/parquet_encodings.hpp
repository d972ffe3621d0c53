// formats/parquet/parquet_encodings.hpp: Parquet's value and level encodings, decoded from a byte
// span and encoded to a string: the RLE/bit-packed hybrid (levels, dictionary indices), PLAIN,
// DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT, and a
// dictionary builder for the writer.
//
// Written from the specification (apache/parquet-format Encodings.md; docs/research/parquet.md
// section 6 has the details and what real writers do). Bit-packing is LSB first everywhere.
//
// Decoding never trusts the input: every read is bounds-checked, and nothing is allocated for a
// count read from the input before the count is checked against the bytes left (when every value
// takes at least one byte) or against the count the caller gives (the page's value count, which
// the page reader bounds). Output of DELTA_BYTE_ARRAY, where a few bytes can describe long values,
// is bounded by the caller's max_total_bytes. Every failure is Error(kInvalidArgument) whose
// message names the caller's context, the encoding and the byte offset of the problem, e.g.
// "data.parquet: column a: DELTA_BINARY_PACKED: miniblock bit width 70 is above 64 at byte 1234";
// offsets are counted from base_offset, so that a decoder over a page cut out of a file reports
// offsets in the file.
//
// Decoders that read a stream which other data may follow (the hybrid, DELTA_BINARY_PACKED, ...)
// return the number of bytes they consumed. Decoders replace the contents of their output vectors.
// Views they return (BYTE_ARRAY values) point into the input, or into the caller's storage string
// for DELTA_BYTE_ARRAY: those must outlive the views.
//
// Encoders append to a std::string. Their input comes from our own code: a value that does not fit
// (a level wider than the bit width, a FIXED_LEN_BYTE_ARRAY value of the wrong length) is
// Error(kInvalidArgument) as well, never silently written.
//
// Thread-safety: the functions are reentrant; a DictionaryBuilder is used by one thread at a time.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace dkdata::internal::parquet {

// The bytes a decoder reads and how its errors name them.
struct EncodedBytes {
  std::string_view bytes;
  std::string_view context;       // "data.parquet: column a: page at byte 4", first in messages
  std::uint64_t base_offset = 0;  // added to every offset an error reports
};

// An INT96 value as stored: 12 bytes (legacy timestamps: 8-byte LE nanoseconds of the day, then
// the 4-byte LE Julian day).
using Int96 = std::array<std::uint8_t, 12>;

// The bit width of the RLE hybrid for values 0..max_value: 0 for 0, 1 for 1, 2 for 2..3, ...
int BitWidth(std::uint64_t max_value);

// ---- RLE / bit-packed hybrid (bit width 0..32) ----

// Decodes exactly out.size() values of bit_width bits from the bare form (v2 page levels,
// dictionary indices after their width byte). Returns the bytes consumed: up to the end of the
// last run used (a bit-packed run cut short after the values needed is accepted). Fewer values
// in the input than wanted, a bit width above 32, or an RLE value wider than bit_width is an error.
std::size_t DecodeRleHybrid(const EncodedBytes& in, int bit_width, std::span<std::uint32_t> out);
// The same into a vector resized to count (the caller's count: the page's number of levels).
std::size_t DecodeRleHybrid(const EncodedBytes& in, int bit_width, std::size_t count,
                            std::vector<std::uint32_t>& out);
// The v1 page form (levels, RLE booleans): a u32 LE byte length, then that many bytes of the bare
// form. Returns 4 + the length.
std::size_t DecodeRleHybridWithLength(const EncodedBytes& in, int bit_width, std::size_t count,
                                      std::vector<std::uint32_t>& out);
// Dictionary indices (RLE_DICTIONARY, PLAIN_DICTIONARY data pages): a bit width byte (0..32) then
// count indices in the bare form; each must be below dictionary_size.
std::size_t DecodeDictionaryIndices(const EncodedBytes& in, std::size_t count,
                                    std::size_t dictionary_size, std::vector<std::uint32_t>& out);

// Appends values in the bare form: RLE runs for 8 or more equal values, bit-packed groups of 8
// otherwise (the last group padded with zeros). Every value must fit in bit_width (0..32) bits.
void EncodeRleHybrid(std::span<const std::uint32_t> values, int bit_width, std::string& out);
// The v1 form: a u32 LE length, then the bare form.
void EncodeRleHybridWithLength(std::span<const std::uint32_t> values, int bit_width,
                               std::string& out);
// Dictionary indices: the width byte (BitWidth(dictionary_size - 1)), then the bare form.
void EncodeDictionaryIndices(std::span<const std::uint32_t> indices, std::size_t dictionary_size,
                             std::string& out);

// ---- PLAIN ----
//
// count is the number of values to read; it is checked against the bytes left before anything is
// allocated. Each returns the bytes consumed.

// Booleans: one bit each, LSB first; out holds 0 or 1.
std::size_t DecodePlainBoolean(const EncodedBytes& in, std::size_t count,
                               std::vector<std::uint8_t>& out);
std::size_t DecodePlainInt32(const EncodedBytes& in, std::size_t count,
                             std::vector<std::int32_t>& out);
std::size_t DecodePlainInt64(const EncodedBytes& in, std::size_t count,
                             std::vector<std::int64_t>& out);
std::size_t DecodePlainInt96(const EncodedBytes& in, std::size_t count, std::vector<Int96>& out);
std::size_t DecodePlainFloat(const EncodedBytes& in, std::size_t count, std::vector<float>& out);
std::size_t DecodePlainDouble(const EncodedBytes& in, std::size_t count, std::vector<double>& out);
// u32 LE length and the bytes; views into in.bytes.
std::size_t DecodePlainByteArray(const EncodedBytes& in, std::size_t count,
                                 std::vector<std::string_view>& out);
// type_length (>= 0) bytes each; views into in.bytes.
std::size_t DecodePlainFixedLenByteArray(const EncodedBytes& in, std::int32_t type_length,
                                         std::size_t count, std::vector<std::string_view>& out);

// Booleans: nonzero is true.
void EncodePlainBoolean(std::span<const std::uint8_t> values, std::string& out);
void EncodePlainInt32(std::span<const std::int32_t> values, std::string& out);
void EncodePlainInt64(std::span<const std::int64_t> values, std::string& out);
void EncodePlainInt96(std::span<const Int96> values, std::string& out);
void EncodePlainFloat(std::span<const float> values, std::string& out);
void EncodePlainDouble(std::span<const double> values, std::string& out);
void EncodePlainByteArray(std::span<const std::string_view> values, std::string& out);
// Every value must be type_length bytes long.
void EncodePlainFixedLenByteArray(std::span<const std::string_view> values,
                                  std::int32_t type_length, std::string& out);

// ---- DELTA_BINARY_PACKED (INT32, INT64) ----
//
// Decodes the whole stream (its header says how many values); more than max_count values (the
// caller's count of stored values) is an error; the caller checks that out.size() is what it
// expected. Arithmetic wraps modulo 2^32 / 2^64; miniblock bit widths up to 64 are accepted for
// INT32 as well (DuckDB writes 33-bit miniblocks). Returns the bytes consumed.
std::size_t DecodeDeltaBinaryPackedInt32(const EncodedBytes& in, std::size_t max_count,
                                         std::vector<std::int32_t>& out);
std::size_t DecodeDeltaBinaryPackedInt64(const EncodedBytes& in, std::size_t max_count,
                                         std::vector<std::int64_t>& out);
// Blocks of 128 values in 4 miniblocks of 32; INT32 deltas are computed modulo 2^32, so that no
// miniblock is wider than 32 bits.
void EncodeDeltaBinaryPackedInt32(std::span<const std::int32_t> values, std::string& out);
void EncodeDeltaBinaryPackedInt64(std::span<const std::int64_t> values, std::string& out);

// ---- DELTA_LENGTH_BYTE_ARRAY (BYTE_ARRAY) ----
//
// The lengths (DELTA_BINARY_PACKED INT32, at most max_count of them, none negative) then the bytes
// of all values; views into in.bytes. Returns the bytes consumed.
std::size_t DecodeDeltaLengthByteArray(const EncodedBytes& in, std::size_t max_count,
                                       std::vector<std::string_view>& out);
void EncodeDeltaLengthByteArray(std::span<const std::string_view> values, std::string& out);

// ---- DELTA_BYTE_ARRAY (BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY) ----
//
// Prefix lengths (DELTA_BINARY_PACKED), then the suffixes (DELTA_LENGTH_BYTE_ARRAY), as many of
// each; value i is the first prefix[i] bytes of value i-1 followed by suffix i. A prefix longer
// than the previous value, a total size above max_total_bytes, or (when fixed_length is given) a
// value of another length is an error. The values are built in storage (replaced); out holds views
// into it. Returns the bytes consumed.
std::size_t DecodeDeltaByteArray(const EncodedBytes& in, std::size_t max_count,
                                 std::size_t max_total_bytes,
                                 std::optional<std::int32_t> fixed_length, std::string& storage,
                                 std::vector<std::string_view>& out);
void EncodeDeltaByteArray(std::span<const std::string_view> values, std::string& out);

// ---- BYTE_STREAM_SPLIT (FLOAT, DOUBLE, INT32, INT64, FIXED_LEN_BYTE_ARRAY) ----
//
// count values of width bytes each: byte j of value i is at j * count + i. The input must be
// exactly width * count bytes (the page's values section).
void DecodeByteStreamSplitFloat(const EncodedBytes& in, std::size_t count, std::vector<float>& out);
void DecodeByteStreamSplitDouble(const EncodedBytes& in, std::size_t count,
                                 std::vector<double>& out);
void DecodeByteStreamSplitInt32(const EncodedBytes& in, std::size_t count,
                                std::vector<std::int32_t>& out);
void DecodeByteStreamSplitInt64(const EncodedBytes& in, std::size_t count,
                                std::vector<std::int64_t>& out);
// type_length (> 0) bytes each, gathered in storage (replaced: value i at i * type_length); out
// holds views into it.
void DecodeByteStreamSplitFixedLenByteArray(const EncodedBytes& in, std::int32_t type_length,
                                            std::size_t count, std::string& storage,
                                            std::vector<std::string_view>& out);
// width bytes per value in values (value-major); appends them split into streams.
void EncodeByteStreamSplit(std::string_view values, std::size_t width, std::string& out);

// ---- Byte arrays kept by the writer ----

// Copies value to the end of the last of blocks, or of a new block when that one has no room, and
// returns a view of the copy. Values kept so lie close together, and their views stay valid as
// long as blocks does (a block is never reallocated; a deque never moves its strings).
std::string_view KeepPacked(std::string_view value, std::deque<std::string>& blocks);

// ---- Dictionaries (writer) ----

// The hash of a string that DictionaryBuilder keys it by: a few multiplications for a short
// value, spread well enough for its table (not made to withstand inputs chosen to collide).
inline std::uint64_t HashBytes(std::string_view bytes) {
  constexpr std::uint64_t kMultiplier = 0x9e3779b97f4a7c15u;
  const char* p = bytes.data();
  std::size_t n = bytes.size();
  std::uint64_t hash = n * kMultiplier;
  auto mix = [&](std::uint64_t word) {
    hash = (hash ^ word) * kMultiplier;
    hash ^= hash >> 32;
  };
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    mix(word);
  }
  if (n >= 4) {  // 4..7 bytes left: their first and last four, overlapping
    std::uint32_t first, last;
    std::memcpy(&first, p, 4);
    std::memcpy(&last, p + n - 4, 4);
    mix(std::uint64_t{first} << 32 | last);
  } else if (n > 0) {  // 1..3 bytes: the first, the middle and the last
    const auto byte = [&](std::size_t i) { return std::uint64_t{static_cast<std::uint8_t>(p[i])}; };
    mix(byte(0) << 16 | byte(n / 2) << 8 | byte(n - 1));
  }
  return hash;
}

// Collects the distinct values of a column chunk in the order they first appear and gives each
// value its index. T is std::string_view (BYTE_ARRAY: the builder keeps its own copies, packed
// together), std::int32_t, std::int64_t, float or double (floats are told apart by their bits:
// every NaN pattern and -0.0 are values of their own).
template <typename T>
class DictionaryBuilder {
 public:
  DictionaryBuilder() : slots_(kInitialSlots) {}

  // The index of value, adding it when it is new.
  std::uint32_t Add(T value) {
    const std::uint64_t key = KeyOf(value);
    for (std::size_t s = SlotOf(key);; s = (s + 1) & (slots_.size() - 1)) {
      const Slot& slot = slots_[s];
      if (slot.index_plus_one == 0) return Insert(value, key, s);
      if (slot.key == key && (kKeyIsValue || values_[slot.index_plus_one - 1] == value)) {
        return slot.index_plus_one - 1;
      }
    }
  }
  // Add() for each value, the indices appended to indices.
  void AddAll(std::span<const T> values, std::vector<std::uint32_t>& indices);

  std::size_t size() const { return values_.size(); }
  // The distinct values by index (string views point into the builder).
  const std::vector<T>& values() const { return values_; }
  // The dictionary page body: the values in PLAIN encoding, appended to out.
  void EncodeDictionaryPage(std::string& out) const;
  // Bytes of that body, to decide when a dictionary has grown too large.
  std::size_t plain_size() const { return plain_size_; }

 private:
  // An open-addressing table: a power-of-two number of slots, at most half of them used, a key
  // that is not in its slot in the next free one (linear probing). A slot holds the key of a value
  // (its bits; a string's hash) and the value's index + 1 (0: the slot is free).
  struct Slot {
    std::uint64_t key = 0;
    std::uint32_t index_plus_one = 0;
  };
  static constexpr std::size_t kInitialSlots = 16;
  // Whether equal keys mean equal values (all but strings).
  static constexpr bool kKeyIsValue = !std::is_same_v<T, std::string_view>;

  static std::uint64_t KeyOf(T value) {
    if constexpr (std::is_same_v<T, std::string_view>) {
      return HashBytes(value);
    } else if constexpr (sizeof(T) == 4) {
      return std::bit_cast<std::uint32_t>(value);
    } else {
      return std::bit_cast<std::uint64_t>(value);
    }
  }
  // The key's first slot to try: the high bits of its product with 2^64 / golden ratio, which
  // spreads keys that differ only in their low bits (consecutive ints).
  std::size_t SlotOf(std::uint64_t key) const {
    return static_cast<std::size_t>((key * 0x9e3779b97f4a7c15u) >> slot_shift_);
  }
  // Adds value (not in the table) in the free slot s; returns its index.
  std::uint32_t Insert(T value, std::uint64_t key, std::size_t s);
  void Grow();

  std::vector<Slot> slots_;
  int slot_shift_ = 64 - std::countr_zero(kInitialSlots);  // 64 - log2(slots_.size())
  std::vector<T> values_;
  std::deque<std::string> blocks_;  // BYTE_ARRAY copies (KeepPacked)
  std::size_t plain_size_ = 0;
};

extern template class DictionaryBuilder<std::string_view>;
extern template class DictionaryBuilder<std::int32_t>;
extern template class DictionaryBuilder<std::int64_t>;
extern template class DictionaryBuilder<float>;
extern template class DictionaryBuilder<double>;

}  // namespace dkdata::internal::parquet
