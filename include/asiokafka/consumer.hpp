// asiokafka::Consumer: reads records from Kafka, like aiokafka's AIOKafkaConsumer. Assign
// partitions, start(), then `co_await consumer.getmany(...)`, `getone()` or the async loop
// `while (auto rec = co_await consumer.next())`. Every assigned partition is prefetched on
// its own: once the application has taken a partition's buffered records, that partition's
// next fetch goes out at once. See docs/consumer.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>

#include "asiokafka/async.hpp"
#include "asiokafka/consumer_config.hpp"
#include "asiokafka/consumer_group.hpp"
#include "asiokafka/consumer_record.hpp"
#include "asiokafka/metadata.hpp"

namespace asiokafka {

/// A committed offset: the offset of the next record to consume (not of the last consumed),
/// with the application's metadata string and the leader epoch of the last consumed record
/// (-1: unknown). Converts from a plain offset: `offsets[tp] = 42;`.
struct OffsetAndMetadata {
  OffsetAndMetadata() = default;
  OffsetAndMetadata(std::int64_t o, std::string m = {}, std::int32_t epoch = -1)  // NOLINT: implicit on purpose
      : offset(o), metadata(std::move(m)), leader_epoch(epoch) {}
  std::int64_t offset = -1;
  std::string metadata;
  std::int32_t leader_epoch = -1;
  friend bool operator==(const OffsetAndMetadata&, const OffsetAndMetadata&) = default;
};

/// What offsets_for_times finds for a partition: the first record at or after the time.
struct OffsetAndTimestamp {
  std::int64_t offset = -1;
  std::int64_t timestamp = -1;  ///< the record's time stamp, milliseconds since the epoch
  std::int32_t leader_epoch = -1;
};

/// Records of one getmany(), grouped by partition, each partition's in offset order.
using RecordBatches = std::map<TopicPartition, ConsumerRecords>;

/// The options of getmany(). Views and numbers only, so `co_await c.getmany({.timeout = 1s})`
/// is safe on every compiler; the partitions are copied before getmany() returns.
struct GetManyOptions {
  /// Only these partitions (each must be assigned); empty: every assigned partition.
  std::span<const TopicPartition> partitions;
  /// How long to wait when nothing is buffered; 0 (aiokafka's default) returns at once with
  /// whatever is buffered, possibly nothing.
  std::chrono::milliseconds timeout{0};
  /// Most records returned; 0: ConsumerConfig::max_poll_records (unset: no limit).
  std::size_t max_records = 0;
};

namespace detail {
class consumer_impl;
std::shared_ptr<consumer_impl> make_consumer(boost::asio::any_io_executor ex, ConsumerConfig config);
void consumer_destroyed(consumer_impl& c) noexcept;

// The asynchronous operations, run on the consumer's executor. Arguments are values owned
// by the coroutine frame (never the caller's temporaries).
boost::asio::awaitable<op_error> consumer_start(std::shared_ptr<consumer_impl> c);
boost::asio::awaitable<op_error> consumer_stop(std::shared_ptr<consumer_impl> c);
boost::asio::awaitable<op_error> consumer_getmany(std::shared_ptr<consumer_impl> c, std::vector<TopicPartition> only,
                                                  std::chrono::milliseconds timeout, std::size_t max_records,
                                                  RecordBatches& out);
boost::asio::awaitable<op_error> consumer_getone(std::shared_ptr<consumer_impl> c, std::vector<TopicPartition> only,
                                                 ConsumerRecord& out);
boost::asio::awaitable<op_error> consumer_next(std::shared_ptr<consumer_impl> c, std::optional<ConsumerRecord>& out);
boost::asio::awaitable<op_error> consumer_position(std::shared_ptr<consumer_impl> c, TopicPartition tp,
                                                   std::int64_t& out);
boost::asio::awaitable<op_error> consumer_committed(std::shared_ptr<consumer_impl> c, TopicPartition tp,
                                                    std::optional<OffsetAndMetadata>& out);
boost::asio::awaitable<op_error> consumer_commit(std::shared_ptr<consumer_impl> c,
                                                 std::optional<std::map<TopicPartition, OffsetAndMetadata>> offsets);
/// policy: 0 beginning, 1 end, 2 committed.
boost::asio::awaitable<op_error> consumer_seek_to(std::shared_ptr<consumer_impl> c, std::vector<TopicPartition> tps,
                                                  int policy);
/// timestamp -2: beginning, -1: end; else the time (offsets_for_times).
boost::asio::awaitable<op_error> consumer_list_offsets(std::shared_ptr<consumer_impl> c,
                                                       std::map<TopicPartition, std::int64_t> times,
                                                       std::map<TopicPartition, std::optional<OffsetAndTimestamp>>& out);
boost::asio::awaitable<op_error> consumer_topics(std::shared_ptr<consumer_impl> c, std::set<std::string>& out);
boost::asio::awaitable<op_error> consumer_partitions_for(std::shared_ptr<consumer_impl> c, std::string topic,
                                                         std::set<std::int32_t>& out);

// The synchronous calls (on the consumer's executor; they throw asiokafka::error).
void consumer_assign(consumer_impl& c, std::vector<TopicPartition> partitions);
void consumer_subscribe(consumer_impl& c, std::vector<std::string> topics, std::optional<std::regex> pattern,
                        std::shared_ptr<ConsumerRebalanceListener> listener);
void consumer_subscribe_pattern(consumer_impl& c, std::string regex, std::shared_ptr<ConsumerRebalanceListener> listener);
void consumer_unsubscribe(consumer_impl& c);
std::set<std::string> consumer_subscription(const consumer_impl& c);
GroupStatus consumer_group_status(const consumer_impl& c);
std::set<TopicPartition> consumer_assignment(const consumer_impl& c);
void consumer_seek(consumer_impl& c, const TopicPartition& tp, std::int64_t offset);
void consumer_pause(consumer_impl& c, std::span<const TopicPartition> tps, bool pause);
std::set<TopicPartition> consumer_paused(const consumer_impl& c);
std::size_t consumer_buffered_bytes(const consumer_impl& c);
std::vector<ConnectionInfo> consumer_connections(const consumer_impl& c);
/// 0 high watermark, 1 last stable offset, 2 last poll time stamp.
std::optional<std::int64_t> consumer_partition_field(const consumer_impl& c, const TopicPartition& tp, int field);

/// Keeps only the offsets of `all` (a map with an optional offset) that were found.
std::map<TopicPartition, std::int64_t> offsets_only(std::map<TopicPartition, std::optional<OffsetAndTimestamp>> all);
}  // namespace detail

/// An asynchronous Kafka consumer on one executor (use a strand for a multi-threaded
/// io_context). Construct, assign() partitions, start(), then get records. The synchronous
/// members (assign, seek, pause, highwater, ...) must be called on the consumer's executor,
/// like everything else in a coroutine running there; asynchronous calls from other threads
/// hop to it. Destroying a consumer without stop() cancels its tasks and closes it.
///
/// Errors (asiokafka::error, or the error_code of other tokens): client_errc::consumer_stopped
/// for a get*() pending or made after stop(); client_errc::illegal_state for misuse (seek
/// on an unassigned partition, commit() without group_id); kafka_errc::offset_out_of_range
/// with auto_offset_reset none; client_errc::crc_mismatch / corrupt_record naming topic,
/// partition and offset; kafka_errc::message_too_large when a record is larger than
/// max_partition_fetch_bytes on a broker before KIP-74; the broker's code otherwise
/// (topic_authorization_failed, ...). A partition's error is raised when the application
/// reaches its position, after the records before it, and again until it seeks.
class Consumer {
 public:
  using executor_type = boost::asio::any_io_executor;

