// net::metadata_service: keeps the cluster metadata fresh. The Asio shell over the sans-I/O
// refresh_scheduler and metadata_cache: a refresh loop, waiters with deadlines, topic tracking
// and all-topics mode (pattern subscriptions), and change events for the producer and consumer.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "asiokafka/config.hpp"
#include "asiokafka/detail/request.hpp"
#include "net/connection.hpp"
#include "net/notifier.hpp"
#include "net/sansio/failure.hpp"
#include "net/sansio/metadata_cache.hpp"
#include "net/sansio/refresh_scheduler.hpp"

namespace asiokafka::net {

/// A metadata change, as apply_result describes it (topics added, removed or re-created,
/// partition counts, leaders or epochs, brokers, controller, cluster id).
using metadata_change = apply_result;

class metadata_service {
 public:
  /// Sends a Metadata request to some broker (the cluster's least-loaded routing).
  using sender = std::function<boost::asio::awaitable<failure>(request_base&)>;

  metadata_service(boost::asio::any_io_executor executor, const ClientConfig& config, sender send_any);
  metadata_service(const metadata_service&) = delete;
  metadata_service& operator=(const metadata_service&) = delete;

  /// Starts the refresh loop; `owner` is kept alive while it runs.
  void start(std::weak_ptr<void> owner);
  /// Stops the loop and wakes every waiter (they fail with client_closed).
  void shutdown();
  /// Waits (until `deadline` at most) for the tasks cancelled by shutdown() to end.
  boost::asio::awaitable<void> join(time_point deadline);

  /// Waits for a refresh that starts after this call and covers `topics` (empty: any fresh
  /// metadata). With `wait_for_leaders`, until every partition of every topic has a leader
  /// (topic auto-creation, elections), a final topic error (returned), or `deadline`
  /// (client_errc::timeout).
  boost::asio::awaitable<failure> refresh(std::vector<std::string> topics, bool wait_for_leaders,
                                          time_point deadline);
  /// Applies an answer obtained elsewhere (the bootstrap Metadata) and emits its changes.
  apply_result apply(const protocol::messages::MetadataResponse& response, const metadata_scope& scope);

  const metadata_cache& cache() const noexcept { return cache_; }
  /// A routing error for a partition: forgets its leader when the error says so (the
  /// classification table) and makes the next refresh urgent.
  void invalidate(std::string_view topic, std::int32_t partition, std::error_code reason);
  /// Refresh soon (still no sooner than retry_backoff after the last one).
  void mark_urgent();

  /// Topics every refresh asks for, whether cached or not (a producer's or consumer's topics).
  void track(const std::string& topic);
  void untrack(const std::string& topic);
  /// Every refresh asks for all topics (pattern subscription); newly created topics then show
  /// up in changes() as added_topics.
  void set_all_topics(bool on);

  /// Emitted after every refresh (or apply) that changed something (apply_result::changed).
  event_source<metadata_change>& changes() noexcept { return changes_; }

  /// The Metadata request for a scope: v1+ (in v0 an empty topic list means all topics).
  static typed_request<protocol::messages::MetadataRequest> make_request(const metadata_scope& scope,
                                                                               bool allow_auto_create);

 private:
  struct waiter {
    std::optional<std::error_code> result;
    notifier done;
  };
  boost::asio::awaitable<void> refresh_loop();
  boost::asio::awaitable<void> refresh_task(refresh_plan plan);
  void poke() { wakeup_.cancel(); }

  boost::asio::any_io_executor executor_;
  sender send_any_;
  bool allow_auto_create_;
  metadata_cache cache_;
  refresh_scheduler scheduler_;
  std::map<waiter_id, waiter*> waiters_;
  event_source<metadata_change> changes_;
  boost::asio::steady_timer wakeup_;  // the loop sleeps on it; poke() wakes it
  task_group tasks_;
  std::weak_ptr<void> owner_;
  bool closed_ = false;
};

}  // namespace asiokafka::net
