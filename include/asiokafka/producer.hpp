// asiokafka::Producer: sends records to Kafka in batches, like aiokafka's AIOKafkaProducer.
// `co_await producer.send(...)` returns once the record sits in a batch (a DeliveryHandle);
// `co_await handle` returns its RecordMetadata once the broker acknowledged it. See
// docs/producer.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <new>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/system_executor.hpp>

#include "asiokafka/async.hpp"
#include "asiokafka/bytes.hpp"
#include "asiokafka/producer_config.hpp"
#include "asiokafka/protocol/records.hpp"

namespace asiokafka {

/// What a record carries besides its topic and value. Every member is a view or a number, so
/// `co_await producer.send("t", v, {.key = k})` is safe on every compiler (docs/design.md,
/// "GCC 12"); send() copies what they refer to before it returns.
struct SendOptions {
  std::optional<BytesView> key;            ///< none: a null key (sticky partitioning)
  std::optional<std::int32_t> partition;   ///< none: the partitioner chooses
  std::optional<std::int64_t> timestamp;   ///< milliseconds since the epoch; none: now
  std::span<const Header> headers;
};

/// Where an acknowledged record landed.
struct RecordMetadata {
  std::string topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;          ///< -1 with acks=0
  std::int64_t timestamp = -1;       ///< the record's, or the broker's with LogAppendTime
  protocol::TimestampType timestamp_type = protocol::TimestampType::create_time;
  std::int64_t log_start_offset = -1;
};

namespace detail {

/// A move-only callable of void(std::error_code, std::string&&, RecordMetadata&&): it holds a
/// completion handler, which may be move-only. Handlers up to 64 bytes (use_awaitable's, a
/// lambda with a few captures) are stored inline: waiting on a handle allocates nothing.
class delivery_callback {
 public:
  delivery_callback() = default;
  template <class F>
  delivery_callback(F f) {
    if constexpr (sizeof(model<F>) <= inline_size && alignof(model<F>) <= alignof(std::max_align_t) &&
                  std::is_nothrow_move_constructible_v<F>) {
      impl_ = ::new (static_cast<void*>(buffer_)) model<F>(std::move(f));
    } else {
      impl_ = new model<F>(std::move(f));
      heap_ = true;
    }
  }
  delivery_callback(delivery_callback&& o) noexcept { take(o); }
  delivery_callback& operator=(delivery_callback&& o) noexcept {
    if (this != &o) {
      reset();
      take(o);
    }
    return *this;
  }
  ~delivery_callback() { reset(); }
  // The message and metadata pass by reference down to the handler: moving them through each
  // layer by value cost a measurable share of completing one record's wait.
  void operator()(std::error_code ec, std::string&& message, RecordMetadata&& md) {
    impl_->call(ec, std::move(message), std::move(md));
  }
  explicit operator bool() const noexcept { return impl_ != nullptr; }

 private:
  static constexpr std::size_t inline_size = 64;
  struct concept_t {
    virtual ~concept_t() = default;
    virtual void call(std::error_code, std::string&&, RecordMetadata&&) = 0;
    virtual concept_t* move_to(void* where) noexcept = 0;
  };
  template <class F>
  struct model final : concept_t {
    explicit model(F fn) : f(std::move(fn)) {}
    void call(std::error_code ec, std::string&& message, RecordMetadata&& md) override {
      std::move(f)(ec, std::move(message), std::move(md));
    }
    concept_t* move_to(void* where) noexcept override { return ::new (where) model(std::move(f)); }
    F f;
  };
  void take(delivery_callback& o) noexcept {
    if (!o.impl_) return;
    if (o.heap_) {
      impl_ = std::exchange(o.impl_, nullptr);
      heap_ = true;
      return;
    }
    impl_ = o.impl_->move_to(buffer_);
    o.reset();
  }
  void reset() noexcept {
    if (!impl_) return;
    if (heap_) {
      delete impl_;
    } else {
      impl_->~concept_t();
    }
    impl_ = nullptr;
    heap_ = false;
  }
  alignas(std::max_align_t) unsigned char buffer_[inline_size];
  concept_t* impl_ = nullptr;
  bool heap_ = false;
};

/// The shared state behind DeliveryHandle (one per batch; implemented in src/producer).
class delivery_state {
 public:
  using callback = delivery_callback;
  virtual ~delivery_state() = default;
  /// Calls `cb` once the batch completed, from a handler posted to the producer's executor
  /// (never inside the call to wait).
  virtual void wait(std::int32_t index, std::int64_t timestamp, callback cb) = 0;
  virtual bool completed() const noexcept = 0;
  virtual const boost::asio::any_io_executor& executor() const noexcept = 0;
};

}  // namespace detail

/// The acknowledgement of one record, like the future aiokafka's send() returns. Cheap to
/// copy (it shares its batch's state). `co_await handle.async_wait()` returns the
/// RecordMetadata or throws asiokafka::error; async_wait takes any completion token.
/// (Boost 1.81 cannot co_await an object that is itself an asynchronous operation, so the
/// handle is not directly awaitable.)
class DeliveryHandle {
 public:
  DeliveryHandle() = default;
  DeliveryHandle(std::shared_ptr<detail::delivery_state> state, std::int32_t index, std::int64_t timestamp)
      : state_(std::move(state)), index_(index), timestamp_(timestamp) {}

