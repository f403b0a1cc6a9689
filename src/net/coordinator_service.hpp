// net::coordinator_service: group, transaction and share coordinators. The Asio shell over the
// sans-I/O coordinator_cache: shared FindCoordinator lookups with retries, invalidation after
// errors and lost connections, and coordinator-change notices for the group and transaction
// managers to come.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "asiokafka/config.hpp"
#include "asiokafka/detail/request.hpp"
#include "asiokafka/metadata.hpp"
#include "net/connection.hpp"
#include "net/notifier.hpp"
#include "net/sansio/coordinator_cache.hpp"
#include "net/sansio/failure.hpp"
#include "net/sansio/time.hpp"

namespace asiokafka::net {

/// The coordinator of (type, key) changed: found (node >= 0), moved, or forgotten (node -1)
/// after an error or a lost connection. A group member re-finds its coordinator on this.
struct coordinator_change {
  CoordinatorType type = CoordinatorType::group;
  std::string key;
  std::int32_t previous_node = -1;
  std::int32_t node = -1;
};

class coordinator_service {
 public:
  /// Sends a request to some broker (the cluster's least-loaded routing).
  using sender = std::function<boost::asio::awaitable<failure>(request_base&)>;

  coordinator_service(boost::asio::any_io_executor executor, const ClientConfig& config, sender send_any);
  coordinator_service(const coordinator_service&) = delete;
  coordinator_service& operator=(const coordinator_service&) = delete;

  void start(std::weak_ptr<void> owner) { owner_ = std::move(owner); }
  /// Ends the lookups in progress and wakes their waiters (client_closed).
  void shutdown();
  /// Waits (until `deadline` at most) for the tasks cancelled by shutdown() to end.
  boost::asio::awaitable<void> join(time_point deadline);

  /// The coordinator of `key`, from the cache or FindCoordinator. Concurrent lookups of one
  /// key share one task, which retries (retry_backoff apart) on COORDINATOR_NOT_AVAILABLE,
  /// transport failures and undecodable answers, until `deadline` (client_errc::timeout).
  boost::asio::awaitable<outcome<BrokerMetadata>> find(CoordinatorType type, std::string key, time_point deadline);

  /// An error from a request sent to the coordinator of (type, key): what to do, from the
  /// classification table; forgets the coordinator when it must be found again.
  coordinator_action on_error(CoordinatorType type, const std::string& key, std::error_code ec);
  void invalidate(CoordinatorType type, const std::string& key);
  /// The connection to `node` failed: forget every coordinator it hosts.
  void invalidate_node(std::int32_t node);
  /// The address of a coordinator that the metadata does not list (yet).
  std::optional<BrokerAddress> address_of(std::int32_t node) const;

  event_source<coordinator_change>& changes() noexcept { return changes_; }

 private:
  struct lookup {
    std::optional<failure> result;  // set when the task ends: empty failure = found
    notifier done;
  };
  boost::asio::awaitable<void> lookup_task(CoordinatorType type, std::string key, std::shared_ptr<lookup> l);
  /// Applies a change to the cache's entry for (type, key) and tells the listeners.
  void changed(CoordinatorType type, const std::string& key, std::int32_t previous);

  boost::asio::any_io_executor executor_;
  sender send_any_;
  std::chrono::milliseconds retry_backoff_;
  std::chrono::milliseconds request_timeout_;
  coordinator_cache cache_;
  std::map<std::pair<CoordinatorType, std::string>, std::shared_ptr<lookup>> lookups_;
  std::map<std::int32_t, BrokerAddress> addresses_;  // coordinators by node, from FindCoordinator
  event_source<coordinator_change> changes_;
  task_group tasks_;
  std::weak_ptr<void> owner_;
  bool closed_ = false;
};

}  // namespace asiokafka::net
