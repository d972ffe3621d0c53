// Parquet's value and level encodings (see formats/parquet/parquet_encodings.hpp).
//
// Layouts, from Encodings.md:
//   RLE hybrid      run* ; bit-packed run = varint(groups << 1 | 1) + groups * width bytes (8
//                   values per group); RLE run = varint(count << 1) + the value in ceil(width/8)
//                   bytes LE.
//   DELTA_BINARY_PACKED  varint block_size, varint miniblocks, varint total_count, zigzag first;
//                   per block: zigzag min_delta, one width byte per miniblock, the miniblocks
//                   (unneeded ones in the last block have a width byte but no data).
//   DELTA_LENGTH_BYTE_ARRAY  DELTA_BINARY_PACKED lengths, then the bytes concatenated.
//   DELTA_BYTE_ARRAY  DELTA_BINARY_PACKED prefix lengths, then DELTA_LENGTH_BYTE_ARRAY suffixes.
//   BYTE_STREAM_SPLIT  byte j of value i at j * count + i.
// Bit-packing is LSB first: value i occupies bits [i * width, (i + 1) * width) of the LE stream.
#include "formats/parquet/parquet_encodings.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "dkdata/errors.hpp"
#include "formats/parquet/thrift_compact.hpp"

namespace dkdata::internal::parquet {

// Fixed-width values are copied with memcpy: the file's byte order is little-endian.
static_assert(std::endian::native == std::endian::little, "dkdata's Parquet codec needs a LE host");

namespace {

constexpr std::size_t kMaxVarintBytes = 10;
constexpr std::uint64_t kMaxRunLength = (std::uint64_t{1} << 31) - 1;
constexpr std::uint64_t kMaxDeltaBlockSize = std::uint64_t{1} << 31;
constexpr std::size_t kUnpackChunk = 256;  // values unpacked at once into a stack buffer

// Error messages are built by appending (GCC 12 at -O3 warns falsely on "x" + std::string).
void AppendPart(std::string& s, std::string_view part) {
  s.append(part);
}
template <typename I>
requires std::is_integral_v<I>
void AppendPart(std::string& s, I n) {
  s.append(std::to_string(n));
}
template <typename... Parts>
std::string Cat(const Parts&... parts) {
  std::string s;
  (AppendPart(s, parts), ...);
  return s;
}

// Bytes that count values of width bits take, bit-packed (rounded up).
constexpr std::size_t PackedBytes(std::size_t count, int width) {
  return count / 8 * static_cast<std::size_t>(width) +
         (count % 8 * static_cast<std::size_t>(width) + 7) / 8;
}

// A read position in EncodedBytes; failures name the context, the encoding and the offset.
class Cursor {
 public:
  Cursor(const EncodedBytes& in, std::string_view encoding) : in_(in), encoding_(encoding) {}

  std::size_t position() const { return position_; }
  std::size_t remaining() const { return in_.bytes.size() - position_; }
  const std::uint8_t* data() const {
    return reinterpret_cast<const std::uint8_t*>(in_.bytes.data()) + position_;
  }
  void Skip(std::size_t n) { position_ += n; }
  // The bytes from position on, as input of another decoder (offsets stay those of this input).
  EncodedBytes Rest(std::size_t length) const {
    return {in_.bytes.substr(position_, length), in_.context, in_.base_offset + position_};
  }

  [[noreturn]] void Fail(std::string_view what, std::size_t position) const {
    std::string message;
    if (!in_.context.empty()) message.append(in_.context).append(": ");
    message.append(encoding_).append(": ").append(what).append(" at byte ");
    message.append(std::to_string(in_.base_offset + position));
    throw Error(ErrorCode::kInvalidArgument, std::move(message));
  }

  void Need(std::size_t n, std::string_view what, std::size_t start) const {
    if (n > remaining()) {
      Fail(Cat(what, " needs ", n, " bytes, ", remaining(), " left"), start);
    }
  }

  std::uint8_t ReadByte(std::string_view what) {
    Need(1, what, position_);
    return static_cast<std::uint8_t>(in_.bytes[position_++]);
  }

  std::uint32_t ReadU32(std::string_view what) {
    Need(4, what, position_);
    std::uint32_t value;
    std::memcpy(&value, data(), 4);
    position_ += 4;
    return value;
  }

  // ULEB128, at most 10 bytes and 64 bits.
  std::uint64_t ReadVarint(std::string_view what) {
    const std::size_t start = position_;
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < kMaxVarintBytes; ++i) {
      if (position_ >= in_.bytes.size()) {
        std::string message("input ends inside ");
        message.append(what);
        Fail(message, start);
      }
      const auto byte = static_cast<std::uint8_t>(in_.bytes[position_++]);
      if (i == kMaxVarintBytes - 1 && byte > 1) {
        std::string message(what);
        message.append(" is a varint longer than 64 bits");
        Fail(message, start);
      }
      value |= static_cast<std::uint64_t>(byte & 0x7f) << (7 * i);
      if ((byte & 0x80) == 0) return value;
    }
    std::string message(what);
    message.append(" is a varint longer than 10 bytes");
    Fail(message, start);
  }

  std::int64_t ReadZigzag(std::string_view what) { return ZigzagDecode(ReadVarint(what)); }