  /// Completes with the record's metadata once its batch was acknowledged, or with the error
  /// that failed it. Signature: void(error_code, RecordMetadata).
  template <class Token = default_token_t>
  auto async_wait(Token&& token = {}) const {
    using signature = void(error_code, RecordMetadata);
    if constexpr (std::is_invocable_v<std::decay_t<Token>&, error_code, RecordMetadata> &&
                  std::is_void_v<typename boost::asio::async_result<std::decay_t<Token>, signature>::return_type>) {
      // A completion handler (a callback) starts the wait at once, while this handle lives:
      // no second reference to the state is taken and dropped for it.
      start_wait(std::decay_t<Token>(std::forward<Token>(token)), state_.get(), index_, timestamp_, finish_wait{});
    } else {
      return boost::asio::async_initiate<Token, signature>(
          [](auto handler, std::shared_ptr<detail::delivery_state> state, std::int32_t index, std::int64_t ts) {
            start_wait(std::move(handler), state.get(), index, ts, finish_wait{});
          },
          token, state_, index_, timestamp_);
    }
  }
  /// Whether the batch has completed (acknowledged or failed).
  bool done() const noexcept { return state_ && state_->completed(); }
  bool valid() const noexcept { return state_ != nullptr; }

 private:
  struct finish_wait {
    template <class Handler>
    void operator()(Handler& h, std::error_code ec, std::string&& m, RecordMetadata&& md) const {
      detail::complete(h, ec, std::move(m), std::move(md));
    }
  };
  // `state` is used only during the call (it keeps what it needs).
  template <class Handler, class Finish>
  static void start_wait(Handler handler, detail::delivery_state* state, std::int32_t index, std::int64_t ts,
                         Finish finish) {
    if (!state) {
      const auto ex = boost::asio::get_associated_executor(handler);
      boost::asio::post(ex, [h = std::move(handler), finish]() mutable {
        finish(h, make_error_code(client_errc::invalid_argument), "an empty DeliveryHandle", RecordMetadata{});
      });
      return;
    }
    if constexpr (std::is_same_v<boost::asio::associated_executor_t<Handler>, boost::asio::system_executor>) {
      // No executor of its own (a plain callback): it runs on the producer's, where the
      // state calls back from, so there is nothing to compare or post.
      state->wait(index, ts, [h = std::move(handler), finish](std::error_code ec, std::string&& message,
                                                               RecordMetadata&& md) mutable {
        finish(h, ec, std::move(message), std::move(md));
      });
      return;
    }
    const auto ex = boost::asio::get_associated_executor(handler, state->executor());
    // The state calls back from a handler of its own, posted to the producer's executor
    // (never inside this initiating function): a handler bound to that executor runs there
    // directly; any other is posted to its own.
    if (boost::asio::any_io_executor(ex) == state->executor()) {
      state->wait(index, ts, [h = std::move(handler), finish](std::error_code ec, std::string&& message,
                                                               RecordMetadata&& md) mutable {
        finish(h, ec, std::move(message), std::move(md));
      });
      return;
    }
    state->wait(index, ts, [h = std::move(handler), ex, finish](std::error_code ec, std::string&& message,
                                                                RecordMetadata&& md) mutable {
      boost::asio::post(ex, [h = std::move(h), finish, ec, message = std::move(message),
                                 md = std::move(md)]() mutable { finish(h, ec, std::move(message), std::move(md)); });
    });
  }

