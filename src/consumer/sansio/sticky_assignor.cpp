// The sticky and cooperative-sticky assignors (the algorithm is described in assignors.hpp):
// previous owners by generation, greedy placement of the rest, then cost-reducing chains until
// the loads are optimally balanced.
#include "consumer/sansio/sticky_assignor.hpp"

#include <algorithm>
#include <climits>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "protocol/wire.hpp"

namespace asiokafka::consumer::detail {

namespace {

constexpr int none = -1;

// Everything the sticky algorithm works on, by index: members in member-id order, the
// partitions of the subscribed topics numbered topic by topic (topics in name order), so the
// partitions of one topic are a contiguous range.
class sticky_solver {
 public:
  sticky_solver(const partition_counts& counts, const std::vector<const member_subscription*>& members)
      : members_(members) {
    std::set<std::string> subscribed;
    for (const auto* m : members_) subscribed.insert(m->topics.begin(), m->topics.end());
    for (const auto& [topic, count] : counts) {
      if (count <= 0 || subscribed.count(topic) == 0) continue;
      topic_index_[topic] = static_cast<int>(topics_.size());
      topics_.push_back(topic);
      offsets_.push_back(partition_count_);
      partition_count_ += count;
      for (std::int32_t p = 0; p < count; ++p) topic_of_.push_back(static_cast<int>(topics_.size()) - 1);
    }
    offsets_.push_back(partition_count_);
    subscribers_.resize(topics_.size());
    member_topics_.resize(members_.size());
    for (std::size_t m = 0; m < members_.size(); ++m) {
      for (const auto& topic : members_[m]->topics) {
        const auto it = topic_index_.find(topic);
        if (it == topic_index_.end()) continue;
        member_topics_[m].push_back(it->second);
        subscribers_[static_cast<std::size_t>(it->second)].push_back(static_cast<int>(m));
      }
      auto& mt = member_topics_[m];
      std::sort(mt.begin(), mt.end());
      mt.erase(std::unique(mt.begin(), mt.end()), mt.end());
    }
    for (auto& s : subscribers_) s.erase(std::unique(s.begin(), s.end()), s.end());
    const auto n = static_cast<std::size_t>(partition_count_);
    previous_.assign(n, none);
    owner_.assign(n, none);
    claimants_.assign(n, 0);
    first_claimant_.assign(n, none);
    load_.assign(members_.size(), 0);
    held_.resize(members_.size());
  }

  // The global index of `tp`, or none if it is not a partition of a subscribed topic.
  int index_of(const TopicPartition& tp) const {
    const auto it = topic_index_.find(tp.topic);
    if (it == topic_index_.end()) return none;
    const auto t = static_cast<std::size_t>(it->second);
    if (tp.partition < 0 || tp.partition >= offsets_[t + 1] - offsets_[t]) return none;
    return offsets_[t] + tp.partition;
  }

  // Step 1: each member's previous partitions with their generation; the highest generation
  // wins a partition, a tie in it leaves the partition without previous owner.
  void set_previous(const std::vector<std::pair<std::vector<TopicPartition>, std::int32_t>>& previous) {
    const auto n = static_cast<std::size_t>(partition_count_);
    // Below every int32 generation (INT32_MIN included: a payload may carry any value).
    std::vector<std::int64_t> best(n, INT64_MIN);
    std::vector<int> at_best(n, 0);
    std::vector<int> who(n, none);
    for (std::size_t m = 0; m < previous.size(); ++m) {
      for (const int p : indices(previous[m].first)) {
        const auto i = static_cast<std::size_t>(p);
        const std::int64_t g = previous[m].second;
        if (g > best[i]) {
          best[i] = g;
          at_best[i] = 1;
          who[i] = static_cast<int>(m);
        } else if (g == best[i]) {
          ++at_best[i];
        }
      }
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (at_best[i] == 1 && eligible(who[i], topic_of_[i])) previous_[i] = who[i];
    }
  }