 private:
  const EncodedBytes& in_;
  std::string_view encoding_;
  std::size_t position_ = 0;
};

// ---- Bit unpacking ----

std::uint64_t Load64(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Value i of width bits, reading only the bytes it occupies (the slow, always-safe path).
std::uint64_t UnpackOne(const std::uint8_t* in, std::size_t i, int width) {
  std::uint64_t value = 0;
  const std::size_t bit = i * static_cast<std::size_t>(width);
  int got = 0;
  while (got < width) {
    const std::size_t at = bit + static_cast<std::size_t>(got);
    const int offset = static_cast<int>(at & 7);
    const int take = std::min(8 - offset, width - got);
    const std::uint64_t bits = (in[at >> 3] >> offset) & ((1u << take) - 1);
    value |= bits << got;
    got += take;
  }
  return value;
}

// Unpacks count values of kWidth bits from in (size bytes, at least PackedBytes(count, kWidth)).
// Whole groups of 8 values (kWidth bytes each) are read with unaligned 64-bit loads while the
// loads stay inside the input; the rest value by value.
template <typename Out, int kWidth>
void Unpack(const std::uint8_t* in, std::size_t size, Out* out, std::size_t count) {
  if constexpr (kWidth == 0) {
    std::fill_n(out, count, Out{0});
  } else {
    constexpr std::uint64_t kMask =
        kWidth == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << kWidth) - 1;
    // A value at bit offset s (< 8) of its first byte spans s + kWidth bits: 8 bytes hold it up to
    // 57 bits wide, wider ones need a ninth.
    constexpr std::size_t kLoadBytes = kWidth > 56 ? 9 : 8;
    constexpr std::size_t kGroupReach = (7 * kWidth) / 8 + kLoadBytes;  // bytes a group reads
    std::size_t group = 0;
    const std::size_t groups = count / 8;
    if (size >= kGroupReach) {
      const std::size_t fast_groups = std::min(groups, (size - kGroupReach) / kWidth + 1);
      for (; group < fast_groups; ++group) {
        const std::uint8_t* base = in + group * kWidth;
        Out* dst = out + group * 8;
        for (int j = 0; j < 8; ++j) {
          const int bit = j * kWidth;
          const std::uint8_t* p = base + bit / 8;
          const int shift = bit % 8;
          std::uint64_t v = Load64(p) >> shift;
          if constexpr (kWidth > 56) {
            if (shift != 0) v |= static_cast<std::uint64_t>(p[8]) << (64 - shift);
          }
          dst[j] = static_cast<Out>(v & kMask);
        }
      }
    }
    for (std::size_t i = group * 8; i < count; ++i) {
      out[i] = static_cast<Out>(UnpackOne(in, i, kWidth));
    }
  }
}

template <typename Out>
using UnpackFn = void (*)(const std::uint8_t*, std::size_t, Out*, std::size_t);

template <typename Out, int... kWidths>
constexpr std::array<UnpackFn<Out>, sizeof...(kWidths)> UnpackTable(
    std::integer_sequence<int, kWidths...>) {
  return {&Unpack<Out, kWidths>...};
}

constexpr auto kUnpack32 = UnpackTable<std::uint32_t>(std::make_integer_sequence<int, 33>());
constexpr auto kUnpack64 = UnpackTable<std::uint64_t>(std::make_integer_sequence<int, 65>());

// ---- Bit packing and varints (encoders) ----

void AppendVarint(std::uint64_t value, std::string& out) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void AppendU32(std::uint32_t value, std::string& out) {
  char bytes[4];
  std::memcpy(bytes, &value, 4);
  out.append(bytes, 4);
}

// Appends the values (each already below 2^width) bit-packed, padded to a whole byte.
template <typename V>
void PackBits(std::span<const V> values, int width, std::string& out) {
  if (width == 0 || values.empty()) return;
  const std::size_t base = out.size();
  out.append(PackedBytes(values.size(), width), '\0');
  auto* p = reinterpret_cast<std::uint8_t*>(out.data() + base);
  std::size_t bit = 0;
  for (V value : values) {
    const auto v = static_cast<std::uint64_t>(value);
    std::size_t byte = bit >> 3;
    const int shift = static_cast<int>(bit & 7);
    p[byte] |= static_cast<std::uint8_t>(v << shift);
    for (int written = 8 - shift; written < width; written += 8) {
      p[++byte] |= static_cast<std::uint8_t>(v >> written);
    }
    bit += static_cast<std::size_t>(width);
  }
}

[[noreturn]] void FailEncode(std::string_view encoding, std::string_view what) {
  std::string message("encoding ");
  message.append(encoding).append(": ").append(what);
  throw Error(ErrorCode::kInvalidArgument, std::move(message));
}

// ---- RLE / bit-packed hybrid ----

constexpr std::string_view kRle = "RLE hybrid";

// Decodes count values into out; each must be below limit (2^bit_width, or a dictionary's size,
// which names them "dictionary index"). Returns the bytes consumed.
std::size_t DecodeHybrid(Cursor& c, int bit_width, std::uint32_t* out, std::size_t count,
                         std::uint64_t limit, bool indices) {
  const std::size_t stream_start = c.position();
  if (bit_width < 0 || bit_width > 32) {
    c.Fail(Cat("bit width ", bit_width, " is outside 0..32"), stream_start);
  }
  const std::size_t value_bytes = (static_cast<std::size_t>(bit_width) + 7) / 8;
  const UnpackFn<std::uint32_t> unpack = kUnpack32[static_cast<std::size_t>(bit_width)];
  auto check = [&](std::uint64_t value, std::size_t at) {
    if (value >= limit) {
      if (indices)
        c.Fail(Cat("dictionary index ", value, " is not below the dictionary size ", limit), at);
      c.Fail(Cat("value ", value, " is wider than ", bit_width, " bits"), at);
    }
  };
  std::size_t done = 0;
  while (done < count) {
    const std::size_t start = c.position();
    if (c.remaining() == 0) {
      c.Fail(Cat("input ends after ", done, " of ", count, " values"), start);
    }
    const std::uint64_t header = c.ReadVarint("run header");
    if (header > 0xffffffffu) c.Fail(Cat("run header ", header, " is above 2^32-1"), start);
    const std::size_t wanted = count - done;
    if (header & 1) {
      const std::size_t values = static_cast<std::size_t>(header >> 1) * 8;
      const std::size_t full =
          static_cast<std::size_t>(header >> 1) * static_cast<std::size_t>(bit_width);
      const std::size_t take = std::min(values, wanted);
      const std::size_t need = PackedBytes(take, bit_width);
      if (need > c.remaining()) {
        c.Fail(Cat("bit-packed run of ", values, " values needs ", need, " bytes for the ", take,
                   " values wanted, ", c.remaining(), " left"),
               start);
      }
      const std::size_t available = std::min(full, c.remaining());
      std::uint32_t* dst = out + done;
      unpack(c.data(), available, dst, take);
      if (indices) {  // bit-packed values always fit the width; indices must fit the dictionary
        std::uint32_t max = 0;
        for (std::size_t i = 0; i < take; ++i) max = std::max(max, dst[i]);
        if (max >= limit) check(max, start);
      }
      c.Skip(available);
      done += take;
    } else {
      const std::uint64_t run = header >> 1;
      c.Need(value_bytes, "RLE run value", c.position());
      const std::size_t value_at = c.position();
      std::uint32_t value = 0;
      for (std::size_t i = 0; i < value_bytes; ++i) {
        value |= static_cast<std::uint32_t>(c.data()[i]) << (8 * i);
      }
      c.Skip(value_bytes);
      check(value, value_at);
      const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(run, wanted));
      std::fill_n(out + done, take, value);
      done += take;
    }
  }
  return c.position() - stream_start;
}