  /// Validates `config` (throws asiokafka::error, client_errc::invalid_config, naming the
  /// option). Nothing connects before start().
  Consumer(executor_type executor, ConsumerConfig config)
      : executor_(executor), impl_(detail::make_consumer(std::move(executor), std::move(config))) {}
  ~Consumer() {
    if (impl_) detail::consumer_destroyed(*impl_);
  }
  Consumer(Consumer&&) noexcept = default;
  Consumer& operator=(Consumer&&) noexcept = default;

  const executor_type& get_executor() const noexcept { return executor_; }

  /// Connects to a bootstrap broker and starts fetching the assigned partitions.
  template <class Token = default_token_t>
  auto start(Token&& token = {}) {
    return run_void(std::forward<Token>(token), [](std::shared_ptr<detail::consumer_impl> c) {
      return detail::consumer_start(std::move(c));
    });
  }

  /// Commits the consumed positions (enable_auto_commit with a group_id), ends every pending
  /// get*() with consumer_stopped, stops the background tasks and closes the connections.
  template <class Token = default_token_t>
  auto stop(Token&& token = {}) {
    return run_void(std::forward<Token>(token), [](std::shared_ptr<detail::consumer_impl> c) {
      return detail::consumer_stop(std::move(c));
    });
  }

  // ---- assignment (synchronous, on the consumer's executor) ----