  // The members' raw owned_partitions (cooperative: who may still be consuming what).
  void set_claims(const std::vector<std::vector<TopicPartition>>& claims) {
    for (std::size_t m = 0; m < claims.size(); ++m) {
      for (const int p : indices(claims[m])) {
        const auto i = static_cast<std::size_t>(p);
        if (claimants_[i]++ == 0) first_claimant_[i] = static_cast<int>(m);
      }
    }
  }

  void solve() {
    // Step 1: previous owners keep their partitions.
    std::vector<int> rest;
    for (int p = 0; p < partition_count_; ++p) {
      if (previous_[static_cast<std::size_t>(p)] != none) {
        give(p, previous_[static_cast<std::size_t>(p)]);
      } else {
        rest.push_back(p);
      }
    }
    // Step 2: the rest, hardest to place first, to the least loaded eligible member.
    // (std::sort with the partition as tie-breaker: stable_sort trips clang's deprecation of
    // get_temporary_buffer in libstdc++ 12.)
    std::sort(rest.begin(), rest.end(), [&](int a, int b) {
      const std::size_t sa = subscribers_[static_cast<std::size_t>(topic_of_[static_cast<std::size_t>(a)])].size();
      const std::size_t sb = subscribers_[static_cast<std::size_t>(topic_of_[static_cast<std::size_t>(b)])].size();
      return sa != sb ? sa < sb : a < b;
    });
    for (const int p : rest) {
      int target = none;
      for (const int m : subscribers_[static_cast<std::size_t>(topic_of_[static_cast<std::size_t>(p)])]) {
        if (target == none || load_[static_cast<std::size_t>(m)] < load_[static_cast<std::size_t>(target)]) target = m;
      }
      give(p, target);
    }
    // Step 3: cost-reducing chains, from the most loaded members down.
    while (apply_one_chain()) {
    }
  }

  // The result; with `withhold`, partitions whose previous owner differs and which another
  // member claims are left out (cooperative).
  group_assignment result(bool withhold) const {
    group_assignment out = empty_assignment(members_);
    for (int p = 0; p < partition_count_; ++p) {
      const auto i = static_cast<std::size_t>(p);
      const int m = owner_[i];
      if (m == none) continue;
      if (withhold && previous_[i] != m && (claimants_[i] > 1 || (claimants_[i] == 1 && first_claimant_[i] != m))) {
        continue;
      }
      const auto t = static_cast<std::size_t>(topic_of_[i]);
      out[members_[static_cast<std::size_t>(m)]->member_id].emplace_back(topics_[t], p - offsets_[t]);
    }
    return out;
  }

