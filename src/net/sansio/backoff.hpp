// Per-broker connection policy, sans-I/O: reconnect backoff (exponential with jitter, reset on
// success) and idle tracking for connections_max_idle_ms. Time is an argument; the random
// source is injectable so tests are deterministic.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "net/sansio/time.hpp"

namespace asiokafka::net {


struct backoff_config {
  /// Kafka's reconnect.backoff.ms: the wait after the first failed attempt.
  std::chrono::milliseconds reconnect_backoff{50};
  /// Kafka's reconnect.backoff.max.ms: the cap. When not above reconnect_backoff, every
  /// wait is reconnect_backoff (no growth, no jitter), as in the Java client.
  std::chrono::milliseconds reconnect_backoff_max{1000};
  /// Each wait is scaled by a factor uniform in [1 - jitter, 1 + jitter] (KIP-144: 0.2),
  /// then capped.
  double jitter = 0.2;
};

/// Uniform in [0, 1). The default draws from a std::mt19937_64 seeded from random_device.
using random_source = std::function<double()>;

/// Java's exponential backoff: base * 2^min(attempts, log2(max/base)) scaled by the jitter
/// factor and capped at max. attempts = 0 gives about `reconnect_backoff`.
std::chrono::milliseconds backoff_delay(const backoff_config& cfg, std::uint32_t attempts,
                                        double unit_random);

/// Identifies one connection for idle tracking: the cluster combines the broker id and the
/// connection's purpose (see net::Cluster).
using connection_key = std::int64_t;

/// Reconnect backoff per broker id.
class reconnect_backoff {
 public:
  explicit reconnect_backoff(const backoff_config& cfg = {}, random_source random = {});

  /// A connection attempt (or an established connection) to `node` failed at `now`: the next
  /// attempt waits backoff_delay(failures so far). Returns when it may start.
  time_point on_failure(std::int32_t node, time_point now);
  /// Connected (and authenticated): the next failure starts from reconnect_backoff again.
  void on_success(std::int32_t node);
  bool can_connect(std::int32_t node, time_point now) const;
  /// When `node` may be connected to (time_point::min() when not backing off).
  time_point ready_at(std::int32_t node) const;
  std::uint32_t failures(std::int32_t node) const;
  /// Drops a broker that left the cluster.
  void forget(std::int32_t node) { nodes_.erase(node); }

 private:
  struct state {
    std::uint32_t failures = 0;
    time_point ready_at{};
  };
  backoff_config cfg_;
  random_source random_;
  std::map<std::int32_t, state> nodes_;
};

/// Which connections have been idle for connections_max_idle_ms. The caller touches a
/// connection on every read and write and marks it busy while requests are in flight: a busy
/// connection is never reaped, whatever its idle time (a long JoinGroup or fetch wait is not
/// idleness).
class idle_tracker {
 public:
  explicit idle_tracker(std::chrono::milliseconds max_idle = std::chrono::milliseconds{540'000});

  /// Activity on `node`'s connection (starts tracking it).
  void touch(connection_key node, time_point now);
  void set_busy(connection_key node, bool busy);
  /// The connection closed.
  void remove(connection_key node) { conns_.erase(node); }
  /// Idle connections to close at `now` (not busy, idle >= max_idle), by node id; they
  /// stop being tracked.
  std::vector<connection_key> reap(time_point now);
  /// When the next idle connection expires, for the caller's timer.
  std::optional<time_point> next_expiry() const;
  std::size_t size() const noexcept { return conns_.size(); }

 private:
  struct conn {
    time_point last_active{};
    bool busy = false;
  };
  std::chrono::milliseconds max_idle_;
  std::map<connection_key, conn> conns_;
};

}  // namespace asiokafka::net
