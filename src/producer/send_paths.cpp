// The Producer's send paths: the fast path (prepare: append at call time on the producer's
// executor), the slow path (a copy that waits its turn, in call order, for metadata and
// memory: append_in_turn) and send_batch. docs/design.md ("Producer").
#include <algorithm>
#include <chrono>
#include <functional>
#include <utility>

#include "asiokafka/kafka_error.hpp"
#include "producer/producer_impl.hpp"
#include "protocol/error_class.hpp"

namespace asiokafka::detail {

namespace asio = boost::asio;
using net::clock;
using net::time_point;

namespace {

// Header views for the encoder, without allocating for the usual few headers.
struct header_scratch {
  std::vector<protocol::RecordHeader> items;
};
thread_local header_scratch scratch;

}  // namespace

bool producer_impl::may_send(op_error& err) const {
  if (fatal_.code) {
    err = fatal_;
    return false;
  }
  if (state_ != state::running) {
    err = {make_error_code(client_errc::client_closed),
           state_ == state::created || state_ == state::starting ? "the producer is not started"
                                                                 : "the producer is stopped"};
    return false;
  }
  return true;
}

producer_impl::attempt producer_impl::try_append_batch(batch_builder_state& bs, std::string_view topic,
                                                       std::int32_t partition, DeliveryHandle& out, op_error& err) {
  if (!may_send(err)) return attempt::failed;
  const topic_info* info = topic_of(topic);
  if (!info) return attempt::no_metadata;
  const auto count = static_cast<std::int32_t>(info->all.size());
  if (partition < 0 || partition >= count) {
    err = {make_error_code(client_errc::invalid_argument), "partition " + std::to_string(partition) + " of topic '" +
                                                               std::string(topic) + "' does not exist (it has " +
                                                               std::to_string(count) + ")"};
    return attempt::failed;
  }
  const auto result = acc_.append_batch(topic, partition, bs.builder, clock::now(), true);
  switch (result.status) {
    case producer::append_status::too_large:
      err = {make_error_code(kafka_errc::message_too_large),
             "a batch of " + std::to_string(result.size) + " bytes for '" + std::string(topic) +
                 "' exceeds max_request_size (" + std::to_string(config_.max_request_size) + ") or buffer_memory (" +
                 std::to_string(config_.buffer_memory) + ")"};
      return attempt::failed;
    case producer::append_status::no_memory:
      return attempt::no_memory;
    case producer::append_status::appended:
      break;
  }
  auto* d = static_cast<delivery*>(result.b->result.get());
  d->topic = std::string(topic);
  d->partition = partition;
  d->acks_none = config_.acks == Acks::none;
  wake_sender();
  out = DeliveryHandle(std::shared_ptr<delivery_state>(result.b->result, d), 0, bs.first_timestamp);
  return attempt::appended;
}

producer_impl::attempt producer_impl::try_append(const record_ref& r, bool may_allocate, DeliveryHandle& out,
                                                 op_error& err) {
  if (!may_send(err)) return attempt::failed;
  topic_info* info = topic_of(r.topic);
  if (!info) return attempt::no_metadata;
  const auto count = static_cast<std::int32_t>(info->all.size());
  std::int32_t partition = 0;
  bool sticky = false;
  if (r.partition) {
    partition = *r.partition;
    if (partition < 0 || partition >= count) {
      err = {make_error_code(client_errc::invalid_argument), "partition " + std::to_string(partition) + " of topic '" +
                                                                 std::string(r.topic) + "' does not exist (it has " +
                                                                 std::to_string(count) + ")"};
      return attempt::failed;
    }
  } else if (config_.partitioner) {
    partition = config_.partitioner(r.topic, r.key, info->all, info->available);
    if (partition < 0 || partition >= count) {
      err = {make_error_code(client_errc::invalid_argument), "the partitioner chose partition " +
                                                                 std::to_string(partition) + " of topic '" +
                                                                 std::string(r.topic) + "' (it has " +
                                                                 std::to_string(count) + ")"};
      return attempt::failed;
    }
  } else if (r.key) {
    partition = producer::partition_for_key(*r.key, count);
  } else {
    partition = sticky_.partition(info->sticky, info->available, count);
    sticky = true;
  }
  producer::record_view rv;
  rv.timestamp = r.timestamp;
  rv.key = r.key;
  rv.value = r.value;
  rv.headers = r.headers;
  auto*& queue = info->queues[static_cast<std::size_t>(partition)];
  if (queue == nullptr) queue = &acc_.queue(r.topic, partition);
  // The steady clock is read only if a new batch starts (appending reads no clock).
  const auto result = acc_.append(*queue, rv, producer::lazy_now(&clock::now), may_allocate);
  switch (result.status) {
    case producer::append_status::too_large:
      err = {make_error_code(kafka_errc::message_too_large),
             "a record of " + std::to_string(result.size) + " bytes for '" + std::string(r.topic) +
                 "' exceeds max_request_size (" + std::to_string(config_.max_request_size) + ") or buffer_memory (" +
                 std::to_string(config_.buffer_memory) + ")"};
      return attempt::failed;
    case producer::append_status::no_memory:
      if (result.batch_closed) wake_sender();
      return attempt::no_memory;
    case producer::append_status::appended:
      break;
  }
  auto* d = static_cast<delivery*>(result.b->result.get());
  if (result.index == 0) {
    d->topic = std::string(r.topic);
    d->partition = partition;
    d->acks_none = config_.acks == Acks::none;
  }
  if (result.batch_closed && sticky) sticky_.on_new_batch(info->sticky, partition, info->available, count);
  if (result.index == 0 || result.batch_closed) wake_sender();
  out = DeliveryHandle(std::shared_ptr<delivery_state>(result.b->result, d), result.index, r.timestamp);
  return attempt::appended;
}

send_prep producer_impl::prepare(std::string_view topic, BytesView value, const SendOptions& options) {
  send_prep prep;
  const std::int64_t ts = options.timestamp ? *options.timestamp : wall_clock_ms();
  if (on_executor() && next_ticket_ == serving_) {
    auto& hs = scratch.items;
    hs.clear();
    for (const auto& h : options.headers) {
      hs.push_back({h.key, h.value ? std::optional<protocol::byte_view>(h.value->bytes()) : std::nullopt});
    }
    record_ref r{topic,
                 options.key ? std::optional<protocol::byte_view>(options.key->bytes()) : std::nullopt,
                 value.bytes(),
                 options.partition,
                 ts,
                 hs};
    op_error err;
    switch (try_append(r, memory_waiters_ == 0, prep.handle, err)) {
      case attempt::appended:
        prep.appended = true;
        return prep;
      case attempt::failed:
        prep.error = err.code;
        prep.message = std::move(err.message);
        return prep;
      case attempt::no_metadata:
      case attempt::no_memory:
        break;
    }
  }
  auto rec = std::make_shared<owned_record>();
  rec->topic = std::string(topic);
  if (options.key) rec->key.emplace(reinterpret_cast<const char*>(options.key->data()), options.key->size());
  rec->value.assign(reinterpret_cast<const char*>(value.data()), value.size());
  rec->partition = options.partition;
  rec->timestamp = ts;
  for (const auto& h : options.headers) {
    rec->headers.emplace_back(std::string(h.key),
                              h.value ? std::optional<std::string>(std::in_place,
                                                                   reinterpret_cast<const char*>(h.value->data()),
                                                                   h.value->size())
                                      : std::nullopt);
  }
  prep.pending = std::move(rec);
  return prep;
}

asio::awaitable<op_error> producer_impl::append_in_turn(
    const std::string& topic, const std::function<attempt(DeliveryHandle&, op_error&)>& try_once, DeliveryHandle& out) {
  const auto self = shared_from_this();
  const time_point deadline = clock::now() + config_.max_block;
  // Slow sends append in call order: each waits for its turn. One that gives up first
  // leaves its ticket behind so that later ones are not held.
  const std::uint64_t ticket = next_ticket_++;
  net::notifier mine;
  turn_waiters_.emplace(ticket, &mine);
  struct unregister {
    producer_impl& p;
    std::uint64_t ticket;
    ~unregister() { p.turn_waiters_.erase(ticket); }
  };
  const unregister registered{*this, ticket};
  while (serving_ != ticket) {
    const auto w = co_await mine.wait_until(deadline);
    if (serving_ == ticket) break;
    if (w != net::wait_status::notified) {
      abandoned_.insert(ticket);
      if (w == net::wait_status::cancelled) co_return op_error{make_error_code(std::errc::operation_canceled), "cancelled"};
      co_return op_error{make_error_code(client_errc::timeout),
                         "send to '" + topic + "' waited max_block (" + std::to_string(config_.max_block.count()) +
                             " ms) behind earlier sends"};
    }
  }
  struct turn_guard {
    producer_impl& p;
    ~turn_guard() { p.advance_turn(); }
  };
  turn_guard guard{*this};
  bool tracked = false;
  while (true) {
    op_error err;
    const attempt a = try_once(out, err);
    if (a == attempt::appended) co_return op_error{};
    if (a == attempt::failed) co_return err;
    if (clock::now() >= deadline) {
      co_return op_error{make_error_code(client_errc::timeout),
                         a == attempt::no_metadata
                             ? "topic '" + topic + "' not in the metadata after max_block (" +
                                   std::to_string(config_.max_block.count()) + " ms)"
                             : "no room in buffer_memory (" + std::to_string(config_.buffer_memory) +
                                   " bytes) within max_block (" + std::to_string(config_.max_block.count()) + " ms)"};
    }
    if (a == attempt::no_metadata) {
      if (!tracked) {
        cluster_->metadata().track(topic);
        tracked = true;
      }
      std::vector<std::string> topics{topic};
      const auto f = co_await cluster_->metadata().refresh(std::move(topics), true, deadline);
      if (f.code == client_errc::client_closed) co_return op_error{f.code, f.message};
      if (f.code && !protocol::classify(f.code).retriable && f.code != client_errc::timeout) {
        co_return op_error{f.code, "metadata of topic '" + topic + "': " + f.message};
      }
      if (f.code && !topic_of(topic)) (void)co_await net::sleep_until(std::min(deadline, clock::now() + config_.retry_backoff));
      continue;
    }
    // No memory: the sender sends everything (exhausted) and completions wake us.
    ++memory_waiters_;
    wake_sender();
    const auto w = co_await mine.wait_until(deadline);
    --memory_waiters_;
    if (w == net::wait_status::cancelled) co_return op_error{make_error_code(std::errc::operation_canceled), "cancelled"};
  }
}

asio::awaitable<op_error> producer_impl::send_slow(std::shared_ptr<owned_record> rec, DeliveryHandle& out) {
  std::vector<protocol::RecordHeader> headers;
  for (const auto& h : rec->headers) {
    headers.push_back({h.first, h.second ? std::optional<protocol::byte_view>(protocol::byte_view(
                                               reinterpret_cast<const std::uint8_t*>(h.second->data()), h.second->size()))
                                         : std::nullopt});
  }
  const auto bytes = [](const std::string& s) {
    return protocol::byte_view(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  };
  const record_ref r{rec->topic,
                     rec->key ? std::optional<protocol::byte_view>(bytes(*rec->key)) : std::nullopt,
                     bytes(rec->value),
                     rec->partition,
                     *rec->timestamp,
                     headers};
  // Named, not a temporary inside co_await (docs/design.md, "GCC 12").
  const std::function<attempt(DeliveryHandle&, op_error&)> once = [this, &r](DeliveryHandle& h, op_error& err) {
    return try_append(r, true, h, err);
  };
  co_return co_await append_in_turn(rec->topic, once, out);
}

asio::awaitable<op_error> producer_impl::send_batch(std::shared_ptr<batch_builder_state> b, std::string topic,
                                                    std::int32_t partition, DeliveryHandle& out) {
  if (!b || b->builder.record_count() == 0) {
    co_return op_error{make_error_code(client_errc::invalid_argument), "send_batch: the batch is empty"};
  }
  b->closed = true;
  const std::function<attempt(DeliveryHandle&, op_error&)> once = [this, &b, &topic, partition](DeliveryHandle& h,
                                                                                               op_error& err) {
    return try_append_batch(*b, topic, partition, h, err);
  };
  co_return co_await append_in_turn(topic, once, out);
}

void producer_impl::advance_turn() noexcept {
  ++serving_;
  while (abandoned_.erase(serving_) != 0) ++serving_;
  wake_turn();
}

void producer_impl::wake_turn() noexcept {
  if (const auto it = turn_waiters_.find(serving_); it != turn_waiters_.end()) it->second->notify_all();
}

}  // namespace asiokafka::detail