  std::shared_ptr<detail::delivery_state> state_;
  std::int32_t index_ = 0;
  std::int64_t timestamp_ = -1;
};

class BatchBuilder;
namespace detail {
struct batch_builder_state;
/// Deletes the state where its type is complete (src/producer).
struct batch_builder_deleter {
  void operator()(batch_builder_state* s) const noexcept;
};
using batch_ptr = std::unique_ptr<batch_builder_state, batch_builder_deleter>;
batch_ptr take_batch(BatchBuilder& b) noexcept;
}  // namespace detail

/// A batch the application fills itself (aiokafka's create_batch): append records until one
/// does not fit, then Producer::send_batch sends the batch to one partition as one unit.
/// Made by Producer::create_batch with the producer's compression and size limits.
/// Move-only; not thread-safe.
class BatchBuilder {
 public:
  /// Where an appended record sits in the batch.
  struct Appended {
    std::int32_t offset_delta = 0;  ///< its offset is the batch's base offset plus this
    std::int64_t timestamp = -1;
    std::size_t size = 0;           ///< its encoded size in the batch, in bytes
  };

  BatchBuilder(BatchBuilder&&) noexcept;
  BatchBuilder& operator=(BatchBuilder&&) noexcept;
  ~BatchBuilder();

  /// Copies a record into the batch. nullopt when it does not fit (the batch would exceed
  /// max_batch_size; the first record always fits) or the batch is closed. Throws
  /// asiokafka::error (kafka_errc::message_too_large) for a record larger than
  /// max_request_size on its own: it fits no batch.
  std::optional<Appended> append(std::optional<BytesView> key, std::optional<BytesView> value,
                                 std::optional<std::int64_t> timestamp = std::nullopt,
                                 std::span<const Header> headers = {});
  /// No more records (send_batch closes it too).
  void close() noexcept;
  bool closed() const noexcept;
  std::int32_t record_count() const noexcept;
  /// Bytes so far, uncompressed, batch header included.
  std::size_t size() const noexcept;

 private:
  friend class Producer;
  friend detail::batch_ptr detail::take_batch(BatchBuilder&) noexcept;
  explicit BatchBuilder(detail::batch_ptr state) noexcept;
  detail::batch_ptr state_;
};

namespace detail {
class producer_impl;
struct owned_record;
batch_ptr make_batch(const producer_impl& p);
std::shared_ptr<producer_impl> make_producer(boost::asio::any_io_executor ex, ProducerConfig config);

/// What send() did at call time: appended (the fast path: on the producer's executor, the
/// topic's metadata known, buffer room), failed at once, or copied the record into `pending`
/// for the slow path (waiting for metadata or room, or hopping from another thread).
struct send_prep {
  bool appended = false;
  DeliveryHandle handle;
  std::shared_ptr<owned_record> pending;
  /// The slow path's producer (set by send() only when the record waits).
  std::shared_ptr<producer_impl> producer;
  std::error_code error;
  std::string message;
};
send_prep prepare_send(producer_impl& p, std::string_view topic, BytesView value, const SendOptions& options);
const boost::asio::any_io_executor& executor_of(const producer_impl& p) noexcept;
/// The slow path: appends `pending` (in call order) and sets `out`.
boost::asio::awaitable<op_error> producer_send(std::shared_ptr<producer_impl> p, std::shared_ptr<owned_record> pending,
                                              DeliveryHandle& out);
/// Appends `pending` if set (else `handle` is the appended record), then waits for the ack.
boost::asio::awaitable<op_error> producer_send_and_wait(std::shared_ptr<producer_impl> p,
                                                       std::shared_ptr<owned_record> pending, DeliveryHandle handle,
                                                       RecordMetadata& out);
/// send_batch: queues `batch` for the partition (in call order, waiting as send's slow path).
boost::asio::awaitable<op_error> producer_send_batch(std::shared_ptr<producer_impl> p,
                                                    std::shared_ptr<batch_builder_state> batch, std::string topic,
                                                    std::int32_t partition, DeliveryHandle& out);
boost::asio::awaitable<op_error> producer_start(std::shared_ptr<producer_impl> p);
boost::asio::awaitable<op_error> producer_stop(std::shared_ptr<producer_impl> p);
boost::asio::awaitable<op_error> producer_flush(std::shared_ptr<producer_impl> p);
boost::asio::awaitable<op_error> producer_partitions(std::shared_ptr<producer_impl> p, std::string topic,
                                                    std::vector<std::int32_t>& out);
void producer_destroyed(producer_impl& p) noexcept;

/// Completes `handler` on its executor (never inside the initiating function).
template <class Handler, class Value>
void post_completion(Handler&& handler, const boost::asio::any_io_executor& ex, std::error_code ec, std::string message,
                     Value value) {
  const auto hex = boost::asio::get_associated_executor(handler, ex);
  boost::asio::post(hex, [h = std::forward<Handler>(handler), ec, m = std::move(message), v = std::move(value)]() mutable {
    complete(h, ec, std::move(m), std::move(v));
  });
}
}  // namespace detail

/// An asynchronous Kafka producer on one executor (use a strand for a multi-threaded
/// io_context). Construct, start(), send(), stop(). Calls from other threads hop to the
/// executor (a post each). Destroying it without stop() fails what is pending and closes.
class Producer {
 public:
  using executor_type = boost::asio::any_io_executor;

