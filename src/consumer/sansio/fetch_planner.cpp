#include "consumer/sansio/fetch_planner.hpp"

#include <algorithm>
#include <utility>

namespace asiokafka::consumer {

namespace {

bool fetchable(const partition_state& s) {
  return !s.paused && !s.held && s.position && !s.pending_reset && !s.error && !s.fetch_in_flight() && s.buffer.empty();
}

}  // namespace

fetch_round fetch_planner::plan(subscription& sub, const leader_lookup& leaders, time_point now) {
  fetch_round round;
  const std::size_t used = sub.buffered_bytes() + reserved_;
  if (used >= limits_.fetch_buffer_memory) return round;
  std::size_t room = limits_.fetch_buffer_memory - used;

  // Fetchable partitions by the node to ask, in partition order.
  struct candidate {
    const TopicPartition* tp;
    const partition_state* state;
    partition_leader leader;
  };
  std::map<std::int32_t, std::vector<candidate>> by_node;
  std::vector<TopicPartition> expired;
  for (const auto& [tp, s] : sub.partitions()) {
    if (!fetchable(s)) continue;
    partition_leader leader = leaders(tp);
    std::int32_t node = leader.node_id;
    if (s.preferred_replica >= 0) {
      if (now < s.preferred_replica_expiry) {
        node = s.preferred_replica;
      } else {
        expired.push_back(tp);
      }
    }
    if (node < 0) {
      round.leaderless.push_back(tp);
      continue;
    }
    if (flights_.contains(node)) continue;
    by_node[node].push_back(candidate{&tp, &s, leader});
  }
  for (const TopicPartition& tp : expired) sub.clear_preferred_replica(tp);

  for (auto& [node, list] : by_node) {
    if (room == 0) break;
    std::size_t& turn = rotation_[node];
    std::rotate(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(turn % list.size()), list.end());
    ++turn;

    const std::size_t per_partition = std::min(limits_.max_partition_fetch_bytes, room);
    node_fetch request;
    request.node_id = node;
    request.wants.reserve(list.size());
    std::size_t asked = 0;
    for (const candidate& c : list) {
      fetch_want& w = request.wants.emplace_back();
      w.topic = c.tp->topic;
      w.topic_id = c.leader.topic_id;
      w.partition = c.tp->partition;
      w.fetch_offset = c.state->position->offset;
      w.current_leader_epoch = c.leader.leader_epoch;
      w.last_fetched_epoch = c.state->position->leader_epoch;
      w.partition_max_bytes = static_cast<std::int32_t>(per_partition);
      asked += per_partition;
    }
    const std::size_t reserve = std::min({limits_.fetch_max_bytes, room, asked});
    request.max_bytes = static_cast<std::int32_t>(reserve);
    room -= reserve;

    flight& f = flights_[node];
    f.reserved = reserve;
    reserved_ += reserve;
    f.partitions.reserve(list.size());
    for (const candidate& c : list) f.partitions.push_back(*c.tp);
    for (const TopicPartition& tp : f.partitions) sub.set_in_flight(tp, node);
    round.requests.push_back(std::move(request));
  }
  return round;
}

fetch_round fetch_planner::plan(subscription& sub, const std::map<TopicPartition, partition_leader>& leaders,
                                time_point now) {
  return plan(
      sub,
      [&leaders](const TopicPartition& tp) {
        auto it = leaders.find(tp);
        return it == leaders.end() ? partition_leader{} : it->second;
      },
      now);
}

void fetch_planner::end_fetch(subscription& sub, std::int32_t node) {
  auto it = flights_.find(node);
  if (it == flights_.end()) return;
  for (const TopicPartition& tp : it->second.partitions) sub.end_in_flight(tp, node);
  reserved_ -= it->second.reserved;
  flights_.erase(it);
}

}  // namespace asiokafka::consumer
