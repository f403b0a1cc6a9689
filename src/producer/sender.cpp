// The producer's sender task: drains ready batches into one ProduceRequest per broker on the
// produce connection, and settles each batch from the response (success, retry, failure).
#include <algorithm>
#include <chrono>
#include <map>
#include <utility>

#include "asiokafka/kafka_error.hpp"
#include "asiokafka/protocol/messages.hpp"
#include "producer/producer_impl.hpp"
#include "protocol/error_class.hpp"

namespace asiokafka::detail {

namespace asio = boost::asio;
namespace msg = protocol::messages;
using net::clock;
using net::time_point;

asio::awaitable<void> producer_impl::sender_loop() {
  while (state_ == state::running || state_ == state::stopping) {
    sender_dirty_ = false;
    const time_point now = clock::now();
    const auto expired = acc_.expire(now - config_.delivery_timeout, make_error_code(client_errc::timeout),
                                     "delivery_timeout (" + std::to_string(config_.delivery_timeout.count()) +
                                         " ms) ran out");
    if (expired.batches != 0) released();
    if (acc_.needs_epoch_bump() && !fatal_.code) {
      // Nothing new goes out until the in-flight batches are answered and the epoch is
      // bumped (their answers wake the loop); queued batches still expire above.
      if (acc_.in_flight() == 0) {
        if (!co_await bump_epoch()) break;
        continue;
      }
      if (sender_dirty_) continue;
      if (co_await sender_wake_.wait_until(now + std::chrono::seconds(1)) == net::wait_status::cancelled) break;
      continue;
    }
    const auto& metadata = cluster_->metadata().cache();
    const auto leader_of = [&](std::string_view topic, std::int32_t partition) -> std::int32_t {
      const auto l = metadata.leader_for(topic, partition);
      return l.broker ? l.broker->node_id : -1;
    };
    const auto in_flight = [&](std::int32_t node) {
      const auto it = node_in_flight_.find(node);
      return it == node_in_flight_.end() ? 0 : static_cast<int>(it->second);
    };
    auto d = acc_.drain(now, leader_of, in_flight, memory_waiters_ > 0);
    if (!d.failed.empty()) released();  // the accumulator failed them (a compression error)
    time_point wake = d.next_ready;
    if (!d.unknown_leaders.empty()) {
      for (const auto topic : d.unknown_leaders) cluster_->metadata().track(std::string(topic));
      cluster_->metadata().mark_urgent();
      wake = std::min(wake, now + config_.retry_backoff);
    }
    for (auto& request : d.requests) {
      ++node_in_flight_[request.node];
      tasks_.spawn(send_request(request.node, std::move(request.batches)), shared_from_this());
    }
    // Queued batches expire by delivery_timeout even when nothing else wakes the loop.
    if (acc_.incomplete() > 0) wake = std::min(wake, now + std::chrono::seconds(1));
    if (sender_dirty_ || d.more) continue;
    if (co_await sender_wake_.wait_until(wake) == net::wait_status::cancelled) break;
  }
}

asio::awaitable<void> producer_impl::send_request(std::int32_t node, std::vector<producer::batch*> batches) {
  msg::ProduceRequest req;
  req.acks = static_cast<std::int16_t>(config_.acks);
  req.timeout_ms = static_cast<std::int32_t>(config_.request_timeout.count());
  for (producer::batch* b : batches) {
    auto topic = std::find_if(req.topic_data.begin(), req.topic_data.end(),
                              [&](const msg::ProduceRequest::TopicProduceData& t) { return t.name == b->topic; });
    if (topic == req.topic_data.end()) {
      req.topic_data.emplace_back();
      topic = std::prev(req.topic_data.end());
      topic->name = std::string(b->topic);
    }
    msg::ProduceRequest::PartitionProduceData p;
    p.index = b->partition;
    p.records.data = b->builder.data();
    topic->partition_data.push_back(std::move(p));
  }
  // v3: the first version with record batches (magic 2).
  typed_request<msg::ProduceRequest> request(std::move(req), 3, msg::ProduceRequest::max_version);
  // Zero-copy: the connection writes the batches from their own buffers, and holds the
  // producer (which owns them) until they are written or the connection is closed. A batch is
  // released only after its answer, or after its connection failed and was closed.
  request.records_owner = shared_from_this();
  const auto sent = co_await cluster_->send_to_node(node, ConnectionPurpose::produce, request);
  if (auto it = node_in_flight_.find(node); it != node_in_flight_.end() && it->second > 0) --it->second;
  const time_point now = clock::now();
  if (sent.code) {
    for (producer::batch* b : batches) {
      handle_failure(b, sent.code, "produce to broker " + std::to_string(node) + ": " + sent.message, now);
    }
    released();
    co_return;
  }
  if (config_.acks == Acks::none) {
    for (producer::batch* b : batches) acc_.complete(b, {}, "", -1, -1, -1);
    released();
    co_return;
  }
  const auto taken = request.take();
  const auto& response = taken.message;
  for (producer::batch* b : batches) {
    const msg::ProduceResponse::PartitionProduceResponse* found = nullptr;
    for (const auto& t : response.responses) {
      if (t.name != b->topic) continue;
      for (const auto& p : t.partition_responses) {
        if (p.index == b->partition) found = &p;
      }
    }
    if (!found) {
      handle_failure(b, make_error_code(client_errc::malformed),
                     "broker " + std::to_string(node) + " did not answer for " + std::string(b->topic) + "-" +
                         std::to_string(b->partition),
                     now);
      continue;
    }
    const std::error_code ec = make_kafka_error(found->error_code);
    // A duplicate sequence is a batch the broker already has (an earlier attempt got through).
    if (!ec || ec == kafka_errc::duplicate_sequence_number) {
      acc_.complete(b, {}, "", found->base_offset, found->log_append_time_ms, found->log_start_offset);
      continue;
    }
    std::string message = "broker " + std::to_string(node) + " refused " + std::string(b->topic) + "-" +
                          std::to_string(b->partition) + ": " + ec.message();
    if (found->error_message) message += " (" + *found->error_message + ")";
    for (const auto& re : found->record_errors) {
      message += "; record " + std::to_string(re.batch_index);
      if (re.batch_index_error_message) message += ": " + *re.batch_index_error_message;
    }
    handle_failure(b, ec, message, now);
  }
  released();
}

void producer_impl::handle_failure(producer::batch* b, std::error_code ec, const std::string& message,
                                   time_point now) {
  const auto cls = protocol::classify(ec);
  if (cls.stale_leader || cls.refresh_metadata) cluster_->metadata().invalidate(b->topic, b->partition, ec);
  // Too large for the broker (its message.max.bytes is below our batch): two halves go
  // instead, as in the Java client; a single record fails.
  if ((ec == kafka_errc::message_too_large || ec == kafka_errc::record_list_too_large) && state_ != state::stopped &&
      acc_.split(b, now)) {
    return;
  }
  const bool out_of_time = b->created + config_.delivery_timeout <= now + config_.retry_backoff;
  // An answer that could not be read (the connection is closed for it) may or may not mean
  // the batch was written: it goes again, on a new connection (idempotence dedups it).
  bool retry = cls.retriable || cls.corrupt_response;
  if (config_.enable_idempotence && b->base_sequence >= 0) {
    if (ec == kafka_errc::out_of_order_sequence_number) {
      // The broker refuses every batch after one it did not write (a moved leader, a
      // timeout) as out of order: those are retried behind it, in sequence order. For the
      // next expected sequence (or an earlier one) the broker lost or passed it: the batch
      // fails, as in the Java client, and a new epoch restarts the sequences (KIP-360).
      retry = acc_.position_of(b) == producer::sequence_position::ahead;
    } else if (ec == kafka_errc::unknown_producer_id) {
      // The broker dropped the producer's state (its records left the log): a new epoch,
      // then the batch goes again.
      acc_.request_epoch_bump();
      retry = true;
    }
  }
  if (retry && !out_of_time && state_ != state::stopped) {
    acc_.retry(b, now + config_.retry_backoff, message);
    return;
  }
  std::string why = message;
  if (retry && out_of_time) {
    why = "delivery_timeout (" + std::to_string(config_.delivery_timeout.count()) + " ms) ran out after " +
          std::to_string(b->attempts) + " attempt(s); last: " + message;
    ec = make_error_code(client_errc::timeout);
  }
  // A numbered batch failing leaves a gap: the accumulator asks for an epoch bump.
  acc_.complete(b, ec, std::move(why), -1, -1, -1);
}

asio::awaitable<bool> producer_impl::bump_epoch() {
  const auto e = co_await init_producer_id(clock::now() + config_.request_timeout, true);
  if (!e.code) {
    acc_.reset_sequences();
    co_return true;
  }
  if (e.code == std::errc::operation_canceled || state_ == state::stopped) co_return false;
  if (protocol::classify(e.code).retriable || e.code == client_errc::timeout) {
    (void)co_await net::sleep_until(clock::now() + config_.retry_backoff);
    co_return true;  // tried again by the loop; queued batches still expire meanwhile
  }
  // Fatal (e.g. not authorised): every queued and later record fails with it.
  fatal_ = op_error{e.code, "epoch bump: " + e.message};
  acc_.fail_all(fatal_.code, fatal_.message);
  released();
  co_return true;
}

}  // namespace asiokafka::detail