 private:
  std::vector<int> indices(const std::vector<TopicPartition>& partitions) const {
    std::vector<int> out;
    for (const auto& tp : partitions) {
      const int p = index_of(tp);
      if (p != none) out.push_back(p);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  bool eligible(int m, int t) const {
    const auto& mt = member_topics_[static_cast<std::size_t>(m)];
    return std::binary_search(mt.begin(), mt.end(), t);
  }

  void give(int p, int m) {
    owner_[static_cast<std::size_t>(p)] = m;
    held_[static_cast<std::size_t>(m)].insert(p);
    ++load_[static_cast<std::size_t>(m)];
  }

  void take_away(int p, int m) {
    held_[static_cast<std::size_t>(m)].erase(p);
    --load_[static_cast<std::size_t>(m)];
    owner_[static_cast<std::size_t>(p)] = none;
  }

  // Finds the shortest chain from a member of the highest load L that has one to a member of
  // load <= L - 2, and moves one partition along each link. False when there is none.
  bool apply_one_chain() {
    std::set<int, std::greater<>> loads;
    int lowest = INT_MAX;
    for (std::size_t m = 0; m < members_.size(); ++m) {
      if (member_topics_[m].empty()) continue;  // can never take anything
      loads.insert(load_[m]);
      lowest = std::min(lowest, load_[m]);
    }
    for (const int level : loads) {
      if (level - lowest < 2) break;
      const std::vector<int> path = find_chain(level);
      if (path.empty()) continue;
      for (std::size_t k = 0; k + 1 < path.size(); ++k) move_one(path[k], path[k + 1]);
      return true;
    }
    return false;
  }

  // Breadth-first search from every member of load `level` along "holds a partition of a topic
  // the next member subscribes to"; the members of the chain, source first, or empty.
  std::vector<int> find_chain(int level) const {
    const std::size_t count = members_.size();
    std::vector<int> parent(count, none);
    std::vector<bool> seen(count, false);
    std::deque<int> queue;
    for (std::size_t m = 0; m < count; ++m) {
      if (load_[m] == level) {
        seen[m] = true;
        queue.push_back(static_cast<int>(m));
      }
    }
    while (!queue.empty()) {
      const int x = queue.front();
      queue.pop_front();
      const auto& held = held_[static_cast<std::size_t>(x)];
      // One visit per topic x holds: its partitions are a contiguous index range.
      for (auto it = held.begin(); it != held.end();
           it = held.lower_bound(offsets_[static_cast<std::size_t>(topic_of_[static_cast<std::size_t>(*it)]) + 1])) {
        const auto t = static_cast<std::size_t>(topic_of_[static_cast<std::size_t>(*it)]);
        for (const int y : subscribers_[t]) {
          const auto yi = static_cast<std::size_t>(y);
          if (seen[yi]) continue;
          seen[yi] = true;
          parent[yi] = x;
          if (load_[yi] <= level - 2) {
            std::vector<int> path{y};
            for (int at = x; at != none; at = parent[static_cast<std::size_t>(at)]) path.push_back(at);
            std::reverse(path.begin(), path.end());
            return path;
          }
          queue.push_back(y);
        }
      }
    }
    return {};
  }

  // Moves one partition from `from` to `to` (which subscribes to a topic `from` holds): one
  // `to` owned before if any, else one `from` did not own before, else the first.
  void move_one(int from, int to) {
    int chosen = none;
    int chosen_rank = 3;
    for (const int p : held_[static_cast<std::size_t>(from)]) {
      if (!eligible(to, topic_of_[static_cast<std::size_t>(p)])) continue;
      const int prev = previous_[static_cast<std::size_t>(p)];
      const int rank = prev == to ? 0 : (prev != from ? 1 : 2);
      if (rank < chosen_rank) {
        chosen = p;
        chosen_rank = rank;
        if (rank == 0) break;
      }
    }
    if (chosen == none) return;  // cannot happen: the search only links through held topics
    take_away(chosen, from);
    give(chosen, to);
  }

  const std::vector<const member_subscription*>& members_;
  std::map<std::string, int> topic_index_;
  std::vector<std::string> topics_;
  std::vector<int> offsets_;             // first global index of each topic, then the total
  std::vector<int> topic_of_;            // per partition
  std::vector<std::vector<int>> subscribers_;    // per topic, member indices ascending
  std::vector<std::vector<int>> member_topics_;  // per member, topic indices ascending
  int partition_count_ = 0;
  std::vector<int> previous_;        // per partition: previous owner after step 1, or none
  std::vector<int> owner_;           // per partition: current owner, or none
  std::vector<int> claimants_;       // per partition: members listing it in owned_partitions
  std::vector<int> first_claimant_;  // per partition
  std::vector<int> load_;            // per member
  std::vector<std::set<int>> held_;  // per member
};

class sticky_assignor final : public assignor {
 public:
  explicit sticky_assignor(rebalance_protocol protocol) : protocol_(protocol) {}

  std::string_view name() const override {
    return protocol_ == rebalance_protocol::eager ? "sticky" : "cooperative-sticky";
  }
  rebalance_protocol protocol() const override { return protocol_; }

  group_assignment assign(const partition_counts& partitions,
                          const std::vector<member_subscription>& members) const override {
    const auto unique = unique_members(members);
    sticky_solver solver(partitions, unique);
    std::vector<std::pair<std::vector<TopicPartition>, std::int32_t>> previous;
    std::vector<std::vector<TopicPartition>> claims;
    for (const auto* m : unique) {
      previous.push_back(previous_of(*m));
      claims.push_back(m->owned_partitions);
    }
    solver.set_previous(previous);
    const bool cooperative = protocol_ == rebalance_protocol::cooperative;
    if (cooperative) solver.set_claims(claims);
    solver.solve();
    return solver.result(cooperative);
  }

  std::vector<std::uint8_t> subscription_user_data(const std::vector<TopicPartition>& last_assignment,
                                                   std::int32_t generation) const override {
    if (protocol_ == rebalance_protocol::cooperative) {
      // Java's cooperative assignor sends its generation for leaders older than version 2.
      std::vector<std::uint8_t> out;
      protocol::writer(out).i32(generation);
      return out;
    }
    if (last_assignment.empty() && generation < 0) return {};  // nothing assigned yet: Java sends null
    return encode_sticky_user_data(last_assignment, generation);
  }

 private:
  std::pair<std::vector<TopicPartition>, std::int32_t> previous_of(const member_subscription& m) const {
    if (protocol_ == rebalance_protocol::eager && !m.user_data.empty()) {
      std::vector<TopicPartition> partitions;
      std::int32_t generation = -1;
      if (!decode_sticky_user_data(m.user_data, partitions, generation)) return {{}, -1};
      return {std::move(partitions), generation};
    }
    std::int32_t generation = m.generation;
    if (protocol_ == rebalance_protocol::cooperative && generation < 0 && m.user_data.size() >= 4) {
      protocol::reader r(m.user_data);
      generation = r.i32();
    }
    return {m.owned_partitions, generation};
  }

  rebalance_protocol protocol_;
};

// Reads the topic list of the sticky user data; false if it does not fit.
bool read_topic_partitions(protocol::reader& r, std::vector<TopicPartition>& out) {
  const std::int32_t topics = r.array_length(6);
  for (std::int32_t i = 0; i < topics && r.ok(); ++i) {
    const std::string topic(r.string());
    const std::int32_t n = r.array_length(4);
    for (std::int32_t k = 0; k < n && r.ok(); ++k) out.emplace_back(topic, r.i32());
  }
  return r.ok() && topics >= 0;
}

}  // namespace

std::unique_ptr<assignor> make_sticky_assignor(rebalance_protocol protocol) {
  return std::make_unique<sticky_assignor>(protocol);
}

std::vector<std::uint8_t> encode_sticky_user_data(const std::vector<TopicPartition>& partitions,
                                                  std::int32_t generation) {
  std::map<std::string, std::vector<std::int32_t>> by_topic;
  for (const auto& tp : partitions) by_topic[tp.topic].push_back(tp.partition);
  std::vector<std::uint8_t> out;
  protocol::writer w(out);
  w.array_length(static_cast<std::int32_t>(by_topic.size()));
  for (auto& [topic, list] : by_topic) {
    std::sort(list.begin(), list.end());
    w.string(topic);
    w.array_length(static_cast<std::int32_t>(list.size()));
    for (const std::int32_t p : list) w.i32(p);
  }
  w.i32(generation);
  return out;
}

bool decode_sticky_user_data(std::span<const std::uint8_t> data, std::vector<TopicPartition>& partitions,
                             std::int32_t& generation) {
  {
    protocol::reader r(data);
    std::vector<TopicPartition> found;
    if (read_topic_partitions(r, found)) {
      const std::int32_t g = r.i32();
      if (r.ok()) {
        partitions = std::move(found);
        generation = g;
        return true;
      }
    }
  }
  protocol::reader r(data);
  std::vector<TopicPartition> found;
  if (!read_topic_partitions(r, found)) return false;
  partitions = std::move(found);
  generation = -1;
  return true;
}

}  // namespace asiokafka::consumer::detail
