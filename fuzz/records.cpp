// Fuzzes the records decoder (validate_records: every batch and record of a records blob,
// legacy message sets included, decompression bounded to 1 MiB) and the RecordsReader
// iteration API. Byte 0 is options: bit 0 set skips the CRC check, so that mutated batches
// reach the record parser (libFuzzer cannot fix up a CRC); the rest is the blob.
// Checks: no crash, leak or UB; validate_records agrees with a full RecordsReader pass plus
// decode_control_record on control batches; record
// views point into the blob (uncompressed batches) and counts match the batch header.
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>

#include "asiokafka/protocol/records.hpp"
#include "fuzz_check.hpp"

namespace pr = asiokafka::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return -1;
  pr::DecodeOptions options;
  options.check_crc = (data[0] & 1) == 0;
  options.max_decompressed_bytes = std::size_t{1} << 20;
  const pr::byte_view blob(data + 1, size - 1);

  const std::error_code validated = pr::validate_records(blob, options);

  pr::RecordsReader reader(blob, options);
  std::size_t batches = 0;
  bool bad_control = false;  // the reader does not interpret control records; validate does
  while (reader.next_batch()) {
    ++batches;
    const pr::BatchInfo& b = reader.batch();
    FUZZ_CHECK(asiokafka::fuzz::inside(blob, b.raw));
    FUZZ_CHECK(reader.consumed() <= blob.size());
    const bool uncompressed = b.compression() == pr::CompressionType::none;
    pr::Record rec;
    std::size_t records = 0;
    while (reader.next_record(rec)) {
      ++records;
      if (uncompressed && b.magic == 2) {
        if (rec.key) FUZZ_CHECK(asiokafka::fuzz::inside(blob, *rec.key));
        if (rec.value) FUZZ_CHECK(asiokafka::fuzz::inside(blob, *rec.value));
      }
      for (const auto& h : rec.headers) {
        if (uncompressed && b.magic == 2) FUZZ_CHECK(asiokafka::fuzz::inside(blob, h.key));
      }
      if (b.is_control()) {
        pr::ControlRecord control;
        if (pr::decode_control_record(rec, control)) bad_control = true;
      }
    }
    if (!reader.error() && b.magic == 2) FUZZ_CHECK(records == static_cast<std::size_t>(b.record_count));
    if (reader.error() || bad_control) break;
  }
  // Both passes see the same blob with the same options: they must agree on success.
  FUZZ_CHECK(static_cast<bool>(validated) == (reader.error() || bad_control));
  return 0;
}
