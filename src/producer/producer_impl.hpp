// The Producer's Asio shell: the state behind asiokafka::Producer, its send paths (fast: append
// at call time; slow: copied, in call order, waiting for metadata and memory) and the sender
// task that drains the accumulator into ProduceRequests. Everything runs on the producer's
// executor. docs/design.md ("Producer") states the invariants.
#pragma once

#include <cstdint>
#include <memory>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <functional>

#include "asiokafka/producer.hpp"
#include "net/cluster.hpp"
#include "net/notifier.hpp"
#include "producer/sansio/accumulator.hpp"
#include "producer/sansio/partitioner.hpp"
#include "producer/wall_clock.hpp"

namespace asiokafka::detail {

/// A record copied for the slow path of send().
struct owned_record {
  std::string topic;
  std::optional<std::string> key;
  std::string value;
  std::optional<std::int32_t> partition;
  std::optional<std::int64_t> timestamp;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
};

/// What BatchBuilder holds: a batch encoder with the producer's settings.
struct batch_builder_state {
  protocol::record_batch_builder builder;
  std::size_t max_batch_size = 0;
  std::size_t max_request_size = 0;
  std::int64_t first_timestamp = -1;
  bool closed = false;
};

/// Whether the calling thread runs an executor now (an io_context's executor or a strand of
/// one; any other type counts as elsewhere, so calls hop). The executor's type is looked up
/// once: any_io_executor's target lookup costs too much to repeat per record. Refers to
/// `ex`, which must outlive it and stay in place.
class executor_affinity {
 public:
  explicit executor_affinity(const boost::asio::any_io_executor& ex) noexcept;
  bool here() const noexcept;

 private:
  enum class kind : std::uint8_t { other, io_context, io_strand, any_strand };
  kind kind_ = kind::other;
  const void* target_ = nullptr;
};

/// What one waiting DeliveryHandle costs, counted against buffer_memory until its batch ends.
inline constexpr std::size_t waiter_cost = 128;

/// A batch's result plus the waiters of its records' DeliveryHandles.
class delivery final : public producer::batch_result,
                       public delivery_state,
                       public std::enable_shared_from_this<delivery> {
 public:
  delivery(boost::asio::any_io_executor ex, std::shared_ptr<std::size_t> waiter_memory)
      : executor_(std::move(ex)), affinity_(executor_), waiter_memory_(std::move(waiter_memory)) {}
  delivery(const delivery&) = delete;
  delivery& operator=(const delivery&) = delete;
  void on_done() override;
  void wait(std::int32_t index, std::int64_t timestamp, callback cb) override;
  bool completed() const noexcept override { return done; }
  const boost::asio::any_io_executor& executor() const noexcept override { return executor_; }

  std::string topic;
  std::int32_t partition = -1;
  bool acks_none = false;

 private:
  RecordMetadata metadata_of(const record_outcome& o, std::int64_t timestamp) const;
  void wait_here(std::int32_t index, std::int64_t timestamp, callback cb);  ///< on the executor
  struct waiter {
    std::int32_t index;
    std::int64_t timestamp;
    callback cb;
  };
  boost::asio::any_io_executor executor_;
  executor_affinity affinity_;                  ///< of executor_
  std::shared_ptr<std::size_t> waiter_memory_;  ///< the producer's count of waiter_cost
  std::vector<waiter> waiters_;
};

class producer_impl : public std::enable_shared_from_this<producer_impl> {
 public:
  producer_impl(boost::asio::any_io_executor ex, ProducerConfig config);
  ~producer_impl();

  enum class state { created, starting, running, stopping, stopped };

  /// Appends now if it can; see send_prep.
  send_prep prepare(std::string_view topic, BytesView value, const SendOptions& options);
  boost::asio::awaitable<op_error> send_slow(std::shared_ptr<owned_record> r, DeliveryHandle& out);
  boost::asio::awaitable<op_error> send_batch(std::shared_ptr<batch_builder_state> b, std::string topic,
                                              std::int32_t partition, DeliveryHandle& out);
  const ProducerConfig& config() const noexcept { return config_; }
  boost::asio::awaitable<op_error> start();
  boost::asio::awaitable<op_error> stop();
  boost::asio::awaitable<op_error> flush();
  boost::asio::awaitable<op_error> partitions(std::string topic, std::vector<std::int32_t>& out);
  /// The Producer object went away: fail what is queued and close without waiting.
  void abandon() noexcept;

