// Benchmarks of the JSON codec on NDJSON: the 100k records of workload.hpp (an id and eight fields:
// name, age, city, score, active, category, created, tags), one flat JSON object per line.
//
//   BM_ParseRecordsDkdata   RecordFromJson per line (parse + build Values + read the record form)
//   BM_ParseValuesDkdata    ParseJson per line (parse + build Values)
//   BM_ParseSimdjsonOnly    simdjson On-Demand touching every key and value of every line: the
//                           floor the two above are measured against (compare their bytes/s)
//   BM_EncodeRecords/flat, BM_EncodeRecords/structured
//                           AppendRecordJson of every record into one buffer
//
// bytes_per_second is the NDJSON size (for the encoders, the size of their output) per second.
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dkdata/json.hpp"
#include "dkdata/record.hpp"
#include "dkdata/value.hpp"
#include "workload.hpp"

namespace dkdata {
namespace {

constexpr std::size_t kRecordCount = 100'000;

struct Dataset {
  std::vector<Record> records;
  std::string ndjson;                   // one flat record per line
  std::vector<std::string_view> lines;  // into ndjson, without the '\n'
};

const Dataset& GetDataset() {
  static const Dataset dataset = [] {
    Dataset d;
    d.records = bench::MakeRecords(kRecordCount);
    std::vector<std::size_t> ends;
    ends.reserve(kRecordCount);
    for (const Record& r : d.records) {
      AppendRecordJson(d.ndjson, r, RecordFormat::kFlat);
      ends.push_back(d.ndjson.size());
      d.ndjson += '\n';
    }
    // simdjson reads up to SIMDJSON_PADDING bytes past a document: the last line gets them here,
    // the others have the lines after them. (Before taking views: reserve may reallocate.)
    d.ndjson.reserve(d.ndjson.size() + simdjson::SIMDJSON_PADDING);
    std::size_t start = 0;
    for (std::size_t end : ends) {
      d.lines.emplace_back(d.ndjson.data() + start, end - start);
      start = end + 1;
    }
    return d;
  }();
  return dataset;
}

void SetThroughput(benchmark::State& state, std::size_t bytes_per_iteration) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes_per_iteration));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kRecordCount));
}

void BM_ParseRecordsDkdata(benchmark::State& state) {
  const Dataset& d = GetDataset();
  if (RecordFromJson(d.lines.front()) != d.records.front()) {
    state.SkipWithError("the flat form does not read back as the record it was written from");
    return;
  }
  for (auto _ : state) {
    for (std::string_view line : d.lines) {
      Record r = RecordFromJson(line);
      benchmark::DoNotOptimize(r);
    }
  }
  SetThroughput(state, d.ndjson.size());
}
BENCHMARK(BM_ParseRecordsDkdata)->Unit(benchmark::kMillisecond);

void BM_ParseValuesDkdata(benchmark::State& state) {
  const Dataset& d = GetDataset();
  for (auto _ : state) {
    for (std::string_view line : d.lines) {
      Value v = ParseJson(line);
      benchmark::DoNotOptimize(v);
    }
  }
  SetThroughput(state, d.ndjson.size());
}
BENCHMARK(BM_ParseValuesDkdata)->Unit(benchmark::kMillisecond);

// Touches every value the way a decoder must: unescaped keys and strings, parsed numbers.
std::uint64_t TouchValue(simdjson::ondemand::value value) {
  using simdjson::ondemand::json_type;
  std::uint64_t sum = 0;
  switch (value.type().value()) {
    case json_type::array:
      for (auto element : value.get_array()) sum += TouchValue(element.value());
      break;
    case json_type::object:
      for (auto field : value.get_object()) {
        sum += field.unescaped_key().value().size();
        sum += TouchValue(field.value());
      }
      break;
    case json_type::number: {
      simdjson::ondemand::number n = value.get_number().value();
      sum += n.is_double() ? static_cast<std::uint64_t>(n.get_double()) : n.get_uint64();
      break;
    }
    case json_type::string:
      sum += value.get_string().value().size();
      break;
    case json_type::boolean:
      sum += value.get_bool().value();
      break;
    case json_type::null:
      sum += value.is_null().value();
      break;
  }
  return sum;
}

void BM_ParseSimdjsonOnly(benchmark::State& state) {
  const Dataset& d = GetDataset();
  simdjson::ondemand::parser parser;
  const char* const buffer_end = d.ndjson.data() + d.ndjson.capacity();
  for (auto _ : state) {
    std::uint64_t sum = 0;
    for (std::string_view line : d.lines) {
      // Zero-copy: the bytes after each line serve as its padding.
      simdjson::ondemand::document doc =
          parser
              .iterate(line.data(), line.size(), static_cast<std::size_t>(buffer_end - line.data()))
              .value();
      for (auto field : doc.get_object()) {
        sum += field.unescaped_key().value().size();
        sum += TouchValue(field.value());
      }
    }
    benchmark::DoNotOptimize(sum);
  }
  SetThroughput(state, d.ndjson.size());
}
BENCHMARK(BM_ParseSimdjsonOnly)->Unit(benchmark::kMillisecond);

void BM_EncodeRecords(benchmark::State& state, RecordFormat format) {
  const Dataset& d = GetDataset();
  std::string out;
  for (auto _ : state) {
    out.clear();
    for (const Record& r : d.records) {
      AppendRecordJson(out, r, format);
      out += '\n';
    }
    benchmark::DoNotOptimize(out.data());
  }
  SetThroughput(state, out.size());
}
BENCHMARK_CAPTURE(BM_EncodeRecords, flat, RecordFormat::kFlat)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EncodeRecords, structured, RecordFormat::kStructured)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace dkdata
