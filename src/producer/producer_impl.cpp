#include "producer/producer_impl.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/kafka_error.hpp"
#include "asiokafka/protocol/messages.hpp"
#include "protocol/error_class.hpp"

namespace asiokafka::detail {

namespace asio = boost::asio;
using net::clock;
using net::time_point;
using namespace std::chrono_literals;

namespace {

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

producer::accumulator_options accumulator_options_of(const ProducerConfig& c, const asio::any_io_executor& ex) {
  producer::accumulator_options o;
  o.make_result = [ex] { return std::make_shared<delivery>(ex); };
  o.max_batch_size = c.max_batch_size;
  o.max_request_size = c.max_request_size;
  o.buffer_memory = c.buffer_memory;
  o.linger = c.linger;
  o.compression = c.compression_type;
  o.compression_level = c.compression_level;
  o.idempotent = c.enable_idempotence;
  o.max_in_flight_per_partition = c.enable_idempotence ? static_cast<int>(c.max_in_flight_requests_per_connection) : 1;
  return o;
}

// Header views for the encoder, without allocating for the usual few headers.
struct header_scratch {
  std::vector<protocol::RecordHeader> items;
};
thread_local header_scratch scratch;

}  // namespace

// ---- delivery ----

RecordMetadata delivery::metadata_of(std::int32_t index, std::int64_t timestamp) const {
  const auto o = outcome_of(index);
  RecordMetadata md;
  md.topic = topic;
  md.partition = partition;
  md.offset = acks_none ? -1 : o.offset;
  if (o.of->log_append_time >= 0) {
    md.timestamp = o.of->log_append_time;
    md.timestamp_type = protocol::TimestampType::log_append_time;
  } else {
    md.timestamp = timestamp;
  }
  md.log_start_offset = o.of->log_start_offset;
  return md;
}

void delivery::on_done() {
  auto waiters = std::move(waiters_);
  for (auto& w : waiters) {
    const auto* o = outcome_of(w.index).of;
    w.cb(o->error, o->error ? o->message : std::string(), metadata_of(w.index, w.timestamp));
  }
}

void delivery::wait(std::int32_t index, std::int64_t timestamp, callback cb) {
  if (!done) {
    waiters_.push_back({index, timestamp, std::move(cb)});
    return;
  }
  // Never inside the caller's initiating function.
  const auto* o = outcome_of(index).of;
  asio::post(executor_, [cb = std::move(cb), e = o->error, m = o->error ? o->message : std::string(),
                         md = metadata_of(index, timestamp)]() mutable { cb(e, std::move(m), std::move(md)); });
}

// ---- producer_impl ----

producer_impl::producer_impl(asio::any_io_executor ex, ProducerConfig config)
    : executor_(std::move(ex)),
      config_(std::move(config)),
      cluster_(net::cluster::create(executor_, client_config_of(config_))),
      acc_(accumulator_options_of(config_, executor_)),
      sticky_(static_cast<std::uint64_t>(clock::now().time_since_epoch().count()) ^ 0x9e3779b97f4a7c15ull),
      tasks_(executor_) {
  on_metadata_ = cluster_->metadata().changes().subscribe([this](const net::metadata_change&) {
    topics_.clear();  // rebuilt from the cache on next use
    wake_turn();  // a slow send waiting for metadata looks again
    wake_sender();
  });
}

producer_impl::~producer_impl() = default;

bool producer_impl::on_executor() const noexcept {
  if (const auto* io = executor_.target<asio::io_context::executor_type>()) return io->running_in_this_thread();
  if (const auto* s = executor_.target<asio::strand<asio::io_context::executor_type>>()) {
    return s->running_in_this_thread();
  }
  if (const auto* s = executor_.target<asio::strand<asio::any_io_executor>>()) return s->running_in_this_thread();
  return false;
}

const producer_impl::topic_info* producer_impl::topic_of(std::string_view topic) {
  if (const auto it = topics_.find(topic); it != topics_.end()) return &it->second;
  const TopicMetadata* t = cluster_->metadata().cache().topic(topic);
  if (!t || t->partitions.empty()) return nullptr;
  topic_info info;
  for (const auto& p : t->partitions) {
    info.all.push_back(p.partition);
    if (p.leader >= 0) info.available.push_back(p.partition);
  }
  return &topics_.emplace(std::string(topic), std::move(info)).first->second;
}

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
  const topic_info* info = topic_of(r.topic);
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
    partition = sticky_.partition(r.topic, info->available, count);
    sticky = true;
  }
  producer::record_view rv;
  rv.timestamp = r.timestamp;
  rv.key = r.key;
  rv.value = r.value;
  rv.headers = r.headers;
  const auto result = acc_.append(r.topic, partition, rv, clock::now(), may_allocate);
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
  if (result.batch_closed && sticky) sticky_.on_new_batch(r.topic, partition, info->available, count);
  if (result.index == 0 || result.batch_closed) wake_sender();
  out = DeliveryHandle(std::shared_ptr<delivery_state>(result.b->result, d), result.index, r.timestamp);
  return attempt::appended;
}