std::uint64_t WidthLimit(int bit_width) {
  return bit_width >= 0 && bit_width < 32 ? std::uint64_t{1} << bit_width : std::uint64_t{1} << 32;
}

void AppendRleRun(std::uint32_t value, std::uint64_t count, int bit_width, std::string& out) {
  while (count > 0) {
    const std::uint64_t run = std::min(count, kMaxRunLength);
    AppendVarint(run << 1, out);
    for (int i = 0; i < (bit_width + 7) / 8; ++i) {
      out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
    }
    count -= run;
  }
}

// values.size() is a multiple of 8, or the last values (padded with zeros).
void AppendBitPackedRun(std::span<const std::uint32_t> values, int bit_width, std::string& out) {
  constexpr std::size_t kMaxGroups = kMaxRunLength;
  while (!values.empty()) {
    const std::size_t groups = std::min<std::size_t>((values.size() + 7) / 8, kMaxGroups);
    const std::size_t n = std::min(values.size(), groups * 8);
    AppendVarint((static_cast<std::uint64_t>(groups) << 1) | 1, out);
    PackBits(values.first(n), bit_width, out);
    // Padding: the group's remaining values are zero bits, up to a whole group of bit_width bytes.
    out.append(groups * static_cast<std::size_t>(bit_width) - PackedBytes(n, bit_width), '\0');
    values = values.subspan(n);
  }
}

// ---- PLAIN ----

template <typename T>
std::size_t DecodePlainFixed(const EncodedBytes& in, std::size_t count, std::vector<T>& out,
                             std::string_view type) {
  Cursor c(in, "PLAIN");
  if (count > c.remaining() / sizeof(T)) {
    c.Fail(Cat(count, " ", type, " values of ", sizeof(T), " bytes need more than the ",
               c.remaining(), " bytes left"),
           0);
  }
  out.resize(count);
  if (count > 0) std::memcpy(out.data(), c.data(), count * sizeof(T));
  return count * sizeof(T);
}

