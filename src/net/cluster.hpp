// net::Cluster: the Asio shell that puts the sans-I/O cluster pieces to work: bootstrap,
// the metadata refresh task (refresh_scheduler + metadata_cache), connections per broker and
// purpose with reconnect backoff and idle reaping (backoff.hpp), coordinator lookups
// (coordinator_cache), and routing of type-erased requests (detail::request_base).
// asiokafka::Client is a handle over it; the Producer, Consumer and Admin use it directly.
//
// Threading: everything runs on `executor()`; nothing is locked. Callers (Client) hop there.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>

#include "asiokafka/client.hpp"
#include "net/backoff.hpp"
#include "net/connection.hpp"
#include "net/coordinator_cache.hpp"
#include "net/metadata_cache.hpp"
#include "net/refresh_scheduler.hpp"

namespace asiokafka::net {

/// Wakes every coroutine waiting on it. Waiters wait with their own deadline; the notifier
/// must outlive them (it lives in the Cluster, which every waiter keeps alive).
class notifier {
 public:
  /// True when notified; false at `deadline`. Throws std::errc::operation_canceled when the
  /// awaiting operation is cancelled.
  boost::asio::awaitable<bool> wait_until(time_point deadline);
  void notify_all();
  std::size_t waiting() const noexcept { return waiters_.size(); }

 private:
  struct entry;
  std::list<entry*> waiters_;
};

/// The connection key: broker id and purpose (see backoff.hpp's connection_key).
inline connection_key make_connection_key(std::int32_t node, ConnectionPurpose purpose) noexcept {
  return static_cast<connection_key>(node) * 4 + static_cast<connection_key>(purpose);
}

class Cluster : public std::enable_shared_from_this<Cluster> {
 public:
  /// `config` must be valid (validate()).
  Cluster(boost::asio::any_io_executor executor, ClientConfig config);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  boost::asio::awaitable<void> start();
  boost::asio::awaitable<void> close();
  /// Without waiting: fails everything, cancels the tasks (they end on their next turn).
  void shutdown_now();

  /// Routes, connects, chooses the version, encodes, sends, decodes into `request`.
  boost::asio::awaitable<void> call(const asiokafka::detail::route& where, asiokafka::detail::request_base& request);
  /// Sends to one broker on a connection of `purpose` (node ids < 0: bootstrap addresses).
  boost::asio::awaitable<void> call_node(std::int32_t node, ConnectionPurpose purpose, asiokafka::detail::request_base& request);

  /// Waits for a refresh: see Client::refresh_metadata. `topics` empty: any fresh metadata.
  boost::asio::awaitable<void> refresh(const std::vector<std::string>& topics, bool wait_for_leaders);
  boost::asio::awaitable<coordinator_info> coordinator(coordinator_type type, const std::string& key);

  void invalidate_leader(std::string_view topic, std::int32_t partition, std::error_code reason);
  void invalidate_coordinator(coordinator_type type, std::string_view key);

  const metadata_cache& metadata() const noexcept { return cache_; }
  std::vector<ConnectionInfo> connections() const;
  const ClientConfig& config() const noexcept { return config_; }
  const boost::asio::any_io_executor& executor() const noexcept { return executor_; }
  bool started() const noexcept { return started_; }
  bool closed() const noexcept { return closed_; }

 private:
  struct slot {
    std::int32_t node = -1;
    ConnectionPurpose purpose = ConnectionPurpose::other;
    std::string host;
    std::uint16_t port = 0;
    std::optional<Connection> conn;
    bool connecting = false;
    std::exception_ptr last_error;  // of the last attempt, for the waiters of that attempt
    std::size_t in_flight = 0;
    notifier done;  // a connection attempt ended
  };
  struct refresh_waiter {
    std::optional<std::error_code> result;
    notifier done;
  };
  struct lookup {
    std::optional<std::error_code> result;
    std::string message;
    notifier done;
  };
  struct address {
    std::string host;
    std::uint16_t port = 0;
  };

  boost::asio::awaitable<slot*> get_connection(std::int32_t node, ConnectionPurpose purpose, time_point deadline);
  boost::asio::awaitable<void> connect_task(connection_key key);
  boost::asio::awaitable<void> refresh_loop();
  boost::asio::awaitable<void> refresh_task(refresh_plan plan);
  boost::asio::awaitable<void> call_leader(const asiokafka::detail::route& where, asiokafka::detail::request_base& request);
  boost::asio::awaitable<void> call_coordinator(const asiokafka::detail::route& where, asiokafka::detail::request_base& request);
  boost::asio::awaitable<void> call_controller(asiokafka::detail::request_base& request);
  boost::asio::awaitable<void> lookup_task(coordinator_type type, std::string key);
  boost::asio::awaitable<void> sleep_until(time_point t);

  std::optional<address> address_of(std::int32_t node) const;
  /// The least-loaded usable broker, or a bootstrap address when none is (KIP-899's
  /// rebootstrap); nullopt when there is nothing at all.
  std::optional<std::int32_t> pick_any_node();
  /// A connection that failed or sent garbage: forget it, back off, refresh soon.
  void drop(slot& s);
  void poke() { wakeup_.cancel(); }
  void spawn(boost::asio::awaitable<void> task);
  ConnectionOptions connection_options() const;
  void check_open() const;

  boost::asio::any_io_executor executor_;
  ClientConfig config_;
  std::vector<BootstrapAddress> bootstrap_;
  metadata_cache cache_;
  refresh_scheduler scheduler_;
  coordinator_cache coordinators_;
  reconnect_backoff backoff_;
  idle_tracker idle_;
  std::map<connection_key, slot> slots_;
  std::map<waiter_id, refresh_waiter*> refresh_waiters_;
  std::map<std::pair<coordinator_type, std::string>, std::shared_ptr<lookup>> lookups_;
  std::map<std::int32_t, address> coordinator_addresses_;  // coordinators not (yet) in the metadata
  boost::asio::steady_timer wakeup_;  // the refresh loop sleeps on it; poke() wakes it
  std::list<boost::asio::cancellation_signal> signals_;  // one per running task
  std::size_t running_tasks_ = 0;
  notifier tasks_done_;
  std::size_t rotation_ = 0;
  bool started_ = false;
  bool closed_ = false;
};

}  // namespace asiokafka::net