  /// Makes `partitions` the assignment (aiokafka's assign). Partitions kept keep their
  /// position and buffered records; new ones start from the group's committed offset (with
  /// a group_id) or auto_offset_reset. Before or after start().
  /// Throws client_errc::illegal_state while subscribed (unsubscribe() first).
  void assign(std::vector<TopicPartition> partitions) { detail::consumer_assign(*impl_, std::move(partitions)); }
  /// The partitions the consumer holds now (assigned by hand, or by the group: without those
  /// being revoked or not yet handed to the application).
  std::set<TopicPartition> assignment() const { return detail::consumer_assignment(*impl_); }

  // ---- group membership (synchronous, on the consumer's executor; docs/consumer_groups.md) ----

  /// Subscribes to `topics`: with a group_id the consumer joins the group (in the background,
  /// from start() on) and consumes the partitions the group assigns it; without one it
  /// consumes every partition of the topics (aiokafka's behaviour). A second call replaces the
  /// subscription. `listener` (optional) is told of every assignment change. Throws
  /// client_errc::illegal_state after assign() (unsubscribe() first, or assign({})) and
  /// client_errc::invalid_argument for an empty topic name.
  void subscribe(std::vector<std::string> topics, std::shared_ptr<ConsumerRebalanceListener> listener = nullptr) {
    detail::consumer_subscribe(*impl_, std::move(topics), std::nullopt, std::move(listener));
  }
  /// subscribe() for a braced list of names: `consumer.subscribe({"orders", "refunds"})` (without
  /// this overload the list would also fit std::regex's iterator-pair constructor).
  void subscribe(std::initializer_list<std::string> topics,
                 std::shared_ptr<ConsumerRebalanceListener> listener = nullptr) {
    detail::consumer_subscribe(*impl_, std::vector<std::string>(topics), std::nullopt, std::move(listener));
  }
  /// Subscribes to every topic whose whole name matches `pattern` (internal topics left out
  /// with exclude_internal_topics), now and as topics are created or deleted (checked at each
  /// metadata refresh, metadata_max_age apart at most).
  void subscribe(const std::regex& pattern, std::shared_ptr<ConsumerRebalanceListener> listener = nullptr) {
    detail::consumer_subscribe(*impl_, {}, pattern, std::move(listener));
  }
  /// Subscribes to the topics the group coordinator matches with `pattern` (KIP-848 server-side
  /// regex, RE2/J syntax); subscription() then names the topics of the assignment. Throws
  /// client_errc::invalid_argument without a group_id or for an empty pattern, and
  /// client_errc::unsupported_version with group_protocol classic (use a std::regex there). An
  /// invalid expression fails get*() with kafka_errc::invalid_regular_expression.
  void subscribe(SubscriptionPattern pattern, std::shared_ptr<ConsumerRebalanceListener> listener = nullptr) {
    detail::consumer_subscribe_pattern(*impl_, std::move(pattern.regex), std::move(listener));
  }
  /// Leaves the group (running on_partitions_revoked first) and drops the subscription and
  /// assignment; the leave completes in the background.
  void unsubscribe() { detail::consumer_unsubscribe(*impl_); }
  /// The subscribed topics (for a pattern: the topics it matches now); empty if not subscribed.
  std::set<std::string> subscription() const { return detail::consumer_subscription(*impl_); }
  /// Where the consumer stands in its group (state, generation, member id, assignment, last
  /// heartbeat, last error): to see a stuck member.
  GroupStatus group_status() const { return detail::consumer_group_status(*impl_); }