template <typename T>
void AppendFixed(std::span<const T> values, std::string& out) {
  if (values.empty()) return;
  out.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

// ---- DELTA_BINARY_PACKED ----

constexpr std::string_view kDelta = "DELTA_BINARY_PACKED";

template <typename T>
std::size_t DecodeDelta(Cursor& c, std::size_t max_count, std::vector<T>& out) {
  const std::size_t stream_start = c.position();
  std::size_t at = c.position();
  const std::uint64_t block_size = c.ReadVarint("block size");
  if (block_size == 0 || block_size % 128 != 0 || block_size > kMaxDeltaBlockSize) {
    c.Fail(Cat("block size ", block_size, " is not a multiple of 128 in 128..2^31"), at);
  }
  at = c.position();
  const std::uint64_t miniblocks = c.ReadVarint("miniblock count");
  if (miniblocks == 0 || block_size % miniblocks != 0 || (block_size / miniblocks) % 32 != 0) {
    c.Fail(Cat("block of ", block_size, " values cannot have ", miniblocks,
               " miniblocks (each must hold a multiple of 32 values)"),
           at);
  }
  at = c.position();
  const std::uint64_t total = c.ReadVarint("value count");
  if (total > max_count) {
    c.Fail(Cat("value count ", total, " is above the ", max_count, " expected"), at);
  }
  const std::uint64_t first = static_cast<std::uint64_t>(c.ReadZigzag("first value"));
  out.resize(static_cast<std::size_t>(total));
  if (total == 0) return c.position() - stream_start;
  out[0] = static_cast<T>(first);
  const std::size_t per_miniblock = static_cast<std::size_t>(block_size / miniblocks);
  const auto miniblock_count = static_cast<std::size_t>(miniblocks);
  std::uint64_t value = first;
  std::size_t done = 1;
  std::uint64_t buffer[kUnpackChunk];
  while (done < total) {
    const std::uint64_t min_delta = static_cast<std::uint64_t>(c.ReadZigzag("min delta"));
    const std::size_t widths_at = c.position();
    c.Need(miniblock_count, "miniblock bit widths", widths_at);
    const std::uint8_t* widths = c.data();
    c.Skip(miniblock_count);
    for (std::size_t m = 0; m < miniblock_count && done < total; ++m) {
      const int width = widths[m];
      if (width > 64) {
        c.Fail(Cat("miniblock bit width ", width, " is above 64"), widths_at + m);
      }
      const std::size_t take = std::min(per_miniblock, static_cast<std::size_t>(total) - done);
      const std::size_t full = per_miniblock / 8 * static_cast<std::size_t>(width);
      const std::size_t need = PackedBytes(take, width);
      if (need > c.remaining()) {
        c.Fail(Cat("miniblock of ", take, " values at ", width, " bits needs ", need, " bytes, ",
                   c.remaining(), " left"),
               c.position());
      }
      const std::size_t available = std::min(full, c.remaining());
      const UnpackFn<std::uint64_t> unpack = kUnpack64[static_cast<std::size_t>(width)];
      for (std::size_t chunk = 0; chunk < take; chunk += kUnpackChunk) {
        const std::size_t n = std::min(kUnpackChunk, take - chunk);
        const std::size_t offset = chunk / 8 * static_cast<std::size_t>(width);
        unpack(c.data() + offset, available - offset, buffer, n);
        T* dst = out.data() + done;
        for (std::size_t i = 0; i < n; ++i) {
          value += min_delta + buffer[i];
          dst[i] = static_cast<T>(value);
        }
        done += n;
      }
      c.Skip(available);
    }
  }
  return c.position() - stream_start;
}

// U is T's unsigned type: deltas wrap at T's width, so no miniblock is wider than T.
template <typename T>
void EncodeDelta(std::span<const T> values, std::string& out) {
  using U = std::make_unsigned_t<T>;
  constexpr std::size_t kBlock = 128;
  constexpr std::size_t kMiniblocks = 4;
  constexpr std::size_t kPerMiniblock = kBlock / kMiniblocks;
  AppendVarint(kBlock, out);
  AppendVarint(kMiniblocks, out);
  AppendVarint(values.size(), out);
  AppendVarint(ZigzagEncode(values.empty() ? 0 : static_cast<std::int64_t>(values[0])), out);
  std::array<T, kBlock> deltas{};
  std::array<U, kBlock> packed{};
  for (std::size_t begin = 1; begin < values.size(); begin += kBlock) {
    const std::size_t n = std::min(kBlock, values.size() - begin);
    T min_delta = std::numeric_limits<T>::max();
    for (std::size_t i = 0; i < n; ++i) {
      const U d =
          static_cast<U>(static_cast<U>(values[begin + i]) - static_cast<U>(values[begin + i - 1]));
      deltas[i] = static_cast<T>(d);
      min_delta = std::min(min_delta, deltas[i]);
    }
    AppendVarint(ZigzagEncode(min_delta), out);
    packed.fill(0);
    for (std::size_t i = 0; i < n; ++i) {
      packed[i] = static_cast<U>(static_cast<U>(deltas[i]) - static_cast<U>(min_delta));
    }
    std::array<int, kMiniblocks> widths{};
    const std::size_t used = (n + kPerMiniblock - 1) / kPerMiniblock;
    for (std::size_t m = 0; m < used; ++m) {
      U all = 0;
      for (std::size_t i = 0; i < kPerMiniblock; ++i) all |= packed[m * kPerMiniblock + i];
      widths[m] = BitWidth(all);
    }
    for (int width : widths) out.push_back(static_cast<char>(width));
    for (std::size_t m = 0; m < used; ++m) {
      PackBits(std::span<const U>(packed.data() + m * kPerMiniblock, kPerMiniblock), widths[m],
               out);
    }
  }
}

// ---- DELTA_LENGTH_BYTE_ARRAY ----

void DecodeLengthPrefixed(Cursor& c, std::size_t max_count, std::vector<std::string_view>& out) {
  std::vector<std::int32_t> lengths;
  const std::size_t lengths_at = c.position();
  DecodeDelta(c, max_count, lengths);
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < lengths.size(); ++i) {
    if (lengths[i] < 0) {
      c.Fail(Cat("length ", lengths[i], " of value ", i, " is negative"), lengths_at);
    }
    total += static_cast<std::uint64_t>(lengths[i]);
  }
  if (total > c.remaining()) {
    c.Fail(
        Cat("values of ", total, " bytes in all are past the end (", c.remaining(), " bytes left)"),
        c.position());
  }
  out.resize(lengths.size());
  const auto* base = reinterpret_cast<const char*>(c.data());
  std::size_t offset = 0;
  for (std::size_t i = 0; i < lengths.size(); ++i) {
    const auto length = static_cast<std::size_t>(lengths[i]);
    out[i] = std::string_view(base + offset, length);
    offset += length;
  }
  c.Skip(offset);
}

