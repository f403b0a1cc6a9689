#include "net/sansio/metadata_cache.hpp"

#include <algorithm>
#include <set>
#include <utility>

#include "asiokafka/kafka_error.hpp"
#include "protocol/error_class.hpp"

namespace asiokafka::net {

namespace {

using protocol::messages::MetadataResponse;

bool is_zero(const protocol::uuid& id) noexcept {
  return std::ranges::all_of(id, [](std::uint8_t b) { return b == 0; });
}

PartitionMetadata to_partition(const MetadataResponse::MetadataResponsePartition& p) {
  PartitionMetadata out;
  out.partition = p.partition_index;
  out.leader = p.leader_id;
  out.leader_epoch = p.leader_epoch;
  out.replicas = p.replica_nodes;
  out.isr = p.isr_nodes;
  out.offline_replicas = p.offline_replicas;
  out.error = make_kafka_error(p.error_code);
  return out;
}

// The partition with this index in a (const or not) TopicMetadata, or null.
template <class Topic>
auto* find_partition(Topic& t, std::int32_t index) noexcept {
  auto it = std::ranges::lower_bound(t.partitions, index, {}, &PartitionMetadata::partition);
  return it != t.partitions.end() && it->partition == index ? &*it : nullptr;
}

// An error after which the topic is worth asking about again soon: the broker is still
// creating it, electing a leader, or was briefly unable to answer.
bool refresh_worthy(std::error_code ec) noexcept { return protocol::classify(ec).retriable; }

// An error that moves or hides a partition's leadership (the classification table).
bool clears_leader(std::error_code ec) noexcept { return protocol::classify(ec).stale_leader; }

}  // namespace

metadata_cache::metadata_cache(const metadata_cache_config& cfg) : cfg_(cfg) {}

apply_result metadata_cache::apply(const MetadataResponse& r, time_point now,
                                   const metadata_scope& scope) {
  apply_result out;
  urgent_ = false;
  last_refresh_ = now;

  std::vector<BrokerMetadata> brokers;
  brokers.reserve(r.brokers.size());
  for (const auto& b : r.brokers) brokers.push_back({b.node_id, b.host, b.port, b.rack});
  std::ranges::sort(brokers, {}, &BrokerMetadata::node_id);
  out.brokers_changed = brokers != brokers_;
  brokers_ = std::move(brokers);
  out.controller_changed = controller_id_ != r.controller_id;
  controller_id_ = r.controller_id;
  if (r.cluster_id) {
    out.cluster_id_changed = cluster_id_.has_value() && *cluster_id_ != *r.cluster_id;
    cluster_id_ = r.cluster_id;
  }

  std::set<std::string, std::less<>> seen;
  for (const auto& t : r.topics) {
    if (!t.name || t.name->empty()) continue;  // we ask by name; a nameless entry says nothing
    seen.insert(*t.name);
    merge_topic(t, out);
  }

  // A broker answers every topic it was asked about; one it leaves out is gone (as in the
  // Java client, where a full update replaces the snapshot). With null topics, every topic
  // not listed is gone.
  auto drop_absent = [&](const std::string& name) {
    if (seen.contains(name)) return;
    if (topics_.erase(name) != 0) out.removed_topics.push_back(name);
  };
  if (scope.all_topics) {
    for (const auto& name : topic_names()) drop_absent(name);
  } else {
    for (const auto& name : scope.topics) drop_absent(name);
  }

  // A leader missing from the broker list cannot be routed to; the next response may list it.
  for (const auto& [name, t] : topics_) {
    for (const auto& p : t.partitions) {
      if (p.leader >= 0 && broker(p.leader) == nullptr) urgent_ = true;
    }
  }
  return out;
}

void metadata_cache::merge_topic(const MetadataResponse::MetadataResponseTopic& t,
                                 apply_result& out) {
  const std::string& name = *t.name;
  const std::error_code ec = make_kafka_error(t.error_code);
  auto it = topics_.find(name);

  if (ec == kafka_errc::unknown_topic_or_partition || ec == kafka_errc::unknown_topic_id) {
    // Deleted, or not created (yet). Forgetting the entry also forgets its leader epochs, so a
    // re-created topic (epochs from 0 again) is not mistaken for stale (KAFKA-12257).
    if (it != topics_.end()) {
      topics_.erase(it);
      out.removed_topics.push_back(name);
    }
    return;
  }

  if (ec) {
    if (refresh_worthy(ec)) {
      // leader_not_available while the topic is being created, or a passing broker error:
      // keep what we know (routing may still work) and ask again soon.
      urgent_ = true;
      if (it == topics_.end()) {
        it = topics_.emplace(name, TopicMetadata{.name = name}).first;
        out.added_topics.push_back(name);
      }
      it->second.error = ec;
    } else {
      // invalid_topic_exception, topic_authorization_failed, ...: final for this topic until
      // something changes; nothing is routable.
      if (it == topics_.end()) it = topics_.emplace(name, TopicMetadata{.name = name}).first;
      it->second = TopicMetadata{.name = name, .error = ec};
    }
    return;
  }

  const bool is_new = it == topics_.end();
  if (is_new) {
    it = topics_.emplace(name, TopicMetadata{.name = name}).first;
    out.added_topics.push_back(name);
  }
  TopicMetadata& cached = it->second;
  const std::size_t partitions_before = cached.partitions.size();
  const bool recreated =
      !is_zero(t.topic_id) && !is_zero(cached.topic_id) && t.topic_id != cached.topic_id;
  if (recreated) {
    // A new topic under an old name: its epochs restart, so nothing cached is comparable.
    out.recreated_topics.push_back(name);
    cached.partitions.clear();
  }
  if (!is_zero(t.topic_id)) cached.topic_id = t.topic_id;
  cached.is_internal = t.is_internal;
  cached.error = {};

  for (const auto& p : t.partitions) {
    PartitionMetadata incoming = to_partition(p);
    if (incoming.error && refresh_worthy(incoming.error)) urgent_ = true;
    PartitionMetadata* old = find_partition(cached, incoming.partition);
    if (old == nullptr) {
      auto pos = std::ranges::upper_bound(cached.partitions, incoming.partition, {},
                                          &PartitionMetadata::partition);
      out.leader_changed.push_back({name, incoming.partition});
      cached.partitions.insert(pos, std::move(incoming));
      continue;
    }
    // KIP-320: epochs order leadership. A response from a broker that has not yet seen the
    // latest leader change carries an older epoch; keep ours. Without epochs (brokers before
    // Metadata v7 send -1) there is no order, so the newest response wins.
    if (old->leader_epoch >= 0 && incoming.leader_epoch >= 0 &&
        incoming.leader_epoch < old->leader_epoch) {
      out.stale_ignored.push_back({name, incoming.partition});
      continue;
    }
    if (old->leader != incoming.leader || old->leader_epoch != incoming.leader_epoch) {
      out.leader_changed.push_back({name, incoming.partition});
    }
    *old = std::move(incoming);
  }
  // Partitions cached but missing from this answer stay: Kafka never removes partitions from
  // a topic (only the whole topic), so a shorter list comes from a broker that lags behind a
  // partition increase. A re-created topic was cleared above.
  if (!is_new && (cached.partitions.size() != partitions_before || recreated)) {
    out.partition_count_changed.push_back(name);
  }
}

leader_lookup metadata_cache::leader_for(std::string_view topic_name,
                                         std::int32_t partition) const {
  const TopicMetadata* t = topic(topic_name);
  if (t == nullptr) {
    return {leader_status::unknown_topic, nullptr, -1,
            make_error_code(kafka_errc::unknown_topic_or_partition)};
  }
  if (t->partitions.empty() && t->error) return {leader_status::topic_error, nullptr, -1, t->error};
  const PartitionMetadata* p = find_partition(*t, partition);
  if (p == nullptr) {
    return {leader_status::unknown_partition, nullptr, -1,
            make_error_code(kafka_errc::unknown_topic_or_partition)};
  }
  const BrokerMetadata* b = p->leader >= 0 ? broker(p->leader) : nullptr;
  if (b == nullptr) {
    return {leader_status::no_leader, nullptr, p->leader_epoch,
            make_error_code(kafka_errc::leader_not_available)};
  }
  return {leader_status::ok, b, p->leader_epoch, {}};
}

const BrokerMetadata* metadata_cache::broker(std::int32_t id) const {
  auto it = std::ranges::lower_bound(brokers_, id, {}, &BrokerMetadata::node_id);
  return it != brokers_.end() && it->node_id == id ? &*it : nullptr;
}

const TopicMetadata* metadata_cache::topic(std::string_view name) const {
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : &it->second;
}

std::vector<std::string> metadata_cache::topic_names() const {
  std::vector<std::string> out;
  out.reserve(topics_.size());
  for (const auto& [name, t] : topics_) out.push_back(name);
  return out;
}

const BrokerMetadata* metadata_cache::any_broker(const std::function<node_load(std::int32_t)>& load,
                                              std::size_t rotation) const {
  if (brokers_.empty()) return nullptr;
  const BrokerMetadata* best = nullptr;
  node_load best_load;
  const std::size_t n = brokers_.size();
  for (std::size_t i = 0; i < n; ++i) {
    const BrokerMetadata& b = brokers_[(rotation + i) % n];
    const node_load l = load(b.node_id);
    if (!l.usable) continue;
    // Connected beats unconnected; then fewer in-flight requests; ties keep the first seen.
    const bool better = best == nullptr || (l.connected && !best_load.connected) ||
                        (l.connected == best_load.connected && l.in_flight < best_load.in_flight);
    if (better) {
      best = &b;
      best_load = l;
    }
  }
  return best;
}

bool metadata_cache::invalidate(std::string_view topic_name, std::int32_t partition,
                                std::error_code reason) {
  urgent_ = true;
  auto it = topics_.find(topic_name);
  if (it == topics_.end()) return false;
  PartitionMetadata* p = find_partition(it->second, partition);
  if (p == nullptr) return false;
  if (clears_leader(reason)) p->leader = -1;  // the epoch stays: see the header
  return true;
}

bool metadata_cache::invalidate(std::string_view topic_name, std::error_code reason) {
  urgent_ = true;
  auto it = topics_.find(topic_name);
  if (it == topics_.end()) return false;
  if (clears_leader(reason)) {
    for (auto& p : it->second.partitions) p.leader = -1;
  }
  return true;
}

bool metadata_cache::forget(std::string_view topic_name) {
  auto it = topics_.find(topic_name);
  if (it == topics_.end()) return false;
  topics_.erase(it);
  return true;
}

time_point metadata_cache::refresh_due() const noexcept {
  if (!last_refresh_ || urgent_) return time_point::min();
  return *last_refresh_ + cfg_.metadata_max_age;
}

bool metadata_cache::needs_refresh(time_point now) const noexcept { return now >= refresh_due(); }

}  // namespace asiokafka::net
