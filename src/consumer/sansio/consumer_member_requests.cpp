// The KIP-848 member's request (consumer_member_requests.hpp).
#include "consumer/sansio/consumer_member_requests.hpp"

#include <utility>

#include "asiokafka/error.hpp"

namespace asiokafka::consumer {

namespace msg = protocol::messages;

std::error_code make_request(const send_consumer_heartbeat& a, std::int16_t version,
                             msg::ConsumerGroupHeartbeatRequest& out) {
  if (version < msg::ConsumerGroupHeartbeatRequest::min_version ||
      version > msg::ConsumerGroupHeartbeatRequest::max_version)
    return make_error_code(client_errc::unsupported_version);
  if (version < 1 && a.subscribed_topic_regex && !a.subscribed_topic_regex->empty())
    return make_error_code(client_errc::unsupported_version);
  msg::ConsumerGroupHeartbeatRequest r;
  r.group_id = a.group_id;
  r.member_id = a.member_id;
  r.member_epoch = a.member_epoch;
  r.instance_id = a.instance_id;
  r.rack_id = a.rack_id;
  r.rebalance_timeout_ms = a.rebalance_timeout_ms;
  r.subscribed_topic_names = a.subscribed_topic_names;
  if (version >= 1) r.subscribed_topic_regex = a.subscribed_topic_regex;
  r.server_assignor = a.server_assignor;
  if (a.topic_partitions) {
    std::vector<msg::ConsumerGroupHeartbeatRequest::TopicPartitions> tps;
    for (const auto& t : *a.topic_partitions) {
      msg::ConsumerGroupHeartbeatRequest::TopicPartitions x;
      x.topic_id = t.topic_id;
      x.partitions = t.partitions;
      tps.push_back(std::move(x));
    }
    r.topic_partitions = std::move(tps);
  }
  out = std::move(r);
  return {};
}

}  // namespace asiokafka::consumer