std::int32_t LengthAsInt32(std::size_t length, std::string_view encoding) {
  if (length > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
    FailEncode(encoding, Cat("a value of ", length, " bytes is longer than 2^31-1"));
  }
  return static_cast<std::int32_t>(length);
}

void EncodeLengthPrefixed(std::span<const std::string_view> values, std::string& out,
                          std::string_view encoding) {
  std::vector<std::int32_t> lengths(values.size());
  for (std::size_t i = 0; i < values.size(); ++i)
    lengths[i] = LengthAsInt32(values[i].size(), encoding);
  EncodeDelta<std::int32_t>(lengths, out);
  for (std::string_view value : values) out.append(value);
}

// ---- BYTE_STREAM_SPLIT ----

void CheckSplitSize(const EncodedBytes& in, std::size_t width, std::size_t count) {
  if (width == 0 || count > in.bytes.size() / width || count * width != in.bytes.size()) {
    Cursor c(in, "BYTE_STREAM_SPLIT");
    c.Fail(Cat(count, " values of ", width, " bytes do not make the ", in.bytes.size(),
               " bytes of the section"),
           0);
  }
}

// in holds exactly width * count bytes (CheckSplitSize()).
void Unsplit(const EncodedBytes& in, std::size_t width, std::size_t count, std::uint8_t* out) {
  const auto* src = reinterpret_cast<const std::uint8_t*>(in.bytes.data());
  for (std::size_t j = 0; j < width; ++j) {
    const std::uint8_t* stream = src + j * count;
    for (std::size_t i = 0; i < count; ++i) out[i * width + j] = stream[i];
  }
}

template <typename T>
void DecodeSplit(const EncodedBytes& in, std::size_t count, std::vector<T>& out) {
  CheckSplitSize(in, sizeof(T), count);
  out.resize(count);
  if (count == 0) return;
  // Byte-wise into the values' storage (T is trivially copyable, the host little-endian).
  Unsplit(in, sizeof(T), count, reinterpret_cast<std::uint8_t*>(out.data()));
}

}  // namespace

int BitWidth(std::uint64_t max_value) {
  return static_cast<int>(std::bit_width(max_value));
}

// ---- RLE / bit-packed hybrid ----

std::size_t DecodeRleHybrid(const EncodedBytes& in, int bit_width, std::span<std::uint32_t> out) {
  Cursor c(in, kRle);
  return DecodeHybrid(c, bit_width, out.data(), out.size(), WidthLimit(bit_width), false);
}

std::size_t DecodeRleHybrid(const EncodedBytes& in, int bit_width, std::size_t count,
                            std::vector<std::uint32_t>& out) {
  Cursor c(in, kRle);
  if (bit_width < 0 || bit_width > 32) {
    c.Fail(Cat("bit width ", bit_width, " is outside 0..32"), 0);
  }
  out.resize(count);
  return DecodeHybrid(c, bit_width, out.data(), count, WidthLimit(bit_width), false);
}

std::size_t DecodeRleHybridWithLength(const EncodedBytes& in, int bit_width, std::size_t count,
                                      std::vector<std::uint32_t>& out) {
  Cursor c(in, kRle);
  const std::uint32_t length = c.ReadU32("length prefix");
  if (length > c.remaining()) {
    c.Fail(Cat("length ", length, " is past the end (", c.remaining(), " bytes left)"), 0);
  }
  DecodeRleHybrid(c.Rest(length), bit_width, count, out);
  return 4 + static_cast<std::size_t>(length);
}

std::size_t DecodeDictionaryIndices(const EncodedBytes& in, std::size_t count,
                                    std::size_t dictionary_size, std::vector<std::uint32_t>& out) {
  Cursor c(in, "dictionary indices");
  out.clear();
  if (count == 0 && c.remaining() == 0) return 0;  // a page of nulls may have no width byte
  const int bit_width = c.ReadByte("bit width");
  if (bit_width > 32) c.Fail(Cat("bit width ", bit_width, " is above 32"), 0);
  if (count == 0) return 1;
  if (dictionary_size == 0) c.Fail(Cat(count, " indices into an empty dictionary"), 0);
  out.resize(count);
  const std::uint64_t limit = std::min<std::uint64_t>(dictionary_size, WidthLimit(bit_width));
  Cursor rest(in, "dictionary indices");
  rest.Skip(1);
  return 1 + DecodeHybrid(rest, bit_width, out.data(), count, limit,
                          limit == static_cast<std::uint64_t>(dictionary_size));
}

void EncodeRleHybrid(std::span<const std::uint32_t> values, int bit_width, std::string& out) {
  if (bit_width < 0 || bit_width > 32) {
    FailEncode(kRle, Cat("bit width ", bit_width, " is outside 0..32"));
  }
  std::uint32_t all = 0;
  for (std::uint32_t v : values) all |= v;
  if (all >= WidthLimit(bit_width)) {
    FailEncode(kRle, Cat("a value is wider than ", bit_width, " bits"));
  }
  const std::size_t n = values.size();
  std::size_t literal_start = 0;
  std::size_t i = 0;
  while (i < n) {
    std::size_t run = 1;
    while (i + run < n && values[i + run] == values[i]) ++run;
    // Literals go out in whole groups of 8: the run first lends values to complete the group.
    const std::size_t lend = (8 - (i - literal_start) % 8) % 8;
    if (run >= lend + 8) {
      i += lend;
      AppendBitPackedRun(values.subspan(literal_start, i - literal_start), bit_width, out);
      AppendRleRun(values[i], run - lend, bit_width, out);
      i += run - lend;
      literal_start = i;
    } else {
      i += run;
    }
  }
  AppendBitPackedRun(values.subspan(literal_start), bit_width, out);
}

