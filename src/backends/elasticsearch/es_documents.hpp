// src/backends/elasticsearch/es_documents.hpp: records as Elasticsearch documents and back.
//
// A document is the reference implementation's layout plus dkdata's "_dk" object:
//
//   {"id": "a1", "data": {"name": "Ann", "age": 30, "tags": ["x"]}, "metadata": {...},
//    "_dk": {"v": 3, "f": {...}, "p": ["name", "age", "tags"], "o": ["tags"],
//            "s": {"name": "Ann"}, "n": {"age": 30}}}
//
// - data and metadata are stored, not indexed (the mapping disables them), so that any value may
//   stand in any field of any record: the reference's dynamic mapping rejects a record whose field
//   holds a string where an earlier record had a number or an object.
// - _dk.v is dkdata's version (1, 2, 3, ...); _dk.c the create_batch call that wrote it (so that
//   one whose response was lost can find and remove its own documents); _dk.f says what plain JSON
//   cannot (timestamps, bytes, vectors, field types and metadata: backends/sql/json_rows.cpp's
//   dkdata_fields).
// - The typed projection the queries run on, for top-level fields only: _dk.s.<key> (keyword) for
//   strings, _dk.n.<key> (double) for numbers that a double holds exactly, _dk.b.<key> (boolean)
//   for bools. _dk.p lists the fields present and not null, _dk.o those whose value is none of
//   these ("odd": lists, objects, timestamps, bytes, vectors, long strings, huge integers, -0.0),
//   which the query translator leaves to the core's evaluator. Timestamps (years 1-9999) are also
//   in _dk.t.<key> (date, milliseconds), for date histograms.
// - <key> is the field name when it is made of [A-Za-z0-9_-] only, else "~" and the hex of its
//   bytes (a dot would make Elasticsearch split the name into objects).
//
// Thread-safety: a DocumentEncoder or DocumentDecoder is used by one thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "backends/sql/json_rows.hpp"
#include "dkdata/record.hpp"
#include "formats/json_internal.hpp"  // AppendJsonString

namespace dkdata::internal {

// The name of a top-level field inside _dk.s / _dk.n / _dk.b.
std::string ProjectionKey(std::string_view field);
void AppendProjectionKey(std::string& out, std::string_view field);

class DocumentEncoder {
 public:
  // Appends the document (its _source) of record stored under id with version, and with the
  // token of the create_batch call that writes it (_dk.c), if any. Throws
  // Error(kInvalidArgument) naming the field for NaN, infinity or invalid UTF-8.
  void Append(std::string& out, std::string_view id, const Record& record, std::uint64_t version,
              std::string_view batch_token = {});

 private:
  EncodedRow row_;
  std::string s_, n_, b_, t_, p_, o_;
};

// Appends one _bulk action line, ending in "\n": {"<action>":{"_id":"<id>"<extra>}}, where extra
// is appended as is (",\"if_seq_no\":3,...").
void AppendBulkAction(std::string& out, std::string_view action, std::string_view id,
                      std::string_view extra = {});

}  // namespace dkdata::internal
