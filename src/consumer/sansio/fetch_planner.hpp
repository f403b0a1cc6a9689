// Which partitions each broker is asked for next, sans-I/O (time is an argument).
//
// A partition is fetchable when it is assigned, not paused, its position known, no reset
// pending, no error pending, nothing of it in flight and its buffered records drained (the
// per-partition prefetch: a drained partition is fetched again at once, whatever the others
// do). It goes to its preferred read replica (KIP-392) until that expires, else its leader;
// without either it is reported as leaderless (the shell refreshes metadata).
//
// Bytes: each partition asks for at most max_partition_fetch_bytes, each request for at most
// fetch_max_bytes, and every planned request reserves the bytes its answer may hold until
// end_fetch(); nothing is planned while the buffered plus reserved bytes are at
// fetch_buffer_memory, and a request never asks for more than the room left (brokers still
// return a first batch larger than asked, KIP-74). One request per node at a time (a fetch
// session takes one request at a time): a node with a request in flight is skipped.
//
// A node's partitions are listed in an order that rotates by one with each request to it, so
// that a broker cutting its answer at the request's max bytes does not always leave out the
// same partitions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "asiokafka/metadata.hpp"
#include "consumer/sansio/fetch_session.hpp"
#include "consumer/sansio/subscription.hpp"

namespace asiokafka::consumer {

/// What metadata says of a partition's leader.
struct partition_leader {
  std::int32_t node_id = -1;       ///< -1: unknown
  std::int32_t leader_epoch = -1;  ///< -1: unknown (sent as the fetch's current_leader_epoch)
  protocol::uuid topic_id{};       ///< all zero: unknown
};

using leader_lookup = std::function<partition_leader(const TopicPartition&)>;

/// The byte limits of ConsumerConfig.
struct fetch_limits {
  std::size_t fetch_max_bytes = 52'428'800;
  std::size_t max_partition_fetch_bytes = 1'048'576;
  std::size_t fetch_buffer_memory = 64 * 1024 * 1024;
};

/// One request to plan for a node: the wants for its fetch_session::build().
struct node_fetch {
  std::int32_t node_id = -1;
  std::int32_t max_bytes = 0;  ///< the request's max_bytes (at most fetch_max_bytes and the room left)
  std::vector<fetch_want> wants;
};

struct fetch_round {
  std::vector<node_fetch> requests;        ///< by node id; each node at most once
  std::vector<TopicPartition> leaderless;  ///< fetchable but without a leader or replica
};

/// The position a want asks from (what subscription::on_fetched() takes as asked_at).
inline fetch_position position_of(const fetch_want& w) noexcept {
  return fetch_position{w.fetch_offset, w.last_fetched_epoch};
}

class fetch_planner {
 public:
  explicit fetch_planner(fetch_limits limits) : limits_(limits) {}

  /// Plans the requests to send now and marks their partitions in flight in `sub`.
  fetch_round plan(subscription& sub, const leader_lookup& leaders, time_point now);
  /// As plan(), with a map (partitions missing from it have no known leader).
  fetch_round plan(subscription& sub, const std::map<TopicPartition, partition_leader>& leaders, time_point now);

  /// The request in flight to `node` ended (answered, after on_fetched() for its
  /// partitions, or failed): its partitions and reserved bytes are released.
  void end_fetch(subscription& sub, std::int32_t node);

  bool in_flight(std::int32_t node) const { return flights_.contains(node); }
  /// Bytes reserved by requests in flight.
  std::size_t reserved_bytes() const noexcept { return reserved_; }

 private:
  struct flight {
    std::vector<TopicPartition> partitions;
    std::size_t reserved = 0;
  };

  fetch_limits limits_;
  std::map<std::int32_t, flight> flights_;
  std::map<std::int32_t, std::size_t> rotation_;  // per node: requests planned so far
  std::size_t reserved_ = 0;
};

}  // namespace asiokafka::consumer