void EncodeRleHybridWithLength(std::span<const std::uint32_t> values, int bit_width,
                               std::string& out) {
  const std::size_t at = out.size();
  AppendU32(0, out);
  EncodeRleHybrid(values, bit_width, out);
  const std::size_t length = out.size() - at - 4;
  if (length > std::numeric_limits<std::uint32_t>::max()) {
    FailEncode(kRle, Cat("levels of ", length, " bytes do not fit a u32 length"));
  }
  const auto length32 = static_cast<std::uint32_t>(length);
  std::memcpy(out.data() + at, &length32, 4);
}

void EncodeDictionaryIndices(std::span<const std::uint32_t> indices, std::size_t dictionary_size,
                             std::string& out) {
  const int bit_width = BitWidth(dictionary_size == 0 ? 0 : dictionary_size - 1);
  if (bit_width > 32) FailEncode("dictionary indices", "dictionary of more than 2^32 values");
  for (std::uint32_t index : indices) {
    if (index >= dictionary_size) {
      FailEncode("dictionary indices",
                 Cat("index ", index, " is not below the dictionary size ", dictionary_size));
    }
  }
  out.push_back(static_cast<char>(bit_width));
  EncodeRleHybrid(indices, bit_width, out);
}

// ---- PLAIN ----

std::size_t DecodePlainBoolean(const EncodedBytes& in, std::size_t count,
                               std::vector<std::uint8_t>& out) {
  Cursor c(in, "PLAIN");
  const std::size_t bytes = count / 8 + (count % 8 != 0 ? 1 : 0);
  if (bytes > c.remaining()) {
    c.Fail(Cat(count, " BOOLEAN values need ", bytes, " bytes, ", c.remaining(), " left"), 0);
  }
  out.resize(count);
  const std::uint8_t* src = c.data();
  for (std::size_t i = 0; i < count; ++i) out[i] = (src[i >> 3] >> (i & 7)) & 1;
  return bytes;
}

std::size_t DecodePlainInt32(const EncodedBytes& in, std::size_t count,
                             std::vector<std::int32_t>& out) {
  return DecodePlainFixed(in, count, out, "INT32");
}
std::size_t DecodePlainInt64(const EncodedBytes& in, std::size_t count,
                             std::vector<std::int64_t>& out) {
  return DecodePlainFixed(in, count, out, "INT64");
}
std::size_t DecodePlainInt96(const EncodedBytes& in, std::size_t count, std::vector<Int96>& out) {
  static_assert(sizeof(Int96) == 12);
  return DecodePlainFixed(in, count, out, "INT96");
}
std::size_t DecodePlainFloat(const EncodedBytes& in, std::size_t count, std::vector<float>& out) {
  return DecodePlainFixed(in, count, out, "FLOAT");
}
std::size_t DecodePlainDouble(const EncodedBytes& in, std::size_t count, std::vector<double>& out) {
  return DecodePlainFixed(in, count, out, "DOUBLE");
}

std::size_t DecodePlainByteArray(const EncodedBytes& in, std::size_t count,
                                 std::vector<std::string_view>& out) {
  Cursor c(in, "PLAIN");
  if (count > c.remaining() / 4) {
    c.Fail(Cat(count, " BYTE_ARRAY values need at least ", count, " length prefixes, ",
               c.remaining(), " bytes left"),
           0);
  }
  out.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t at = c.position();
    const std::uint32_t length = c.ReadU32("BYTE_ARRAY length");
    if (length > c.remaining()) {
      c.Fail(Cat("BYTE_ARRAY value ", i, " of ", length, " bytes is past the end (", c.remaining(),
                 " bytes left)"),
             at);
    }
    out[i] = std::string_view(reinterpret_cast<const char*>(c.data()), length);
    c.Skip(length);
  }
  return c.position();
}

std::size_t DecodePlainFixedLenByteArray(const EncodedBytes& in, std::int32_t type_length,
                                         std::size_t count, std::vector<std::string_view>& out) {
  Cursor c(in, "PLAIN");
  if (type_length < 0) c.Fail(Cat("type_length ", type_length, " is negative"), 0);
  const auto width = static_cast<std::size_t>(type_length);
  if (width > 0 && count > c.remaining() / width) {
    c.Fail(Cat(count, " FIXED_LEN_BYTE_ARRAY(", width, ") values need more than the ",
               c.remaining(), " bytes left"),
           0);
  }
  out.resize(count);
  const auto* base = reinterpret_cast<const char*>(c.data());
  for (std::size_t i = 0; i < count; ++i) out[i] = std::string_view(base + i * width, width);
  return count * width;
}

void EncodePlainBoolean(std::span<const std::uint8_t> values, std::string& out) {
  const std::size_t base = out.size();
  out.append(values.size() / 8 + (values.size() % 8 != 0 ? 1 : 0), '\0');
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i] != 0)
      out[base + (i >> 3)] = static_cast<char>(out[base + (i >> 3)] | (1 << (i & 7)));
  }
}
void EncodePlainInt32(std::span<const std::int32_t> values, std::string& out) {
  AppendFixed(values, out);
}
void EncodePlainInt64(std::span<const std::int64_t> values, std::string& out) {
  AppendFixed(values, out);
}
void EncodePlainInt96(std::span<const Int96> values, std::string& out) {
  AppendFixed(values, out);
}
void EncodePlainFloat(std::span<const float> values, std::string& out) {
  AppendFixed(values, out);
}
void EncodePlainDouble(std::span<const double> values, std::string& out) {
  AppendFixed(values, out);
}