  const boost::asio::any_io_executor& executor() const noexcept { return executor_; }

 private:
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  /// What a send needs of a topic, found with one lookup (or none: the last topic is
  /// remembered). Kept across metadata changes (marked stale, refreshed on next use), so the
  /// sticky partition and the queue pointers survive them.
  struct topic_info {
    std::string_view name;                ///< the key in topics_
    std::vector<std::int32_t> all;
    std::vector<std::int32_t> available;  ///< with a leader now
    std::int32_t sticky = -1;             ///< the sticky partitioner's current partition
    std::vector<producer::accumulator::partition_queue*> queues;  ///< by partition, filled on use
    bool stale = false;
  };
  enum class attempt { appended, failed, no_metadata, no_memory };
  struct record_ref {
    std::string_view topic;
    std::optional<protocol::byte_view> key;
    protocol::byte_view value;
    std::optional<std::int32_t> partition;
    std::int64_t timestamp;
    std::span<const protocol::RecordHeader> headers;
  };

  bool on_executor() const noexcept;
  topic_info* topic_of(std::string_view topic);
  attempt try_append(const record_ref& r, bool may_allocate, DeliveryHandle& out, op_error& err);
  attempt try_append_batch(batch_builder_state& b, std::string_view topic, std::int32_t partition, DeliveryHandle& out,
                           op_error& err);
  /// The slow path's queue: waits for this call's turn (call order), then tries `try_once`
  /// until it appends or fails, waiting for `topic`'s metadata and for memory, within max_block.
  boost::asio::awaitable<op_error> append_in_turn(const std::string& topic,
                                                  const std::function<attempt(DeliveryHandle&, op_error&)>& try_once,
                                                  DeliveryHandle& out);
  /// Checks shared by both append paths: fatal error, state. False: `err` is set.
  bool may_send(op_error& err) const;
  void wake_sender() noexcept;
  boost::asio::awaitable<void> sender_loop();
  boost::asio::awaitable<void> send_request(std::int32_t node, std::vector<producer::batch*> batches);
  void handle_failure(producer::batch* b, std::error_code ec, const std::string& message, net::time_point now);
  /// InitProducerId: a new producer id, or (bump) the current id with the next epoch.
  boost::asio::awaitable<op_error> init_producer_id(net::time_point deadline, bool bump);
  /// Bumps the epoch with nothing in flight and resets the sequences; false: the loop ends.
  boost::asio::awaitable<bool> bump_epoch();
  void released() noexcept;
  void wake_turn() noexcept;
  void advance_turn() noexcept;

  boost::asio::any_io_executor executor_;
  executor_affinity affinity_{executor_};
  ProducerConfig config_;
  /// What waiting DeliveryHandles hold, counted against buffer_memory (the accumulator reads
  /// it; deliveries update it). Declared before acc_, which points to it.
  std::shared_ptr<std::size_t> waiter_memory_ = std::make_shared<std::size_t>(0);
  std::shared_ptr<net::cluster> cluster_;
  producer::accumulator acc_;
  producer::sticky_partitioner sticky_;
  std::unordered_map<std::string, topic_info, string_hash, std::equal_to<>> topics_;
  topic_info* last_topic_ = nullptr;  ///< the last one topic_of returned, if not stale
  net::event_source<net::metadata_change>::subscription on_metadata_;
  net::notifier sender_wake_;
  bool sender_dirty_ = false;
  /// Slow sends waiting, by ticket. Only the one whose turn it is can append, so only it is
  /// woken (released memory, metadata, the previous one done): no wake-up storm however
  /// many wait (aiokafka #528).
  std::map<std::uint64_t, net::notifier*> turn_waiters_;
  net::notifier completed_;  ///< a batch completed (flush and stop wait on it)
  std::uint64_t next_ticket_ = 0;
  std::uint64_t serving_ = 0;  ///< the slow send whose turn it is
  std::set<std::uint64_t> abandoned_;  ///< tickets of slow sends that gave up before their turn
  std::size_t memory_waiters_ = 0;
  std::unordered_map<std::int32_t, std::size_t> node_in_flight_;
  net::task_group tasks_;
  state state_ = state::created;
  op_error fatal_;  ///< set: every later send fails with it
};

}  // namespace asiokafka::detail
