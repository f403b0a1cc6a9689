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
                                         " ms) ran out before the batch was sent");
    if (expired.batches != 0) released();
    const auto& metadata = cluster_->metadata().cache();
    const auto leader_of = [&](std::string_view topic, std::int32_t partition) -> std::int32_t {
      const auto l = metadata.leader_for(topic, partition);
      return l.broker ? l.broker->node_id : -1;
    };
    const auto accepts = [&](std::int32_t node) {
      const auto it = node_in_flight_.find(node);
      return it == node_in_flight_.end() || it->second < config_.max_in_flight_requests_per_connection;
    };
    auto d = acc_.drain(now, leader_of, accepts, memory_waiters_ > 0);
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
  const bool out_of_time = b->created + config_.delivery_timeout <= now + config_.retry_backoff;
  // The broker refuses every batch after one it did not write (a moved leader, a timeout) as
  // out of order: those are retried behind it, in sequence order. Only an out-of-order answer
  // for the next expected sequence means the sequence is lost (KIP-360, not handled yet).
  const bool echo = ec == kafka_errc::out_of_order_sequence_number && !acc_.next_in_sequence(b);
  if ((cls.retriable || echo) && !out_of_time && state_ != state::stopped) {
    acc_.retry(b, now + config_.retry_backoff);
    return;
  }
  std::string why = message;
  if (cls.retriable && out_of_time) {
    why = "delivery_timeout (" + std::to_string(config_.delivery_timeout.count()) + " ms) ran out after " +
          std::to_string(b->attempts) + " attempt(s); last: " + message;
    ec = make_error_code(client_errc::timeout);
  }
  acc_.complete(b, ec, std::move(why), -1, -1, -1);
}

}  // namespace asiokafka::detail
