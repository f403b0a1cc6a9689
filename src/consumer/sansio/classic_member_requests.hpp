// Requests for the classic group member's send_* actions (classic_member.hpp), in the version
// the broker negotiated: fields a version lacks are left out (a reason before JoinGroup v8 or
// LeaveGroup v5), except a static member's instance id, which needs JoinGroup v5 / SyncGroup
// and Heartbeat v3 / LeaveGroup v3: older versions give client_errc::unsupported_version
// (Java's rule), to pass to on_request_failed() (fatal).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "consumer/sansio/classic_member.hpp"

namespace asiokafka::consumer {

/// JoinGroup's protocols: for each assignor (in preference order) its name and this member's
/// subscription (topics, the owned partitions and generation of `join`, rack, the assignor's
/// user data).
std::error_code encode_join_protocols(const send_join& join, const std::vector<std::unique_ptr<assignor>>& assignors,
                                      const std::vector<std::string>& topics,
                                      const std::optional<std::string>& rack_id,
                                      std::vector<protocol::messages::JoinGroupRequest::JoinGroupRequestProtocol>& out);

/// protocol_type is "consumer"; the protocols come from encode_join_protocols().
std::error_code make_request(const send_join& a, const std::string& group_id,
                             std::vector<protocol::messages::JoinGroupRequest::JoinGroupRequestProtocol> protocols,
                             std::int16_t version, protocol::messages::JoinGroupRequest& out);
std::error_code make_request(const send_sync& a, const std::string& group_id, std::int16_t version,
                             protocol::messages::SyncGroupRequest& out);
std::error_code make_request(const send_heartbeat& a, const std::string& group_id, std::int16_t version,
                             protocol::messages::HeartbeatRequest& out);
std::error_code make_request(const send_leave& a, const std::string& group_id, std::int16_t version,
                             protocol::messages::LeaveGroupRequest& out);

}  // namespace asiokafka::consumer