send_prep producer_impl::prepare(std::string_view topic, BytesView value, const SendOptions& options) {
  send_prep prep;
  const std::int64_t ts = options.timestamp.value_or(wall_clock_ms());
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

void producer_impl::wake_sender() noexcept {
  sender_dirty_ = true;
  sender_wake_.notify_all();
}

void producer_impl::released() noexcept {
  wake_turn();
  completed_.notify_all();
  wake_sender();
}

asio::awaitable<op_error> producer_impl::start() {
  if (state_ != state::created) co_return op_error{make_error_code(client_errc::client_closed), "start() was already called"};
  state_ = state::starting;
  const time_point deadline = clock::now() + config_.max_block;
  if (auto f = co_await cluster_->start(); f.code) {
    state_ = state::stopped;
    co_await cluster_->close();
    co_return op_error{f.code, std::move(f.message)};
  }
  if (config_.enable_idempotence) {
    if (auto e = co_await init_producer_id(deadline, false); e.code) {
      state_ = state::stopped;
      co_await cluster_->close();
      co_return e;
    }
  }
  state_ = state::running;
  tasks_.spawn(sender_loop(), shared_from_this());
  co_return op_error{};
}

asio::awaitable<op_error> producer_impl::init_producer_id(time_point deadline, bool bump) {
  while (true) {
    protocol::messages::InitProducerIdRequest req;
    req.transactional_id = std::nullopt;  // idempotence without transactions
    req.transaction_timeout_ms = std::numeric_limits<std::int32_t>::max();
    if (bump) {
      // KIP-360 (version 3+): the same id with the next epoch; the broker then accepts
      // sequences from 0 again for every partition.
      req.producer_id = acc_.producer_id();
      req.producer_epoch = acc_.producer_epoch();
    }
    typed_request<protocol::messages::InitProducerIdRequest> tr(std::move(req), bump ? 3 : 0,
                                                                protocol::messages::InitProducerIdRequest::max_version);
    route where;  // named: a braced temporary inside co_await is destroyed twice by GCC 12
    const auto f = co_await cluster_->call(std::move(where), tr);
    std::error_code ec = f.code;
    std::string message = f.message;
    if (!ec) {
      const auto taken = tr.take();
      const auto& r = taken.message;
      if (r.error_code == 0) {
        acc_.set_producer(r.producer_id, r.producer_epoch);
        co_return op_error{};
      }
      ec = make_kafka_error(r.error_code);
      message = "InitProducerId: " + ec.message();
    }
    if (bump && (ec == client_errc::unsupported_version || ec == kafka_errc::unsupported_version || ec == kafka_errc::invalid_producer_epoch ||
                 ec == kafka_errc::producer_fenced || ec == kafka_errc::invalid_producer_id_mapping)) {
      // A broker before 2.5, the epoch spent, or a broker that cannot bump this id (e.g.
      // librdkafka's mock): a new producer id instead.
      bump = false;
      continue;
    }
    if (!protocol::classify(ec).retriable || clock::now() + config_.retry_backoff >= deadline) {
      co_return op_error{ec, "could not obtain a producer id: " + message};
    }
    (void)co_await net::sleep_until(clock::now() + config_.retry_backoff);
  }
}

asio::awaitable<op_error> producer_impl::flush() {
  if (state_ != state::running && state_ != state::stopping) co_return op_error{};
  acc_.begin_flush();
  wake_sender();
  // Until nothing is incomplete, as Java's flush (records sent meanwhile are waited for too),
  // bounded: every batch ends within delivery_timeout of its creation.
  const time_point deadline = clock::now() + config_.delivery_timeout + config_.request_timeout;
  while (acc_.incomplete() > 0 && clock::now() < deadline) {
    if (co_await completed_.wait_until(deadline) == net::wait_status::cancelled) {
      acc_.end_flush();
      co_return op_error{make_error_code(std::errc::operation_canceled), "flush cancelled"};
    }
  }
  acc_.end_flush();
  co_return op_error{};
}

asio::awaitable<op_error> producer_impl::stop() {
  if (state_ == state::stopped || state_ == state::stopping) co_return op_error{};
  const bool was_running = state_ == state::running;
  state_ = state::stopping;
  if (was_running) (void)co_await flush();
  acc_.fail_all(make_error_code(client_errc::client_closed), "the producer stopped before the batch was sent");
  state_ = state::stopped;
  wake_turn();  // it fails, and each following slow send in turn
  tasks_.cancel_all();
  (void)co_await tasks_.join(clock::now() + config_.request_timeout);
  // Requests cancelled above failed their batches (state stopped: no retry); anything put
  // back meanwhile fails here.
  acc_.fail_all(make_error_code(client_errc::client_closed), "the producer stopped before the batch was sent");
  co_await cluster_->close();
  co_return op_error{};
}

void producer_impl::abandon() noexcept {
  if (state_ != state::stopped) {
    state_ = state::stopped;
    acc_.fail_all(make_error_code(client_errc::client_closed), "the producer was destroyed");
    wake_turn();
  }
  tasks_.cancel_all();
  cluster_->shutdown_now();
}

asio::awaitable<op_error> producer_impl::partitions(std::string topic, std::vector<std::int32_t>& out) {
  const time_point deadline = clock::now() + config_.max_block;
  while (true) {
    if (const topic_info* info = topic_of(topic)) {
      out = info->all;
      co_return op_error{};
    }
    if (state_ != state::running) co_return op_error{make_error_code(client_errc::client_closed), "the producer is not running"};
    if (clock::now() >= deadline) {
      co_return op_error{make_error_code(client_errc::timeout), "topic '" + topic + "' not in the metadata after max_block"};
    }
    cluster_->metadata().track(topic);
    std::vector<std::string> topics{topic};
    const auto f = co_await cluster_->metadata().refresh(std::move(topics), false, deadline);
    if (f.code && !topic_of(topic)) (void)co_await net::sleep_until(std::min(deadline, clock::now() + config_.retry_backoff));
  }
}

// ---- the facade's entry points ----

std::shared_ptr<producer_impl> make_producer(asio::any_io_executor ex, ProducerConfig config) {
  validate(config);
  auto p = std::make_shared<producer_impl>(std::move(ex), std::move(config));
  return p;
}

send_prep prepare_send(producer_impl& p, std::string_view topic, BytesView value, const SendOptions& options) {
  return p.prepare(topic, value, options);
}

asio::awaitable<op_error> producer_send(std::shared_ptr<producer_impl> p, std::shared_ptr<owned_record> r,
                                        DeliveryHandle& out) {
  co_return co_await p->send_slow(std::move(r), out);
}

asio::awaitable<op_error> producer_send_and_wait(std::shared_ptr<producer_impl> p, std::shared_ptr<owned_record> r,
                                                 DeliveryHandle handle, RecordMetadata& out) {
  if (r) {
    if (auto e = co_await p->send_slow(std::move(r), handle); e.code) co_return e;
  }
  try {
    out = co_await handle.async_wait(default_token);
  } catch (const asiokafka::error& e) {
    co_return op_error{e.code(), e.what()};
  }
  co_return op_error{};
}

asio::awaitable<op_error> producer_send_batch(std::shared_ptr<producer_impl> p, std::shared_ptr<batch_builder_state> b,
                                              std::string topic, std::int32_t partition, DeliveryHandle& out) {
  co_return co_await p->send_batch(std::move(b), std::move(topic), partition, out);
}

asio::awaitable<op_error> producer_start(std::shared_ptr<producer_impl> p) { co_return co_await p->start(); }
asio::awaitable<op_error> producer_stop(std::shared_ptr<producer_impl> p) { co_return co_await p->stop(); }
asio::awaitable<op_error> producer_flush(std::shared_ptr<producer_impl> p) { co_return co_await p->flush(); }
asio::awaitable<op_error> producer_partitions(std::shared_ptr<producer_impl> p, std::string topic,
                                              std::vector<std::int32_t>& out) {
  co_return co_await p->partitions(std::move(topic), out);
}

void producer_destroyed(producer_impl& p) noexcept {
  // On the producer's executor: the state is touched only there.
  asio::post(p.executor(), [self = p.shared_from_this()] { self->abandon(); });
}

}  // namespace asiokafka::detail