  /// Validates `config` (throws asiokafka::error, client_errc::invalid_config, naming the
  /// option). Nothing connects before start().
  Producer(executor_type executor, ProducerConfig config)
      : executor_(executor), impl_(detail::make_producer(std::move(executor), std::move(config))) {}
  ~Producer() {
    if (impl_) detail::producer_destroyed(*impl_);
  }
  Producer(Producer&&) noexcept = default;
  Producer& operator=(Producer&&) noexcept = default;

  const executor_type& get_executor() const noexcept { return executor_; }

  /// Connects to a bootstrap broker and, with idempotence, obtains a producer id.
  template <class Token = default_token_t>
  auto start(Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(error_code)>(
        [](auto handler, executor_type ex, std::shared_ptr<detail::producer_impl> p) {
          detail::launch(ex, detail::producer_start(std::move(p)), std::move(handler), [] {});
        },
        token, executor_, impl_);
  }

  /// Sends what is buffered (waiting at most delivery_timeout for each batch), then closes.
  template <class Token = default_token_t>
  auto stop(Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(error_code)>(
        [](auto handler, executor_type ex, std::shared_ptr<detail::producer_impl> p) {
          detail::launch(ex, detail::producer_stop(std::move(p)), std::move(handler), [] {});
        },
        token, executor_, impl_);
  }

  /// Puts a record into its partition's batch and completes with its DeliveryHandle. On the
  /// producer's executor with buffer room and the topic's metadata known, the record is
  /// appended during this call; otherwise it is copied and waits (at most max_block) for
  /// metadata and room, then is appended in call order. Once appended it will be sent even
  /// if the operation is cancelled. Signature: void(error_code, DeliveryHandle).
  /// With the default token, an appended record's `co_await` does not suspend the caller
  /// (no trip through the io_context) and allocates nothing.
  template <class Token = default_token_t>
  auto send(std::string_view topic, BytesView value, const SendOptions& options = {}, Token&& token = {}) {
    detail::send_prep prep = detail::prepare_send(*impl_, topic, value, options);
    if constexpr (std::is_same_v<std::decay_t<Token>, default_token_t>) {
      // The appended record's awaitable carries only its handle; the slow path takes what it
      // needs of the producer along (copying the executor and the shared state per record
      // was a measurable part of a send).
      if (!prep.appended && !prep.error) prep.producer = impl_;
      return send_awaitable(std::move(prep));
    } else {
      return initiate_send(executor_, impl_, std::move(prep), std::forward<Token>(token));
    }
  }

  /// send(), then waits for the acknowledgement. Signature: void(error_code, RecordMetadata).
  template <class Token = default_token_t>
  auto send_and_wait(std::string_view topic, BytesView value, const SendOptions& options = {}, Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(error_code, RecordMetadata)>(
        [](auto handler, executor_type ex, std::shared_ptr<detail::producer_impl> p, detail::send_prep prep) {
          if (prep.error) {
            detail::post_completion(std::move(handler), ex, prep.error, std::move(prep.message), RecordMetadata{});
            return;
          }
          auto out = std::make_shared<RecordMetadata>();
          detail::launch(ex,
                         detail::producer_send_and_wait(std::move(p), std::move(prep.pending), std::move(prep.handle),
                                                        *out),
                         std::move(handler), [out] { return std::move(*out); });
        },
        token, executor_, impl_, detail::prepare_send(*impl_, topic, value, options));
  }