  // ---- records ----

  /// Records of the assigned partitions (or of opts.partitions), grouped by partition: what
  /// is buffered, or, with nothing buffered, what comes within opts.timeout. Partitions share
  /// max_records fairly. Signature: void(error_code, RecordBatches).
  template <class Token = default_token_t>
  auto getmany(GetManyOptions opts = {}, Token&& token = {}) {
    std::vector<TopicPartition> only(opts.partitions.begin(), opts.partitions.end());
    return run<RecordBatches>(std::forward<Token>(token),
                              [only = std::move(only), t = opts.timeout, n = opts.max_records](
                                  std::shared_ptr<detail::consumer_impl> c, RecordBatches& out) mutable {
                                return detail::consumer_getmany(std::move(c), std::move(only), t, n, out);
                              });
  }

  /// The next record of the assigned partitions (or of `partitions`), waiting as long as it
  /// takes. Signature: void(error_code, ConsumerRecord).
  template <class Token = default_token_t>
  auto getone(std::span<const TopicPartition> partitions = {}, Token&& token = {}) {
    std::vector<TopicPartition> only(partitions.begin(), partitions.end());
    return run<ConsumerRecord>(std::forward<Token>(token),
                               [only = std::move(only)](std::shared_ptr<detail::consumer_impl> c,
                                                        ConsumerRecord& out) mutable {
                                 return detail::consumer_getone(std::move(c), std::move(only), out);
                               });
  }
  /// getone() for one partition.
  template <class Token = default_token_t>
  auto getone(const TopicPartition& partition, Token&& token = {}) {
    return getone(std::span<const TopicPartition>(&partition, 1), std::forward<Token>(token));
  }

  /// The async loop (aiokafka's `async for`): the next record, or nullopt once the consumer
  /// stops, so `while (auto rec = co_await consumer.next()) { ... }` ends cleanly on stop().
  /// Errors other than the stop are raised. Signature: void(error_code, std::optional<ConsumerRecord>).
  template <class Token = default_token_t>
  auto next(Token&& token = {}) {
    return run<std::optional<ConsumerRecord>>(
        std::forward<Token>(token),
        [](std::shared_ptr<detail::consumer_impl> c, std::optional<ConsumerRecord>& out) {
          return detail::consumer_next(std::move(c), out);
        });
  }

  // ---- positions ----

  /// The offset of the next record getmany() returns for `tp` (an assigned partition),
  /// waiting for it to be looked up (committed offset or auto_offset_reset) when unknown.
  /// Signature: void(error_code, std::int64_t).
  template <class Token = default_token_t>
  auto position(TopicPartition tp, Token&& token = {}) {
    return run<std::int64_t>(std::forward<Token>(token),
                             [tp = std::move(tp)](std::shared_ptr<detail::consumer_impl> c, std::int64_t& out) mutable {
                               return detail::consumer_position(std::move(c), std::move(tp), out);
                             });
  }

  /// The next getmany() for `tp` returns records from `offset` on (synchronous; the fetch
  /// goes out in the background). Throws client_errc::illegal_state if `tp` is not assigned.
  void seek(const TopicPartition& tp, std::int64_t offset) { detail::consumer_seek(*impl_, tp, offset); }

  /// Moves `partitions` (empty: every assigned one) to the oldest offset still in the log and
  /// completes once their positions are set. Signature: void(error_code).
  template <class Token = default_token_t>
  auto seek_to_beginning(std::span<const TopicPartition> partitions = {}, Token&& token = {}) {
    return seek_to(partitions, 0, std::forward<Token>(token));
  }
  /// As seek_to_beginning, to the end (the offset the next record written will get; with
  /// read_committed, the last stable offset).
  template <class Token = default_token_t>
  auto seek_to_end(std::span<const TopicPartition> partitions = {}, Token&& token = {}) {
    return seek_to(partitions, 1, std::forward<Token>(token));
  }
  /// As seek_to_beginning, to the group's committed offsets (partitions without one are
  /// reset by auto_offset_reset). Needs group_id.
  template <class Token = default_token_t>
  auto seek_to_committed(std::span<const TopicPartition> partitions = {}, Token&& token = {}) {
    return seek_to(partitions, 2, std::forward<Token>(token));
  }

