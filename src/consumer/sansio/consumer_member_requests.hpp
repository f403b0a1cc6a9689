// The ConsumerGroupHeartbeat request for consumer_member's send_consumer_heartbeat action, in the
// version the broker negotiated. A regex subscription needs v1 (SubscribedTopicRegex): v0 gives
// client_errc::unsupported_version (Java's rule), to pass to on_request_failed() (fatal); the
// removal of a regex ("") is left out at v0, where no regex can have been sent.
#pragma once

#include <cstdint>
#include <system_error>

#include "asiokafka/protocol/messages/consumer_group_heartbeat.hpp"
#include "consumer/sansio/consumer_member.hpp"

namespace asiokafka::consumer {

std::error_code make_request(const send_consumer_heartbeat& a, std::int16_t version,
                             protocol::messages::ConsumerGroupHeartbeatRequest& out);

}  // namespace asiokafka::consumer
