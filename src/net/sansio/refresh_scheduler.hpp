// When to send a Metadata request and who waits for it, sans-I/O. Concurrent asks merge into
// one refresh; asks while one is in flight wait for it when it covers their topics, and go in
// the next one otherwise; refreshes are at least retry_backoff apart; a waiter can ask to be
// held until its topics have leaders (topic auto-creation) or its deadline passes.
//
// The driver (the cluster task) loops: poll(now, cache) -> send the plan's request ->
// on_response / on_failure; a timer on next_wakeup() -> expire(now) and poll again; then
// drain next_completion() and resume the waiting operations.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "asiokafka/protocol/messages/metadata.hpp"
#include "net/sansio/metadata_cache.hpp"

namespace asiokafka::net {

struct refresh_config {
  /// Kafka's retry.backoff.ms: the minimum time from the end of one refresh (success or
  /// failure) to the start of the next.
  std::chrono::milliseconds retry_backoff{100};
  /// While a tracked topic is missing from the answers (not created yet, or deleted), it is
  /// asked for again after retry_backoff, doubling up to this cap (the Java client's
  /// retry.backoff.max.ms), so a subscription or a send sees a new topic within about a
  /// second rather than at the next metadata_max_age.
  std::chrono::milliseconds missing_topic_backoff_max{1000};
  /// Ask for every topic (null topics), as a pattern subscription needs.
  bool all_topics = false;
};

using waiter_id = std::uint64_t;
using refresh_generation = std::uint64_t;

struct refresh_ask {
  /// Topics the caller needs. Empty: any fresh metadata (brokers, controller) will do.
  std::vector<std::string> topics;
  /// Hold the waiter until every topic is cached with a leader for each partition, asking
  /// again (retry_backoff apart) while a topic is unknown or has no leader, as when a topic is
  /// being auto-created. A non-retriable topic error (authorization, invalid name) ends the
  /// wait with that error. Without this, the waiter completes with the next refresh.
  bool wait_for_leaders = false;
  /// The waiter completes with client_errc::timeout at this time (see expire()).
  time_point deadline = time_point::max();
};

/// A refresh to send.
struct refresh_plan {
  refresh_generation generation = 0;
  metadata_scope scope;
};

struct refresh_done {
  waiter_id id = 0;
  /// Empty, the refresh's failure, the topic's error, client_errc::timeout, or
  /// std::errc::operation_canceled.
  std::error_code ec;
};

/// The Metadata request for a plan (topics by name; null topics for all_topics).
protocol::messages::MetadataRequest make_metadata_request(const metadata_scope& scope,
                                                          bool allow_auto_topic_creation);

class refresh_scheduler {
 public:
  explicit refresh_scheduler(const refresh_config& cfg = {});

  /// Registers a waiter. It joins the refresh in flight when that one asks for all of its
  /// topics; otherwise the next refresh, which will include its topics.
  waiter_id ask(refresh_ask a);
  /// Topics every refresh includes (besides the cached ones and those asked for).
  void track(const std::string& topic) { tracked_.insert(topic); }
  void untrack(const std::string& topic) { tracked_.erase(topic); }
  /// How many refreshes in a row ended with a tracked topic missing from the cache (0: none).
  std::uint32_t missing_rounds() const noexcept { return missing_rounds_; }
  const std::set<std::string>& tracked() const noexcept { return tracked_; }
  /// Every refresh asks for all topics (null topics), as a pattern subscription needs; the
  /// answer then replaces the cached topic list (unlisted topics are removed).
  void set_all_topics(bool on) noexcept { cfg_.all_topics = on; }
  bool all_topics() const noexcept { return cfg_.all_topics; }

  /// The refresh to send now, if one is wanted (a waiter, or cache.needs_refresh(now)), none
  /// is in flight and retry_backoff has passed since the last one ended. It asks for the
  /// cached, tracked and requested topics.
  std::optional<refresh_plan> poll(time_point now, const metadata_cache& cache);
  /// The response to the refresh in flight: applies it to `cache` and settles its waiters.
  /// A response to any other generation is ignored (empty result).
  apply_result on_response(refresh_generation gen, const protocol::messages::MetadataResponse& r,
                           metadata_cache& cache, time_point now);
  /// The refresh in flight failed (connection lost, timeout). Its plain waiters complete with
  /// `ec`; waiters for leaders stay for the next attempt, until their deadline.
  void on_failure(refresh_generation gen, std::error_code ec, time_point now);
  /// Completes waiters whose deadline is <= now with client_errc::timeout.
  void expire(time_point now);
  /// Cancels a waiter: it completes with std::errc::operation_canceled.
  bool cancel(waiter_id id);

  /// When to call poll()/expire() next, or nullopt when nothing is due (a refresh in flight
  /// and no waiter with a deadline, or nothing wanted at all).
  std::optional<time_point> next_wakeup(const metadata_cache& cache) const;
  std::optional<refresh_done> next_completion();

  bool in_flight() const noexcept { return in_flight_.has_value(); }
  std::size_t waiters() const noexcept { return waiters_.size(); }

 private:
  struct waiter {
    waiter_id id = 0;
    refresh_generation generation = 0;
    refresh_ask ask;
  };
  void defer_to_next(waiter& w);
  bool wanted(time_point now, const metadata_cache& cache) const;
  // When the next refresh for a missing tracked topic is due (nullopt: none is missing).
  std::optional<time_point> missing_due() const;
  void count_missing(const metadata_cache& cache);
  void complete(waiter_id id, std::error_code ec) { done_.push_back({id, ec}); }

  refresh_config cfg_;
  std::optional<refresh_plan> in_flight_;
  refresh_generation next_generation_ = 1;  // the refresh that has not started yet
  bool pending_ = false;                    // a waiter needs next_generation_
  std::set<std::string> pending_topics_;
  std::set<std::string> tracked_;
  std::vector<waiter> waiters_;
  waiter_id next_id_ = 1;
  std::optional<time_point> last_end_;
  std::uint32_t missing_rounds_ = 0;
  std::deque<refresh_done> done_;
};

}  // namespace asiokafka::net
