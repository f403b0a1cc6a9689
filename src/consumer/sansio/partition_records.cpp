// decode_partition (partition_records.hpp): one pass over a partition's record batches.
#include "consumer/sansio/partition_records.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include "asiokafka/error.hpp"
#include "asiokafka/kafka_error.hpp"

namespace asiokafka::consumer {

namespace {

namespace pr = protocol;
using PartitionData = protocol::messages::FetchResponse::PartitionData;

// Offsets of the batch header fields read before the reader gets to a batch.
constexpr std::size_t kLogOverhead = 12;  // base offset + batch length
constexpr std::size_t kMagicAt = 16;
constexpr std::size_t kAttributesAt = 21;
constexpr std::size_t kCountAt = 57;
constexpr std::size_t kMinRecordSize = 7;  // the smallest magic 2 record, length prefix included

std::uint64_t load_be(const std::uint8_t* p, int n) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

// offset + 1 without signed overflow (hostile deltas can put a last offset at INT64_MAX).
std::int64_t after(std::int64_t offset) noexcept {
  return offset == std::numeric_limits<std::int64_t>::max() ? offset : offset + 1;
}

// How many records to reserve for: the counts in the complete batch headers, read without
// decoding. A count is a claim until the reader checks it, so an uncompressed batch counts at
// most what its bytes can hold and a compressed one at most one record per byte; the total is
// capped in proportion to the blob too. Underestimates only cost a vector growth later.
std::size_t estimate_records(pr::byte_view blob) noexcept {
  std::size_t total = 0;
  std::size_t pos = 0;
  while (blob.size() - pos >= kLogOverhead) {
    const std::uint8_t* p = blob.data() + pos;
    const auto length = static_cast<std::int32_t>(load_be(p + 8, 4));
    if (length < 0 || static_cast<std::size_t>(length) > blob.size() - pos - kLogOverhead) break;
    const std::size_t size = kLogOverhead + static_cast<std::size_t>(length);
    if (size > kMagicAt && p[kMagicAt] != 2) {
      ++total;  // a legacy message or wrapper
    } else if (size >= pr::record_batch_header_size) {
      const auto attributes = static_cast<std::int16_t>(load_be(p + kAttributesAt, 2));
      const auto count = static_cast<std::int32_t>(load_be(p + kCountAt, 4));
      const std::size_t body = size - pr::record_batch_header_size;
      const bool compressed = (attributes & pr::batch_attributes::compression_mask) != 0;
      if ((attributes & pr::batch_attributes::control) == 0 && count > 0) {
        total += std::min(static_cast<std::size_t>(count), compressed ? body : body / kMinRecordSize);
      }
    }
    pos += size;
  }
  return std::min(total, blob.size() / 16 + 16);
}

// The aborted transactions of a read_committed fetch, consumed in first-offset order as the
// batches go by, and the producers whose aborted transaction is open at the current batch.
class aborted_transactions {
 public:
  explicit aborted_transactions(const PartitionData& data) {
    if (!data.aborted_transactions || data.aborted_transactions->empty()) return;
    pending_.reserve(data.aborted_transactions->size());
    for (const auto& t : *data.aborted_transactions) pending_.emplace_back(t.first_offset, t.producer_id);
    std::sort(pending_.begin(), pending_.end());
  }

  /// Opens every listed transaction that starts at or before `last_offset`.
  void open_up_to(std::int64_t last_offset) {
    for (; next_ < pending_.size() && pending_[next_].first <= last_offset; ++next_) {
      const std::int64_t producer = pending_[next_].second;
      const auto it = std::lower_bound(open_.begin(), open_.end(), producer);
      if (it == open_.end() || *it != producer) open_.insert(it, producer);
    }
  }
  bool is_open(std::int64_t producer) const noexcept {
    return std::binary_search(open_.begin(), open_.end(), producer);
  }
  void close(std::int64_t producer) noexcept {
    const auto it = std::lower_bound(open_.begin(), open_.end(), producer);
    if (it != open_.end() && *it == producer) open_.erase(it);
  }