void EncodePlainByteArray(std::span<const std::string_view> values, std::string& out) {
  for (std::string_view value : values) {
    AppendU32(static_cast<std::uint32_t>(LengthAsInt32(value.size(), "PLAIN")), out);
    out.append(value);
  }
}

void EncodePlainFixedLenByteArray(std::span<const std::string_view> values,
                                  std::int32_t type_length, std::string& out) {
  for (std::string_view value : values) {
    if (type_length < 0 || value.size() != static_cast<std::size_t>(type_length)) {
      FailEncode("PLAIN", Cat("a value of ", value.size(), " bytes in a FIXED_LEN_BYTE_ARRAY(",
                              type_length, ") column"));
    }
    out.append(value);
  }
}

// ---- DELTA_BINARY_PACKED ----

std::size_t DecodeDeltaBinaryPackedInt32(const EncodedBytes& in, std::size_t max_count,
                                         std::vector<std::int32_t>& out) {
  Cursor c(in, kDelta);
  return DecodeDelta(c, max_count, out);
}
std::size_t DecodeDeltaBinaryPackedInt64(const EncodedBytes& in, std::size_t max_count,
                                         std::vector<std::int64_t>& out) {
  Cursor c(in, kDelta);
  return DecodeDelta(c, max_count, out);
}
void EncodeDeltaBinaryPackedInt32(std::span<const std::int32_t> values, std::string& out) {
  EncodeDelta(values, out);
}
void EncodeDeltaBinaryPackedInt64(std::span<const std::int64_t> values, std::string& out) {
  EncodeDelta(values, out);
}

// ---- DELTA_LENGTH_BYTE_ARRAY ----

std::size_t DecodeDeltaLengthByteArray(const EncodedBytes& in, std::size_t max_count,
                                       std::vector<std::string_view>& out) {
  Cursor c(in, "DELTA_LENGTH_BYTE_ARRAY");
  DecodeLengthPrefixed(c, max_count, out);
  return c.position();
}

void EncodeDeltaLengthByteArray(std::span<const std::string_view> values, std::string& out) {
  EncodeLengthPrefixed(values, out, "DELTA_LENGTH_BYTE_ARRAY");
}

// ---- DELTA_BYTE_ARRAY ----

std::size_t DecodeDeltaByteArray(const EncodedBytes& in, std::size_t max_count,
                                 std::size_t max_total_bytes,
                                 std::optional<std::int32_t> fixed_length, std::string& storage,
                                 std::vector<std::string_view>& out) {
  Cursor c(in, "DELTA_BYTE_ARRAY");
  std::vector<std::int32_t> prefixes;
  DecodeDelta(c, max_count, prefixes);
  const std::size_t suffixes_at = c.position();
  std::vector<std::string_view> suffixes;
  DecodeLengthPrefixed(c, max_count, suffixes);
  if (suffixes.size() != prefixes.size()) {
    c.Fail(Cat(prefixes.size(), " prefix lengths but ", suffixes.size(), " suffixes"), suffixes_at);
  }
  // First the lengths, so that storage is allocated once (and checked against the limit).
  std::size_t total = 0;
  std::size_t previous = 0;
  for (std::size_t i = 0; i < prefixes.size(); ++i) {
    if (prefixes[i] < 0 || static_cast<std::size_t>(prefixes[i]) > previous) {
      c.Fail(Cat("prefix length ", prefixes[i], " of value ", i,
                 " is longer than the previous value (", previous, " bytes)"),
             0);
    }
    const std::size_t length = static_cast<std::size_t>(prefixes[i]) + suffixes[i].size();
    if (fixed_length && length != static_cast<std::size_t>(*fixed_length)) {
      c.Fail(Cat("value ", i, " of ", length, " bytes in a FIXED_LEN_BYTE_ARRAY(", *fixed_length,
                 ") column"),
             0);
    }
    if (length > max_total_bytes - total) {
      c.Fail(Cat("values of more than ", max_total_bytes, " bytes in all"), 0);
    }
    total += length;
    previous = length;
  }
  storage.resize(total);
  out.resize(prefixes.size());
  std::size_t offset = 0;
  std::size_t previous_offset = 0;
  for (std::size_t i = 0; i < prefixes.size(); ++i) {
    const auto prefix = static_cast<std::size_t>(prefixes[i]);
    if (prefix > 0) std::memcpy(storage.data() + offset, storage.data() + previous_offset, prefix);
    if (!suffixes[i].empty()) {
      std::memcpy(storage.data() + offset + prefix, suffixes[i].data(), suffixes[i].size());
    }
    const std::size_t length = prefix + suffixes[i].size();
    out[i] = std::string_view(storage.data() + offset, length);
    previous_offset = offset;
    offset += length;
  }
  return c.position();
}

void EncodeDeltaByteArray(std::span<const std::string_view> values, std::string& out) {
  std::vector<std::int32_t> prefixes(values.size());
  std::vector<std::string_view> suffixes(values.size());
  std::string_view previous;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::string_view value = values[i];
    const std::size_t limit = std::min(previous.size(), value.size());
    std::size_t prefix = 0;
    while (prefix < limit && previous[prefix] == value[prefix]) ++prefix;
    prefixes[i] = LengthAsInt32(prefix, "DELTA_BYTE_ARRAY");
    suffixes[i] = value.substr(prefix);
    previous = value;
  }
  EncodeDelta<std::int32_t>(prefixes, out);
  EncodeLengthPrefixed(suffixes, out, "DELTA_BYTE_ARRAY");
}