  /// A batch to fill with BatchBuilder::append and send with send_batch (aiokafka's
  /// create_batch), with this producer's compression, max_batch_size and max_request_size.
  BatchBuilder create_batch() const { return BatchBuilder(detail::make_batch(*impl_)); }

  /// Sends a batch built with create_batch to one partition as one unit, after what is
  /// buffered for that partition. Completes once the batch is queued (waiting at most
  /// max_block for metadata and room) with a DeliveryHandle whose metadata is the batch's
  /// first record's (its offset is the base offset). An empty batch fails with
  /// client_errc::invalid_argument. Signature: void(error_code, DeliveryHandle).
  template <class Token = default_token_t>
  auto send_batch(BatchBuilder batch, std::string topic, std::int32_t partition, Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(error_code, DeliveryHandle)>(
        [](auto handler, executor_type ex, std::shared_ptr<detail::producer_impl> p,
           std::shared_ptr<detail::batch_builder_state> b, std::string t, std::int32_t part) {
          auto out = std::make_shared<DeliveryHandle>();
          detail::launch(ex, detail::producer_send_batch(std::move(p), std::move(b), std::move(t), part, *out),
                         std::move(handler), [out] { return std::move(*out); });
        },
        token, executor_, impl_, std::shared_ptr<detail::batch_builder_state>(detail::take_batch(batch)),
        std::move(topic), partition);
  }

  /// Makes every buffered batch ready now and completes once all records sent before this
  /// call were acknowledged or failed. Signature: void(error_code).
  template <class Token = default_token_t>
  auto flush(Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(error_code)>(
        [](auto handler, executor_type ex, std::shared_ptr<detail::producer_impl> p) {
          detail::launch(ex, detail::producer_flush(std::move(p)), std::move(handler), [] {});
        },
        token, executor_, impl_);
  }

  /// The topic's partitions (waiting at most max_block for its metadata).
  /// Signature: void(error_code, std::vector<std::int32_t>).
  template <class Token = default_token_t>
  auto partitions_for(std::string topic, Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(error_code, std::vector<std::int32_t>)>(
        [](auto handler, executor_type ex, std::shared_ptr<detail::producer_impl> p, std::string t) {
          auto out = std::make_shared<std::vector<std::int32_t>>();
          detail::launch(ex, detail::producer_partitions(std::move(p), std::move(t), *out), std::move(handler),
                         [out] { return std::move(*out); });
        },
        token, executor_, impl_, std::move(topic));
  }

 private:
  template <class Token>
  static auto initiate_send(executor_type executor, std::shared_ptr<detail::producer_impl> impl, detail::send_prep prep,
                            Token&& token) {
    return boost::asio::async_initiate<Token, void(error_code, DeliveryHandle)>(
        [](auto handler, executor_type ex, std::shared_ptr<detail::producer_impl> p, detail::send_prep pr) {
          if (pr.appended || pr.error) {
            detail::post_completion(std::move(handler), ex, pr.error, std::move(pr.message), std::move(pr.handle));
            return;
          }
          auto out = std::make_shared<DeliveryHandle>();
          detail::launch(ex, detail::producer_send(std::move(p), std::move(pr.pending), *out), std::move(handler),
                         [out] { return std::move(*out); });
        },
        token, std::move(executor), std::move(impl), std::move(prep));
  }
  // The default token's send: ready at once when the record was appended (or failed) at call
  // time; otherwise the slow path on the producer's executor. Its parameters are values made
  // by send(), never the caller's temporaries.
  static boost::asio::awaitable<DeliveryHandle> send_awaitable(detail::send_prep prep) {
    if (prep.appended) co_return std::move(prep.handle);
    if (prep.error) throw error(prep.error, prep.message);
    std::shared_ptr<detail::producer_impl> impl = std::move(prep.producer);
    executor_type ex = detail::executor_of(*impl);
    co_return co_await initiate_send(std::move(ex), std::move(impl), std::move(prep), default_token);
  }

  executor_type executor_;
  std::shared_ptr<detail::producer_impl> impl_;
};

}  // namespace asiokafka