  /// The group's committed offset of `tp` (any partition, assigned or not), or nullopt when
  /// none. Needs group_id. Signature: void(error_code, std::optional<OffsetAndMetadata>).
  template <class Token = default_token_t>
  auto committed(TopicPartition tp, Token&& token = {}) {
    return run<std::optional<OffsetAndMetadata>>(
        std::forward<Token>(token),
        [tp = std::move(tp)](std::shared_ptr<detail::consumer_impl> c, std::optional<OffsetAndMetadata>& out) mutable {
          return detail::consumer_committed(std::move(c), std::move(tp), out);
        });
  }

  /// Commits the consumed positions of every assigned partition (what getmany() returned so
  /// far). Needs group_id. Signature: void(error_code).
  template <class Token = default_token_t>
  auto commit(Token&& token = {}) {
    return run_void(std::forward<Token>(token), [](std::shared_ptr<detail::consumer_impl> c) {
      return detail::consumer_commit(std::move(c), std::nullopt);
    });
  }
  /// Commits `offsets` (each the offset of the next record to read, as Kafka stores them).
  template <class Token = default_token_t>
  auto commit(std::map<TopicPartition, OffsetAndMetadata> offsets, Token&& token = {}) {
    return run_void(std::forward<Token>(token),
                    [o = std::move(offsets)](std::shared_ptr<detail::consumer_impl> c) mutable {
                      return detail::consumer_commit(std::move(c), std::move(o));
                    });
  }

  // ---- offsets of the log ----

  /// The first offset of each partition (any partition, assigned or not).
  /// Signature: void(error_code, std::map<TopicPartition, std::int64_t>).
  template <class Token = default_token_t>
  auto beginning_offsets(std::span<const TopicPartition> partitions, Token&& token = {}) {
    return edge_offsets(partitions, -2, std::forward<Token>(token));
  }
  /// The end offset of each partition (the next offset to be written; with read_committed,
  /// the last stable offset).
  template <class Token = default_token_t>
  auto end_offsets(std::span<const TopicPartition> partitions, Token&& token = {}) {
    return edge_offsets(partitions, -1, std::forward<Token>(token));
  }
  /// For each partition the earliest offset whose time stamp is at or after the given time
  /// (milliseconds since the epoch), or nullopt when there is none.
  /// Signature: void(error_code, std::map<TopicPartition, std::optional<OffsetAndTimestamp>>).
  template <class Token = default_token_t>
  auto offsets_for_times(std::map<TopicPartition, std::int64_t> times, Token&& token = {}) {
    using result = std::map<TopicPartition, std::optional<OffsetAndTimestamp>>;
    return run<result>(std::forward<Token>(token),
                       [t = std::move(times)](std::shared_ptr<detail::consumer_impl> c, result& out) mutable {
                         return detail::consumer_list_offsets(std::move(c), std::move(t), out);
                       });
  }

  // ---- partition state (synchronous, on the consumer's executor) ----

  /// The partition's high watermark from the last fetch answer; nullopt before one.
  std::optional<std::int64_t> highwater(const TopicPartition& tp) const {
    return detail::consumer_partition_field(*impl_, tp, 0);
  }
  /// The partition's last stable offset from the last fetch answer (read_committed).
  std::optional<std::int64_t> last_stable_offset(const TopicPartition& tp) const {
    return detail::consumer_partition_field(*impl_, tp, 1);
  }
  /// When the last fetch answer for the partition arrived, milliseconds since the epoch.
  std::optional<std::int64_t> last_poll_timestamp(const TopicPartition& tp) const {
    return detail::consumer_partition_field(*impl_, tp, 2);
  }
  /// No records of `partitions` are fetched or returned until resume() (buffered ones are
  /// kept). Throws client_errc::illegal_state for a partition that is not assigned.
  void pause(std::span<const TopicPartition> partitions) { detail::consumer_pause(*impl_, partitions, true); }
  void pause(const TopicPartition& tp) { pause(std::span<const TopicPartition>(&tp, 1)); }
  void resume(std::span<const TopicPartition> partitions) { detail::consumer_pause(*impl_, partitions, false); }
  void resume(const TopicPartition& tp) { resume(std::span<const TopicPartition>(&tp, 1)); }
  std::set<TopicPartition> paused() const { return detail::consumer_paused(*impl_); }
  /// Bytes of fetched records held for the application now, over all partitions: what
  /// ConsumerConfig::fetch_buffer_memory bounds (for monitoring).
  std::size_t buffered_bytes() const { return detail::consumer_buffered_bytes(*impl_); }
  /// The broker connections the consumer holds now (fetches go on `ConnectionPurpose::fetch`
  /// connections: to a partition's leader, or its preferred read replica with client_rack).
  std::vector<ConnectionInfo> connections() const { return detail::consumer_connections(*impl_); }