// ---- BYTE_STREAM_SPLIT ----

void DecodeByteStreamSplitFloat(const EncodedBytes& in, std::size_t count,
                                std::vector<float>& out) {
  DecodeSplit(in, count, out);
}
void DecodeByteStreamSplitDouble(const EncodedBytes& in, std::size_t count,
                                 std::vector<double>& out) {
  DecodeSplit(in, count, out);
}
void DecodeByteStreamSplitInt32(const EncodedBytes& in, std::size_t count,
                                std::vector<std::int32_t>& out) {
  DecodeSplit(in, count, out);
}
void DecodeByteStreamSplitInt64(const EncodedBytes& in, std::size_t count,
                                std::vector<std::int64_t>& out) {
  DecodeSplit(in, count, out);
}

void DecodeByteStreamSplitFixedLenByteArray(const EncodedBytes& in, std::int32_t type_length,
                                            std::size_t count, std::string& storage,
                                            std::vector<std::string_view>& out) {
  Cursor c(in, "BYTE_STREAM_SPLIT");
  if (type_length <= 0) c.Fail(Cat("type_length ", type_length, " is not positive"), 0);
  const auto width = static_cast<std::size_t>(type_length);
  CheckSplitSize(in, width, count);
  storage.resize(count * width);
  if (count > 0) Unsplit(in, width, count, reinterpret_cast<std::uint8_t*>(storage.data()));
  out.resize(count);
  for (std::size_t i = 0; i < count; ++i)
    out[i] = std::string_view(storage).substr(i * width, width);
}

void EncodeByteStreamSplit(std::string_view values, std::size_t width, std::string& out) {
  if (width == 0 || values.size() % width != 0) {
    FailEncode("BYTE_STREAM_SPLIT",
               Cat(values.size(), " bytes are not values of ", width, " bytes"));
  }
  const std::size_t count = values.size() / width;
  const std::size_t base = out.size();
  out.resize(base + values.size());
  for (std::size_t i = 0; i < count; ++i) {
    for (std::size_t j = 0; j < width; ++j) out[base + j * count + i] = values[i * width + j];
  }
}

// ---- Byte arrays kept by the writer ----

std::string_view KeepPacked(std::string_view value, std::deque<std::string>& blocks) {
  constexpr std::size_t kBlockBytes = std::size_t{64} << 10;
  if (blocks.empty() || blocks.back().capacity() - blocks.back().size() < value.size()) {
    blocks.emplace_back().reserve(std::max(kBlockBytes, value.size()));
  }
  std::string& block = blocks.back();
  const std::size_t at = block.size();
  block.append(value);
  return std::string_view(block).substr(at);
}

// ---- Dictionaries ----

template <typename T>
std::uint32_t DictionaryBuilder<T>::Insert(T value, std::uint64_t key, std::size_t s) {
  if (values_.size() >= std::numeric_limits<std::uint32_t>::max()) {
    FailEncode("dictionary", "more than 2^32-1 distinct values");
  }
  const auto index = static_cast<std::uint32_t>(values_.size());
  if constexpr (std::is_same_v<T, std::string_view>) {
    LengthAsInt32(value.size(), "dictionary");
    values_.push_back(KeepPacked(value, blocks_));
    plain_size_ += 4 + value.size();
  } else {
    values_.push_back(value);
    plain_size_ += sizeof(T);
  }
  slots_[s] = Slot{key, index + 1};
  if (2 * values_.size() > slots_.size()) Grow();
  return index;
}

template <typename T>
void DictionaryBuilder<T>::Grow() {
  const std::vector<Slot> old = std::exchange(slots_, std::vector<Slot>(slots_.size() * 2));
  --slot_shift_;
  const std::size_t mask = slots_.size() - 1;
  for (const Slot& slot : old) {
    if (slot.index_plus_one == 0) continue;
    std::size_t s = SlotOf(slot.key);
    while (slots_[s].index_plus_one != 0) s = (s + 1) & mask;
    slots_[s] = slot;
  }
}

template <typename T>
void DictionaryBuilder<T>::AddAll(std::span<const T> values, std::vector<std::uint32_t>& indices) {
  indices.reserve(indices.size() + values.size());
  for (T value : values) indices.push_back(Add(value));
}

template <typename T>
void DictionaryBuilder<T>::EncodeDictionaryPage(std::string& out) const {
  if constexpr (std::is_same_v<T, std::string_view>) {
    EncodePlainByteArray(values_, out);
  } else if constexpr (std::is_same_v<T, std::int32_t>) {
    EncodePlainInt32(values_, out);
  } else if constexpr (std::is_same_v<T, std::int64_t>) {
    EncodePlainInt64(values_, out);
  } else if constexpr (std::is_same_v<T, float>) {
    EncodePlainFloat(values_, out);
  } else {
    EncodePlainDouble(values_, out);
  }
}

template class DictionaryBuilder<std::string_view>;
template class DictionaryBuilder<std::int32_t>;
template class DictionaryBuilder<std::int64_t>;
template class DictionaryBuilder<float>;
template class DictionaryBuilder<double>;

}  // namespace dkdata::internal::parquet
