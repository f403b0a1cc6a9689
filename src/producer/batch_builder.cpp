// BatchBuilder (aiokafka's create_batch): a record batch the application fills, sent whole by
// Producer::send_batch. It encodes with the producer's compression and size limits.
#include <chrono>
#include <utility>

#include "asiokafka/kafka_error.hpp"
#include "producer/producer_impl.hpp"

namespace asiokafka {

BatchBuilder::BatchBuilder(detail::batch_ptr state) noexcept : state_(std::move(state)) {}
BatchBuilder::BatchBuilder(BatchBuilder&&) noexcept = default;
BatchBuilder& BatchBuilder::operator=(BatchBuilder&&) noexcept = default;
BatchBuilder::~BatchBuilder() = default;

std::optional<BatchBuilder::Appended> BatchBuilder::append(std::optional<BytesView> key, std::optional<BytesView> value,
                                                           std::optional<std::int64_t> timestamp,
                                                           std::span<const Header> headers) {
  if (!state_ || state_->closed) return std::nullopt;
  auto& b = state_->builder;
  const std::optional<protocol::byte_view> k = key ? std::optional<protocol::byte_view>(key->bytes()) : std::nullopt;
  const std::optional<protocol::byte_view> v = value ? std::optional<protocol::byte_view>(value->bytes()) : std::nullopt;
  std::vector<protocol::RecordHeader> hs;
  hs.reserve(headers.size());
  for (const auto& h : headers) {
    hs.push_back({h.key, h.value ? std::optional<protocol::byte_view>(h.value->bytes()) : std::nullopt});
  }
  const std::size_t size =
      protocol::record_batch_builder::record_size_bound(b.record_count(), k, v, hs);
  if (protocol::record_batch_header_size + size > state_->max_request_size) {
    throw error(make_error_code(kafka_errc::message_too_large),
                "a record of " + std::to_string(size) + " bytes exceeds max_request_size (" +
                    std::to_string(state_->max_request_size) + ")");
  }
  if (b.record_count() > 0 && b.uncompressed_size() + size > state_->max_batch_size) return std::nullopt;
  const std::int64_t ts = timestamp ? *timestamp : detail::wall_clock_ms();
  const std::int32_t index = b.record_count();
  const std::size_t before = b.uncompressed_size();
  b.append(ts, k, v, hs);
  if (index == 0) state_->first_timestamp = ts;
  return Appended{index, ts, b.uncompressed_size() - before};
}

void BatchBuilder::close() noexcept {
  if (state_) state_->closed = true;
}
bool BatchBuilder::closed() const noexcept { return !state_ || state_->closed; }
std::int32_t BatchBuilder::record_count() const noexcept { return state_ ? state_->builder.record_count() : 0; }
std::size_t BatchBuilder::size() const noexcept {
  return state_ ? state_->builder.uncompressed_size() : protocol::record_batch_header_size;
}

namespace detail {

void batch_builder_deleter::operator()(batch_builder_state* s) const noexcept { delete s; }

batch_ptr make_batch(const producer_impl& p) {
  batch_ptr s(new batch_builder_state);
  const ProducerConfig& c = p.config();
  s->builder.reset({.compression = c.compression_type, .compression_level = c.compression_level});
  s->max_batch_size = c.max_batch_size;
  s->max_request_size = c.max_request_size;
  return s;
}

batch_ptr take_batch(BatchBuilder& b) noexcept { return std::move(b.state_); }

}  // namespace detail
}  // namespace asiokafka
