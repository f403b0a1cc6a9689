// net::connection_pool: the connections of one client, one per (broker, purpose). Connect
// attempts shared by every request that needs them, per-broker reconnect backoff, idle reaping,
// connection generations, and the one place where a broken connection's side effects happen.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "asiokafka/config.hpp"
#include "asiokafka/metadata.hpp"
#include "net/connection.hpp"
#include "net/notifier.hpp"
#include "net/sansio/backoff.hpp"
#include "net/sansio/metadata_cache.hpp"

namespace asiokafka::net {

/// A broker's connection failed: an attempt did not succeed, or an established connection was
/// found broken (lost, timed out, sent garbage). Emitted once per failure, after the broker's
/// reconnect backoff was counted; the cluster reacts (metadata refresh, coordinators).
struct broker_failure {
  std::int32_t node = -1;
  failure reason;
};

class connection_pool {
 public:
  /// The address of node `node` (negative: the bootstrap address -1-node), nullopt if unknown.
  using address_lookup = std::function<std::optional<BrokerAddress>(std::int32_t node)>;

  connection_pool(boost::asio::any_io_executor executor, const ClientConfig& config, address_lookup address_of);
  ~connection_pool();
  connection_pool(const connection_pool&) = delete;
  connection_pool& operator=(const connection_pool&) = delete;

  /// Starts the idle reaper. `owner` is kept alive while the pool's tasks run (the pool's
  /// coroutines use its members; the owner holds the pool).
  void start(std::weak_ptr<void> owner);

  /// Sends `request` on the connection of (node, purpose), connecting first when needed (one
  /// attempt shared by every request that waits for it). Requests given to one (node, purpose)
  /// are written in the order of the calls, whether the connection is up, being made or
  /// re-authenticating. A broker in reconnect backoff is waited for when the backoff ends
  /// before the request's deadline; otherwise the call fails at once (connection_failed, not
  /// sent). Sets the request's node_id and connection_generation. `request` must outlive the
  /// awaitable; destroying the awaitable cancels the request.
  boost::asio::awaitable<failure> send(std::int32_t node, ConnectionPurpose purpose, request_base& request,
                                       request_options options = {});

  /// Load of a broker for least-loaded routing (metadata_cache::any_broker).
  node_load load(std::int32_t node) const;
  /// When `node` may be connected to again (time_point::min() when not backing off).
  time_point ready_at(std::int32_t node) const { return backoff_.ready_at(node); }
  /// The generation of (node, purpose)'s current connection, 0 when there is none.
  std::uint64_t generation(std::int32_t node, ConnectionPurpose purpose) const;
  /// The version send() would use for `api_key` on (node, purpose)'s current connection
  /// within [min_version, max_version]; -1 when there is no connection or no common version.
  /// (The consumer's fetch session must know the version before it builds the request.)
  std::int16_t version_for(std::int32_t node, ConnectionPurpose purpose, std::int16_t api_key,
                           std::int16_t min_version, std::int16_t max_version) const;
  std::vector<ConnectionInfo> connections() const;
  /// Connection failures (see broker_failure).
  event_source<broker_failure>& failures() noexcept { return failures_; }

  /// Closes the idle connections to bootstrap addresses (brokers are reached by id from now).
  void close_bootstrap_connections();
  /// Without waiting: fails queued requests (client_closed, not sent), closes every connection
  /// (their pending requests fail with connection_closed) and cancels the pool's tasks.
  void shutdown();
  /// shutdown(), then waits until the connections and tasks have ended.
  boost::asio::awaitable<void> close();

 private:
  struct queued;
  struct slot {
    std::int32_t node = -1;
    ConnectionPurpose purpose = ConnectionPurpose::other;
    std::optional<connection> conn;
    std::uint64_t generation = 0;
    bool connecting = false;
    std::deque<std::shared_ptr<queued>> queue;  // waiting for the connection, in call order
    std::size_t in_flight = 0;                  // requests in send() on this slot
    notifier settled;                           // a connect attempt ended
  };

  slot& slot_for(std::int32_t node, ConnectionPurpose purpose);
  boost::asio::awaitable<failure> track(slot& s, request_base& request, boost::asio::awaitable<failure> sent);
  boost::asio::awaitable<failure> wait_queued(slot& s, std::shared_ptr<queued> q);
  boost::asio::awaitable<void> connect_task(slot& s);
  boost::asio::awaitable<void> reaper();
  void request_done(slot& s);
  /// The one path for a broken connection: forget it, count the broker's backoff, tell the
  /// listeners. Not for connections this client closed itself.
  void report_failure(slot& s, const failure& why);
  static boost::asio::awaitable<failure> immediate(failure f);

  boost::asio::any_io_executor executor_;
  connection_options options_;
  address_lookup address_of_;
  reconnect_backoff backoff_;
  idle_tracker idle_;
  std::map<connection_key, slot> slots_;  // never erased: addresses of slots stay valid
  std::uint64_t next_generation_ = 1;
  event_source<broker_failure> failures_;
  task_group tasks_;
  boost::asio::steady_timer reaper_wakeup_;
  std::weak_ptr<void> owner_;
  bool closed_ = false;
};

/// The slot key of (node, purpose) for idle tracking.
connection_key make_connection_key(std::int32_t node, ConnectionPurpose purpose) noexcept;

}  // namespace asiokafka::net
