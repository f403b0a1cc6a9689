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

producer::accumulator_options accumulator_options_of(const ProducerConfig& c, const asio::any_io_executor& ex,
                                                     const std::shared_ptr<std::size_t>& waiter_memory) {
  producer::accumulator_options o;
  o.make_result = [ex, waiter_memory] { return std::make_shared<delivery>(ex, waiter_memory); };
  o.external_memory = waiter_memory.get();
  o.max_batch_size = c.max_batch_size;
  o.max_request_size = c.max_request_size;
  o.buffer_memory = c.buffer_memory;
  o.linger = c.linger;
  o.compression = c.compression_type;
  o.compression_level = c.compression_level;
  o.idempotent = c.enable_idempotence;
  o.max_in_flight_per_partition = c.enable_idempotence ? static_cast<int>(c.max_in_flight_requests_per_connection) : 1;
  o.max_in_flight_per_connection = static_cast<int>(c.max_in_flight_requests_per_connection);
  return o;
}


}  // namespace

// ---- delivery ----

namespace {
/// Waiters the last completed batch of this thread had: a new batch reserves that many at its
/// first wait, so a batch of thousands of waiters does not move them all as it grows.
thread_local std::size_t last_waiter_count = 16;
}  // namespace

RecordMetadata delivery::metadata_of(const record_outcome& o, std::int64_t timestamp) const {
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
  if (waiters_.empty()) return;
  last_waiter_count = waiters_.size();
  *waiter_memory_ -= std::min(*waiter_memory_, waiters_.size() * waiter_cost);
  // One post for the whole batch (not one per record): the producer may be iterating its
  // queues here, so the waiters run after it, each on its handler's executor (directly when
  // that is the producer's; DeliveryHandle::start_wait decides).
  asio::post(executor_, [self = shared_from_this(), waiters = std::move(waiters_)]() mutable {
    for (auto& w : waiters) {
      const auto o = self->outcome_of(w.index);
      w.cb(o.of->error, o.of->error ? std::string(o.of->message) : std::string(), self->metadata_of(o, w.timestamp));
    }
  });
}

void delivery::wait(std::int32_t index, std::int64_t timestamp, callback cb) {
  if (!affinity_.here()) {
    // From another thread (or an executor type executor_affinity does not know): the state is
    // touched only on the producer's executor.
    asio::post(executor_, [self = shared_from_this(), index, timestamp, cb = std::move(cb)]() mutable {
      self->wait_here(index, timestamp, std::move(cb));
    });
    return;
  }
  wait_here(index, timestamp, std::move(cb));
}

void delivery::wait_here(std::int32_t index, std::int64_t timestamp, callback cb) {
  if (!done) {
    if (waiters_.capacity() == 0) waiters_.reserve(last_waiter_count);
    waiters_.emplace_back(index, timestamp, std::move(cb));
    *waiter_memory_ += waiter_cost;
    return;
  }
  // Never inside the caller's initiating function.
  const auto o = outcome_of(index);
  asio::post(executor_, [cb = std::move(cb), e = o.of->error, m = o.of->error ? o.of->message : std::string(),
                         md = metadata_of(o, timestamp)]() mutable { cb(e, std::move(m), std::move(md)); });
}

// ---- producer_impl ----

producer_impl::producer_impl(asio::any_io_executor ex, ProducerConfig config)
    : executor_(std::move(ex)),
      config_(std::move(config)),
      cluster_(net::cluster::create(executor_, client_config_of(config_))),
      acc_(accumulator_options_of(config_, executor_, waiter_memory_)),
      sticky_(static_cast<std::uint64_t>(clock::now().time_since_epoch().count()) ^ 0x9e3779b97f4a7c15ull),
      tasks_(executor_) {
  on_metadata_ = cluster_->metadata().changes().subscribe([this](const net::metadata_change&) {
    for (auto& t : topics_) t.second.stale = true;  // refreshed from the cache on next use
    last_topic_ = nullptr;
    wake_turn();  // a slow send waiting for metadata looks again
    wake_sender();
  });
}

producer_impl::~producer_impl() = default;

executor_affinity::executor_affinity(const asio::any_io_executor& ex) noexcept {
  if (const auto* io = ex.target<asio::io_context::executor_type>()) {
    kind_ = kind::io_context;
    target_ = io;
  } else if (const auto* s = ex.target<asio::strand<asio::io_context::executor_type>>()) {
    kind_ = kind::io_strand;
    target_ = s;
  } else if (const auto* a = ex.target<asio::strand<asio::any_io_executor>>()) {
    kind_ = kind::any_strand;
    target_ = a;
  }
}

bool executor_affinity::here() const noexcept {
  switch (kind_) {
    case kind::io_context:
      return static_cast<const asio::io_context::executor_type*>(target_)->running_in_this_thread();
    case kind::io_strand:
      return static_cast<const asio::strand<asio::io_context::executor_type>*>(target_)->running_in_this_thread();
    case kind::any_strand:
      return static_cast<const asio::strand<asio::any_io_executor>*>(target_)->running_in_this_thread();
    case kind::other:
      break;
  }
  return false;
}

bool producer_impl::on_executor() const noexcept { return affinity_.here(); }

producer_impl::topic_info* producer_impl::topic_of(std::string_view topic) {
  if (last_topic_ != nullptr && last_topic_->name == topic) return last_topic_;
  const auto it = topics_.find(topic);
  topic_info* info = it != topics_.end() ? &it->second : nullptr;
  if (info == nullptr || info->stale) {
    const TopicMetadata* t = cluster_->metadata().cache().topic(topic);
    if (!t || t->partitions.empty()) return nullptr;
    if (info == nullptr) {
      const auto added = topics_.emplace(std::string(topic), topic_info{}).first;
      info = &added->second;
      info->name = added->first;
    }
    info->all.clear();
    info->available.clear();
    for (const auto& p : t->partitions) {
      info->all.push_back(p.partition);
      if (p.leader >= 0) info->available.push_back(p.partition);
    }
    info->queues.resize(info->all.size(), nullptr);
    info->stale = false;
  }
  last_topic_ = info;
  return info;
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

const asio::any_io_executor& executor_of(const producer_impl& p) noexcept { return p.executor(); }

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
