// The classic group member's requests (classic_member_requests.hpp).
#include "consumer/sansio/classic_member_requests.hpp"

#include <utility>

#include "asiokafka/error.hpp"

namespace asiokafka::consumer {

namespace msg = protocol::messages;

namespace {
std::error_code unsupported() { return make_error_code(client_errc::unsupported_version); }
}  // namespace

std::error_code encode_join_protocols(const send_join& join, const std::vector<std::unique_ptr<assignor>>& assignors,
                                      const std::vector<std::string>& topics,
                                      const std::optional<std::string>& rack_id,
                                      std::vector<msg::JoinGroupRequest::JoinGroupRequestProtocol>& out) {
  std::vector<msg::JoinGroupRequest::JoinGroupRequestProtocol> protocols;
  for (const auto& a : assignors) {
    member_subscription s;
    s.topics = topics;
    s.owned_partitions = join.owned_partitions;
    s.generation = join.owned_generation;
    s.rack_id = rack_id;
    s.user_data = a->subscription_user_data(join.owned_partitions, join.owned_generation);
    msg::JoinGroupRequest::JoinGroupRequestProtocol p;
    p.name = std::string(a->name());
    if (auto ec = encode_subscription(s, p.metadata)) return ec;
    protocols.push_back(std::move(p));
  }
  out = std::move(protocols);
  return {};
}

std::error_code make_request(const send_join& a, const std::string& group_id,
                             std::vector<msg::JoinGroupRequest::JoinGroupRequestProtocol> protocols,
                             std::int16_t version, msg::JoinGroupRequest& out) {
  if (a.group_instance_id && version < 5) return unsupported();
  msg::JoinGroupRequest r;
  r.group_id = group_id;
  r.session_timeout_ms = a.session_timeout_ms;
  if (version >= 1) r.rebalance_timeout_ms = a.rebalance_timeout_ms;
  r.member_id = a.member_id;
  r.group_instance_id = a.group_instance_id;
  r.protocol_type = "consumer";
  if (version >= 8 && !a.reason.empty()) r.reason = a.reason;
  r.protocols = std::move(protocols);
  out = std::move(r);
  return {};
}

std::error_code make_request(const send_sync& a, const std::string& group_id, std::int16_t version,
                             msg::SyncGroupRequest& out) {
  if (a.group_instance_id && version < 3) return unsupported();
  msg::SyncGroupRequest r;
  r.group_id = group_id;
  r.generation_id = a.generation;
  r.member_id = a.member_id;
  r.group_instance_id = a.group_instance_id;
  if (version >= 5) {
    r.protocol_type = a.protocol_type;
    r.protocol_name = a.protocol_name;
  }
  for (const auto& [member, bytes] : a.assignments) {
    msg::SyncGroupRequest::SyncGroupRequestAssignment x;
    x.member_id = member;
    x.assignment = bytes;
    r.assignments.push_back(std::move(x));
  }
  out = std::move(r);
  return {};
}

std::error_code make_request(const send_heartbeat& a, const std::string& group_id, std::int16_t version,
                             msg::HeartbeatRequest& out) {
  if (a.group_instance_id && version < 3) return unsupported();
  msg::HeartbeatRequest r;
  r.group_id = group_id;
  r.generation_id = a.generation;
  r.member_id = a.member_id;
  r.group_instance_id = a.group_instance_id;
  out = std::move(r);
  return {};
}

std::error_code make_request(const send_leave& a, const std::string& group_id, std::int16_t version,
                             msg::LeaveGroupRequest& out) {
  if (a.group_instance_id && version < 3) return unsupported();
  msg::LeaveGroupRequest r;
  r.group_id = group_id;
  if (version < 3) {
    r.member_id = a.member_id;
  } else {
    msg::LeaveGroupRequest::MemberIdentity m;
    m.member_id = a.member_id;
    m.group_instance_id = a.group_instance_id;
    if (version >= 5 && !a.reason.empty()) m.reason = a.reason;
    r.members.push_back(std::move(m));
  }
  out = std::move(r);
  return {};
}

}  // namespace asiokafka::consumer
