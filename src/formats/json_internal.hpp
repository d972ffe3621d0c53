// src/formats/json_internal.hpp: what storage engines use of the JSON decoder (json.cpp) beyond
// the public API in dkdata/json.hpp.
//
// Thread-safety: reentrant, like the public functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "dkdata/json.hpp"

namespace dkdata::internal {

// The record text holds when it is in the structured form exactly as dkdata (and the reference)
// writes it: {"id", "fields": {name: {"name", "value", "type", "metadata"}}, "metadata",
// "_version"}. Reads only the selected fields, or all when selection is null. nullopt when text
// strays from that form in any way (another key, "_id", a repeated key, a member of "fields" that
// is not a field object): RecordFromJson then says what it is. Throws Error(kInvalidArgument) when
// text is not JSON, or when a field's value does not fit its type.
std::optional<Record> ReadWrittenRecord(std::string_view text, const FieldSelection* selection);

// Appends s as a JSON string (quoted, escaped), as AppendJson does a string Value, without making
// one. Throws Error(kInvalidArgument) for invalid UTF-8.
void AppendJsonString(std::string& out, std::string_view s);

}  // namespace dkdata::internal
