// src/backends/sql/json_rows.hpp: records as rows of JSON columns, shared by the SQL backends
// (sqlite, postgres), in the reference implementation's layout: `data` holds the field values as
// one flat JSON object of plain values, `metadata` the record metadata, and dkdata's own
// `dkdata_fields` column says what plain JSON cannot (json_rows.cpp describes it).
//
// Two dialects: kJson text kept as written (SQLite), and kJsonb for PostgreSQL's jsonb, which
// normalises what it stores: keys are reordered (shorter first), numbers lose their spelling
// (`1e3` is `1000`), and U+0000 cannot be stored. For kJsonb the encoder writes floats without an
// exponent (integral ones with ".0", and exactly when at least 2^53), writes a string holding
// U+0000 as the base64 of its bytes, marks timestamps with their microseconds (so SQL compares
// them as numbers), and notes the key order wherever jsonb's would differ.
//
// Thread-safety: the functions are reentrant; a RowDecoder is used by one thread at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dkdata/record.hpp"
#include "dkdata/value.hpp"

namespace dkdata::internal {

enum class JsonDialect : std::uint8_t { kJson, kJsonb };

// The dkdata_fields members a kJsonb row may carry besides the mirrors: "z" when some string
// holds U+0000 (stored as base64), "v" when some value is a vector. SQL reads them to know which
// rows its plain-JSON reading may get wrong.
inline constexpr std::string_view kNulStringsFlag = "z";
inline constexpr std::string_view kVectorsFlag = "v";

// A record as the columns of its row.
struct EncodedRow {
  std::string data;        // the field values as one flat JSON object (plain JSON)
  std::string metadata;    // the record metadata as JSON; empty for none (stored as NULL)
  std::string fields;      // dkdata_fields: "{}" when plain JSON says everything
  std::string scratch[6];  // the encoder's working space, kept for its capacity
  // Clears the strings, keeping their capacity.
  void Clear() {
    data.clear();
    metadata.clear();
    fields.clear();
    for (std::string& s : scratch) s.clear();
  }
};

// Encodes a record; throws Error(kInvalidArgument) of `backend`, naming the field, for NaN or
// infinity, invalid UTF-8 and (kJsonb) a key holding U+0000.
void EncodeRow(const Record& record, EncodedRow& out, std::string_view backend,
               JsonDialect dialect = JsonDialect::kJson);

// Appends the plain JSON of one value as EncodeRow writes it in that dialect (a query operand
// compared with stored JSON); throws as EncodeRow does.
void AppendRowJson(std::string& out, const Value& value, std::string_view backend,
                   JsonDialect dialect);

// The columns of a stored row; a null column is nullopt.
struct StoredRow {
  std::string_view id;
  std::string_view data;
  std::optional<std::string_view> metadata;
  std::uint64_t version = 1;
  // nullopt: written by another program (the reference implementation), whose conventions apply.
  std::optional<std::string_view> fields;
};

// The instant of a timestamp's stored text (Timestamp::ToIso), including the years outside 0-9999
// that Timestamp::Parse does not read; nullopt for other text.
std::optional<Timestamp> ParseStoredTimestamp(std::string_view text) noexcept;

// Decodes rows of either dialect into records. Rows of one table mostly share their
// dkdata_fields text (the same fields hold timestamps in every record): the decoder keeps the
// last one parsed.
class RowDecoder {
 public:
  explicit RowDecoder(std::string_view backend) : backend_(backend) {}
  // Decodes a row into out (fields, id, version, metadata replaced). Throws Error(kIo) when the
  // row is not a record (data is not a JSON object).
  void Decode(const StoredRow& row, Record& out);

 private:
  const Object& FieldsInfo(std::string_view text, std::string_view id);

  std::string_view backend_;
  std::string fields_text_;
  Object fields_info_;
};

}  // namespace dkdata::internal
