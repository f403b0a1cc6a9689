// Shared by the consumer-group suites: the group protocol a run uses, the members' common
// configuration and the "stable and split" check.
//
// CTest runs every group suite twice: as built (classic) and, under the name <suite>.kip848.*,
// with ASIOKAFKA_GROUP_PROTOCOL=consumer (KIP-848), less the tests about the classic protocol
// alone (asiokafka_group_test in tests/CMakeLists.txt).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "asiokafka/consumer.hpp"

namespace asiokafka::test {

/// ASIOKAFKA_GROUP_PROTOCOL: unset or "classic", or "consumer". Anything else throws, so a
/// misspelt run cannot pass as the classic one.
inline GroupProtocol group_protocol_under_test() {
  const char* v = std::getenv("ASIOKAFKA_GROUP_PROTOCOL");
  const std::string s = v ? v : "";
  if (s.empty() || s == "classic") return GroupProtocol::classic;
  if (s == "consumer") return GroupProtocol::consumer;
  throw std::invalid_argument("ASIOKAFKA_GROUP_PROTOCOL must be classic or consumer, not " + s);
}

inline bool kip848_under_test() { return group_protocol_under_test() == GroupProtocol::consumer; }

/// The protocol as the example programs' --group-protocol value.
inline const char* group_protocol_name() { return kip848_under_test() ? "consumer" : "classic"; }

/// A group member's options in the group suites: short session and heartbeat (the rig's
/// KIP-848 coordinator uses 6 s and 1 s too, rig/kafkarig.py), earliest, the run's protocol.
inline ConsumerConfig group_test_config(const std::string& bootstrap, const std::string& group) {
  using namespace std::chrono_literals;
  ConsumerConfig c;
  c.bootstrap_servers = bootstrap;
  c.group_id = group;
  c.auto_offset_reset = AutoOffsetReset::earliest;
  c.session_timeout = 6'000ms;
  c.heartbeat_interval = 500ms;
  c.auto_commit_interval = 500ms;
  c.group_protocol = group_protocol_under_test();
  return c;
}

/// Every member stable, each partition held by exactly one. Classic: all in one generation.
/// KIP-848: epochs are per member, and the coordinator moves partitions in steps (revoke,
/// then assign) through stable but unbalanced moments, so the shares must be even (within one).
inline bool stable_split(const std::vector<GroupStatus>& members, std::size_t partitions) {
  std::set<TopicPartition> all;
  std::set<std::int32_t> generations;
  std::size_t total = 0;
  std::size_t least = partitions;
  std::size_t most = 0;
  for (const auto& s : members) {
    if (s.state != GroupState::stable || s.protocol != group_protocol_under_test()) return false;
    generations.insert(s.generation);
    total += s.assignment.size();
    least = std::min(least, s.assignment.size());
    most = std::max(most, s.assignment.size());
    all.insert(s.assignment.begin(), s.assignment.end());
  }
  if (total != partitions || all.size() != partitions) return false;
  return kip848_under_test() ? most - least <= 1 : generations.size() == 1;
}

}  // namespace asiokafka::test
