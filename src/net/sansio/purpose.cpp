// Which connection a request travels on (metadata.hpp: purpose_of), and the lookups of the
// public ClusterMetadata snapshot.
#include "asiokafka/metadata.hpp"

namespace asiokafka {

ConnectionPurpose purpose_of(std::int16_t api_key) noexcept {
  switch (api_key) {
    case 0: return ConnectionPurpose::produce;  // Produce
    case 1: return ConnectionPurpose::fetch;    // Fetch
    case 8:                                     // OffsetCommit
    case 9:                                     // OffsetFetch
    case 11:                                    // JoinGroup
    case 12:                                    // Heartbeat
    case 13:                                    // LeaveGroup
    case 14:                                    // SyncGroup
    case 28:                                    // TxnOffsetCommit
    case 68:                                    // ConsumerGroupHeartbeat
      return ConnectionPurpose::group;
    default: return ConnectionPurpose::other;
  }
}

const BrokerMetadata* ClusterMetadata::broker(std::int32_t node_id) const& noexcept {
  for (const auto& b : brokers) {
    if (b.node_id == node_id) return &b;
  }
  return nullptr;
}

const TopicMetadata* ClusterMetadata::topic(std::string_view name) const& noexcept {
  for (const auto& t : topics) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

}  // namespace asiokafka
