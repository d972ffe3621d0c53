// A libFuzzer target for the Parquet reader: the input is a whole file. It reads the footer
// (ParquetFileReader::FromBytes), every column chunk of every row group, then the file as records
// (ReadParquetRecords on one thread), then as decoded rows whose records are built last to first
// (DecodedRows::RecordAt, which skips rows by their levels). dkdata::Error is the reader's answer
// to bad input and is caught; anything else (another exception, a crash, a sanitizer report, an
// allocation above libFuzzer's -malloc_limit_mb) is a finding. See README.md for how to run it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "dkdata/errors.hpp"
#include "dkdata/record.hpp"
#include "formats/parquet/parquet_column.hpp"
#include "formats/parquet/parquet_reader.hpp"
#include "formats/parquet/parquet_records.hpp"

namespace {

using dkdata::internal::parquet::ColumnData;
using dkdata::internal::parquet::ParquetFileReader;

void ReadEverything(const ParquetFileReader& reader) {
  // Chunk by chunk first, each error caught on its own, so that a bad chunk does not hide the
  // decoding of the others from the fuzzer.
  ColumnData column;
  for (std::size_t group = 0; group < reader.metadata().row_groups.size(); ++group) {
    for (std::size_t leaf = 0; leaf < reader.leaves().size(); ++leaf) {
      try {
        reader.ReadColumnChunk(group, leaf, column);
      } catch (const dkdata::Error&) {
      }
    }
  }
  try {
    dkdata::internal::parquet::RecordReadOptions options;
    options.threads = 1;
    std::size_t rows = 0;
    dkdata::internal::parquet::ReadParquetRecords(reader, options,
                                                  [&rows](dkdata::Record&) { ++rows; });
  } catch (const dkdata::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const ParquetFileReader reader = ParquetFileReader::FromBytes(
        std::string(reinterpret_cast<const char*>(data), size), "fuzz.parquet");
    ReadEverything(reader);
  } catch (const dkdata::Error&) {
  }
  return 0;
}