  // ---- metadata ----

  /// Every topic of the cluster (internal ones left out with exclude_internal_topics).
  /// Signature: void(error_code, std::set<std::string>).
  template <class Token = default_token_t>
  auto topics(Token&& token = {}) {
    return run<std::set<std::string>>(std::forward<Token>(token),
                                      [](std::shared_ptr<detail::consumer_impl> c, std::set<std::string>& out) {
                                        return detail::consumer_topics(std::move(c), out);
                                      });
  }
  /// The partitions of `topic`; an unknown topic fails with unknown_topic_or_partition.
  /// Signature: void(error_code, std::set<std::int32_t>).
  template <class Token = default_token_t>
  auto partitions_for_topic(std::string topic, Token&& token = {}) {
    return run<std::set<std::int32_t>>(
        std::forward<Token>(token),
        [t = std::move(topic)](std::shared_ptr<detail::consumer_impl> c, std::set<std::int32_t>& out) mutable {
          return detail::consumer_partitions_for(std::move(c), std::move(t), out);
        });
  }

 private:
  template <class Token>
  auto seek_to(std::span<const TopicPartition> partitions, int policy, Token&& token) {
    std::vector<TopicPartition> tps(partitions.begin(), partitions.end());
    return run_void(std::forward<Token>(token),
                    [tps = std::move(tps), policy](std::shared_ptr<detail::consumer_impl> c) mutable {
                      return detail::consumer_seek_to(std::move(c), std::move(tps), policy);
                    });
  }
  template <class Token>
  auto edge_offsets(std::span<const TopicPartition> partitions, std::int64_t which, Token&& token) {
    using result = std::map<TopicPartition, std::int64_t>;
    std::map<TopicPartition, std::int64_t> times;
    for (const auto& tp : partitions) times.emplace(tp, which);
    return boost::asio::async_initiate<Token, void(error_code, result)>(
        [](auto handler, executor_type ex, std::shared_ptr<detail::consumer_impl> c,
           std::map<TopicPartition, std::int64_t> t) {
          auto out = std::make_shared<std::map<TopicPartition, std::optional<OffsetAndTimestamp>>>();
          detail::launch(ex, detail::consumer_list_offsets(std::move(c), std::move(t), *out), std::move(handler),
                         [out] { return detail::offsets_only(std::move(*out)); });
        },
        token, executor_, impl_, std::move(times));
  }
  // Runs op(consumer, out&) -> awaitable<op_error> on the executor; completes with `out`.
  // `op` owns copies of the call's arguments (captured by value at initiation).
  template <class T, class Token, class Op>
  auto run(Token&& token, Op op) {
    return boost::asio::async_initiate<Token, void(error_code, T)>(
        [](auto handler, executor_type ex, std::shared_ptr<detail::consumer_impl> c, Op f) {
          auto out = std::make_shared<T>();
          detail::launch(ex, f(std::move(c), *out), std::move(handler), [out] { return std::move(*out); });
        },
        token, executor_, impl_, std::move(op));
  }
  template <class Token, class Op>
  auto run_void(Token&& token, Op op) {
    return boost::asio::async_initiate<Token, void(error_code)>(
        [](auto handler, executor_type ex, std::shared_ptr<detail::consumer_impl> c, Op f) {
          detail::launch(ex, f(std::move(c)), std::move(handler), [] {});
        },
        token, executor_, impl_, std::move(op));
  }

  executor_type executor_;
  std::shared_ptr<detail::consumer_impl> impl_;
};

}  // namespace asiokafka
