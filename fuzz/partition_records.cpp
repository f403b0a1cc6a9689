// Fuzzes consumer::decode_partition: one fetched partition turned into ConsumerRecords, in both
// isolation levels, with an arbitrary aborted-transaction list.
// Input: byte 0 options (bit 0 set skips CRC checks, as in `records`); byte 1 the fetch
// offset; byte 2 the number n of aborted transactions, then n pairs of bytes (producer id as a
// signed byte, so -1 is reachable; first offset); the rest is the records field.
// Checks: no crash, leak or UB; returned offsets rise strictly from the fetch offset and stay
// below the next position, which never goes back; an error stops at the next position and
// names the partition; read_committed returns a subset of what read_uncommitted returns and
// reaches the same position; data that validate_records accepts (with every record within its
// batch's offsets) decodes without error unless it is a lone partial batch; every view of every record stays readable after the response
// frame is gone (ASan), and detach() copies it exactly.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "asiokafka/consumer_record.hpp"
#include "asiokafka/protocol/records.hpp"
#include "consumer/sansio/partition_records.hpp"
#include "fuzz_check.hpp"

namespace pr = asiokafka::protocol;
namespace cs = asiokafka::consumer;
using asiokafka::BytesView;
using asiokafka::ConsumerRecord;

namespace {

bool same(const std::optional<BytesView>& a, const std::optional<BytesView>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || a->as_string() == b->as_string();
}

// Reads every view (ASan reports one that dangles) and compares the record with its detached copy.
void check_record(const ConsumerRecord& rec) {
  const ConsumerRecord copy = rec.detach();
  FUZZ_CHECK(copy.topic == rec.topic && copy.offset == rec.offset && copy.timestamp == rec.timestamp);
  FUZZ_CHECK(same(copy.key, rec.key) && same(copy.value, rec.value));
  FUZZ_CHECK(rec.serialized_key_size == (rec.key ? static_cast<std::int32_t>(rec.key->size()) : -1));
  FUZZ_CHECK(rec.serialized_value_size == (rec.value ? static_cast<std::int32_t>(rec.value->size()) : -1));
  FUZZ_CHECK(copy.headers.size() == rec.headers.size());
  auto it = copy.headers.begin();
  for (const auto& h : rec.headers) {
    FUZZ_CHECK(it != copy.headers.end() && it->key == h.key && same(it->value, h.value));
    ++it;
  }
  FUZZ_CHECK(it == copy.headers.end());
}

// Whether every record's offset lies within its batch's [base, last] (validate_records does
// not ask; decode_partition refuses such data as corrupt_record).
bool offsets_within_batches(const std::vector<std::uint8_t>& records, const pr::DecodeOptions& options) {
  pr::RecordsReader reader(pr::byte_view(records), options);
  while (reader.next_batch()) {
    pr::Record rec;
    while (reader.next_record(rec)) {
      if (rec.offset < reader.batch().base_offset || rec.offset > reader.batch().last_offset()) return false;
    }
  }
  return true;
}

cs::partition_fetch_result decode(const std::vector<std::uint8_t>& records, const cs::partition_fetch_params& params,
                                  const std::optional<std::vector<pr::messages::FetchResponse::AbortedTransaction>>& aborted) {
  // The response lives only during the call: records must keep what they view.
  const asiokafka::frame response = asiokafka::frame::copy_of(records);
  pr::messages::FetchResponse::PartitionData data;
  data.records.data = response.bytes();
  data.aborted_transactions = aborted;
  return cs::decode_partition(params, data, response);
}

void check_result(const cs::partition_fetch_result& r, std::int64_t fetch_offset) {
  FUZZ_CHECK(r.next_offset >= fetch_offset);
  std::int64_t last = fetch_offset - 1;
  for (const auto& rec : r.records) {
    FUZZ_CHECK(rec.offset > last && rec.offset < r.next_offset);
    last = rec.offset;
    FUZZ_CHECK(rec.topic == "t" && rec.partition == 0);
    check_record(rec);
  }
  if (r.error) {
    FUZZ_CHECK(r.error_offset == r.next_offset);
    FUZZ_CHECK(r.error_message.find("t-0 at offset " + std::to_string(r.error_offset)) != std::string::npos);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return -1;
  const bool check_crcs = (data[0] & 1) == 0;
  const std::int64_t fetch_offset = data[1];
  const std::size_t n = data[2];
  if (size < 3 + 2 * n) return -1;
  std::vector<pr::messages::FetchResponse::AbortedTransaction> aborted(n);
  for (std::size_t i = 0; i < n; ++i) {
    aborted[i].producer_id = static_cast<std::int8_t>(data[3 + 2 * i]);
    aborted[i].first_offset = data[4 + 2 * i];
  }
  const std::vector<std::uint8_t> records(data + 3 + 2 * n, data + size);

  cs::partition_fetch_params params;
  params.topic = std::make_shared<const std::string>("t");
  params.partition = 0;
  params.fetch_offset = fetch_offset;
  params.check_crcs = check_crcs;
  params.partition_max_bytes = 1024;
  params.max_decompressed_bytes = std::size_t{1} << 20;

  params.read_committed = false;
  const auto uncommitted = decode(records, params, aborted);
  check_result(uncommitted, fetch_offset);
  params.read_committed = true;
  const auto committed = decode(records, params, aborted);
  check_result(committed, fetch_offset);

  // Dropping aborted data never adds records or moves the position elsewhere.
  if (!uncommitted.error && !committed.error) {
    FUZZ_CHECK(committed.next_offset == uncommitted.next_offset);
    std::size_t j = 0;
    for (const auto& rec : committed.records) {
      while (j < uncommitted.records.size() && uncommitted.records[j].offset < rec.offset) ++j;
      FUZZ_CHECK(j < uncommitted.records.size() && uncommitted.records[j].offset == rec.offset);
    }
  }
  // Valid data fails only as a lone partial batch (read_uncommitted reads no markers).
  pr::DecodeOptions options;
  options.check_crc = check_crcs;
  options.max_decompressed_bytes = params.max_decompressed_bytes;
  if (!pr::validate_records(records, options) && offsets_within_batches(records, options) && uncommitted.error) {
    FUZZ_CHECK(uncommitted.batches == 0 && uncommitted.partial_tail && uncommitted.records.empty());
  }
  return 0;
}