 private:
  std::vector<std::pair<std::int64_t, std::int64_t>> pending_;  // (first offset, producer id)
  std::size_t next_ = 0;
  std::vector<std::int64_t> open_;  // sorted producer ids
};

// What a ConsumerRecord's storage handle holds: the bytes its views point into, and the topic.
struct record_keeper {
  shared_buffer bytes;
  std::shared_ptr<const std::string> topic;
};

std::string name_of(const partition_fetch_params& params) {
  return (params.topic ? *params.topic : std::string()) + "-" + std::to_string(params.partition);
}

void fail(partition_fetch_result& r, const partition_fetch_params& params, std::error_code ec,
          std::optional<std::int64_t> batch_offset, const std::string& what) {
  r.error = ec;
  r.error_offset = r.next_offset;
  r.error_message = what + " in " + name_of(params) + " at offset " + std::to_string(r.next_offset);
  if (batch_offset && *batch_offset != r.next_offset) {
    r.error_message += " (batch from offset " + std::to_string(*batch_offset) + ")";
  }
  r.error_message += ": " + ec.message();
}

void copy_partition_fields(const PartitionData& data, partition_fetch_result& r) {
  r.partition_error = make_kafka_error(data.error_code);
  r.high_watermark = data.high_watermark;
  r.last_stable_offset = data.last_stable_offset;
  r.log_start_offset = data.log_start_offset;
  r.preferred_read_replica = data.preferred_read_replica;
  if (data.diverging_epoch.epoch >= 0) {
    r.diverging = diverging_epoch{data.diverging_epoch.epoch, data.diverging_epoch.end_offset};
  }
  if (data.current_leader.leader_id >= 0 && data.current_leader.leader_epoch >= 0) {
    r.current_leader = leader_hint{data.current_leader.leader_id, data.current_leader.leader_epoch};
  }
}

// Whether the current batch (a control batch) starts with an ABORT marker. Reads its first
// record; a marker that does not decode is reported as corrupt_record through `ec`.
bool starts_with_abort(pr::RecordsReader& reader, std::error_code& ec) {
  pr::Record rec;
  if (!reader.next_record(rec)) return false;  // no records, or a reader error
  pr::ControlRecord control;
  ec = pr::decode_control_record(rec, control);
  return !ec && control.is_abort();
}

}  // namespace

partition_fetch_result decode_partition(const partition_fetch_params& params, const PartitionData& data,
                                        const frame& response) {
  partition_fetch_result r;
  copy_partition_fields(data, r);
  r.next_offset = params.fetch_offset;
  const pr::byte_view blob = data.records.bytes();
  if (blob.empty()) return r;

  r.records.reserve(estimate_records(blob));
  pr::DecodeOptions options;
  options.check_crc = params.check_crcs;
  options.max_decompressed_bytes = params.max_decompressed_bytes;
  pr::RecordsReader reader(frame(response.storage(), blob), options);
  std::optional<aborted_transactions> aborted;
  if (params.read_committed) aborted.emplace(data);
  std::shared_ptr<const void> input_keeper;  // one for every uncompressed batch's records
  const std::string_view topic = params.topic ? std::string_view(*params.topic) : std::string_view();

  while (reader.next_batch()) {
    const pr::BatchInfo& b = reader.batch();
    const std::int64_t batch_end = after(b.last_offset());
    bool deliver = !b.is_control() && batch_end > r.next_offset;
    if (aborted && b.producer_id != -1) {
      aborted->open_up_to(b.last_offset());
      if (b.is_control()) {
        std::error_code marker_ec;
        if (starts_with_abort(reader, marker_ec)) aborted->close(b.producer_id);
        if (marker_ec || reader.error()) {
          fail(r, params, marker_ec ? marker_ec : reader.error(), b.base_offset, "corrupt transaction marker");
          return r;
        }
      } else if (b.is_transactional() && aborted->is_open(b.producer_id)) {
        deliver = false;
      }
    }
    if (deliver) {
      const bool compressed = b.compression() != pr::CompressionType::none;
      std::shared_ptr<const void> batch_keeper;
      const std::shared_ptr<const void>* keeper = compressed ? &batch_keeper : &input_keeper;
      if (r.records.capacity() - r.records.size() < static_cast<std::size_t>(b.record_count)) {
        r.records.reserve(std::max(r.records.size() + static_cast<std::size_t>(b.record_count),
                                   2 * r.records.capacity()));
      }
      const std::int32_t leader_epoch = b.magic >= 2 ? b.partition_leader_epoch : -1;
      pr::Record rec;
      while (reader.next_record(rec)) {
        if (rec.offset < b.base_offset || rec.offset > b.last_offset()) [[unlikely]] {
          // The position logic relies on records lying within their batch's offsets.
          fail(r, params, make_error_code(client_errc::corrupt_record), b.base_offset,
               "record offset " + std::to_string(rec.offset) + " outside its batch");
          return r;
        }
        if (rec.offset < r.next_offset) continue;
        if (!*keeper) {
          const frame storage = reader.batch_storage();
          if (compressed) {
            batch_keeper = std::make_shared<record_keeper>(record_keeper{storage.storage(), params.topic});
            r.retained_bytes += storage.storage().capacity();
          } else {
            input_keeper = std::make_shared<record_keeper>(record_keeper{storage.storage(), params.topic});
            r.retained_bytes += blob.size();
          }
        }
        // One aggregate initialisation: emplace_back() would zero the record first.
        r.records.push_back(ConsumerRecord{
            .topic = topic,
            .partition = params.partition,
            .offset = rec.offset,
            .timestamp = rec.timestamp,
            .timestamp_type = b.timestamp_kind(),
            .key = rec.key ? std::optional<BytesView>(*rec.key) : std::nullopt,
            .value = rec.value ? std::optional<BytesView>(*rec.value) : std::nullopt,
            .headers = ConsumerRecordHeaders(rec.headers),
            .leader_epoch = leader_epoch,
            .serialized_key_size = rec.key ? static_cast<std::int32_t>(rec.key->size()) : -1,
            .serialized_value_size = rec.value ? static_cast<std::int32_t>(rec.value->size()) : -1,
            .storage = *keeper,
        });
        r.next_offset = after(rec.offset);
      }
      if (reader.error()) {
        fail(r, params, reader.error(), b.base_offset, "corrupt record");
        return r;
      }
    }
    r.next_offset = std::max(r.next_offset, batch_end);
    // As the Java client: the epoch of the last batch passed, none if that batch has none.
    r.next_offset_epoch = b.magic >= 2 && b.partition_leader_epoch >= 0 ? b.partition_leader_epoch : -1;
    ++r.batches;
  }

  const std::size_t at = reader.consumed();  // where the batch that stopped the reader starts
  const std::size_t left = blob.size() - at;
  std::optional<std::int64_t> stopped_at;
  if (left >= 8) stopped_at = static_cast<std::int64_t>(load_be(blob.data() + at, 8));
  if (reader.error()) {
    fail(r, params, reader.error(), stopped_at, "corrupt record batch");
  } else if (reader.partial_tail()) {
    r.partial_tail = true;
    if (r.batches == 0) {
      // Nothing complete: fetching again from the same offset would return the same bytes.
      std::optional<std::int64_t> size;
      if (left >= kLogOverhead) size = kLogOverhead + static_cast<std::int64_t>(load_be(blob.data() + at + 8, 4));
      const bool too_large = params.partition_max_bytes <= 0 || !size || *size > params.partition_max_bytes;
      std::string what = "only part of a record batch";
      if (size) what += " (" + std::to_string(*size) + " bytes)";
      if (params.partition_max_bytes > 0) {
        what += too_large ? ", larger than the fetch size " : ", within the fetch size ";
        what += std::to_string(params.partition_max_bytes) + " (max_partition_fetch_bytes),";
      }
      what += " was received";
      fail(r, params, too_large ? make_error_code(kafka_errc::message_too_large)
                                : make_error_code(client_errc::corrupt_record),
           stopped_at, what);
    }
  }
  return r;
}

}  // namespace asiokafka::consumer
