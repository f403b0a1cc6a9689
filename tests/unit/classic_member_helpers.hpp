// Test helpers for consumer::classic_member: responses, a harness that expects actions, and a
// fake coordinator that answers every request successfully (for "it gets back to stable").
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "asiokafka/error.hpp"
#include "asiokafka/kafka_error.hpp"
#include "consumer/sansio/classic_member.hpp"

namespace asiokafka::test::member {

using namespace std::chrono_literals;
using consumer::classic_member;
using consumer::classic_member_config;
using consumer::member_action;
using consumer::member_state;
using consumer::rebalance_protocol;
namespace msg = protocol::messages;
using tps = std::vector<TopicPartition>;

inline const TopicPartition a0{"a", 0}, a1{"a", 1}, a2{"a", 2}, b0{"b", 0};
inline const net::time_point t0 = net::time_point{} + 1000h;
inline constexpr net::time_point forever = net::time_point::max();

inline std::string action_name(const member_action& a) {
  static constexpr const char* names[] = {"send_join", "run_assignment", "send_sync", "send_heartbeat", "send_leave",
                                          "revoke",    "assign",         "wait_until", "idle",          "failed"};
  return names[a.index()];
}

inline classic_member_config config(rebalance_protocol p = rebalance_protocol::eager,
                                    std::optional<std::string> instance = std::nullopt) {
  classic_member_config c;
  c.group_id = "g";
  c.group_instance_id = std::move(instance);
  c.protocol = p;
  return c;
}

inline std::vector<std::uint8_t> subscription_bytes(const std::vector<std::string>& topics, const tps& owned = {},
                                                    std::int32_t generation = -1) {
  consumer::member_subscription s;
  s.topics = topics;
  s.owned_partitions = owned;
  s.generation = generation;
  std::vector<std::uint8_t> out;
  EXPECT_FALSE(consumer::encode_subscription(s, out));
  return out;
}

inline std::vector<std::uint8_t> assignment_bytes(const tps& parts) {
  std::vector<std::uint8_t> out;
  EXPECT_FALSE(consumer::encode_assignment(consumer::member_assignment{parts, {}}, out));
  return out;
}

using member_list = std::vector<std::pair<std::string, std::vector<std::string>>>;

inline msg::JoinGroupResponse join_ok(std::int32_t generation, const std::string& member, const std::string& leader,
                                      const member_list& members = {}) {
  msg::JoinGroupResponse r;
  r.generation_id = generation;
  r.protocol_type = "consumer";
  r.protocol_name = "range";
  r.leader = leader;
  r.member_id = member;
  for (const auto& m : members) {
    msg::JoinGroupResponse::JoinGroupResponseMember x;
    x.member_id = m.first;
    x.metadata = subscription_bytes(m.second);
    r.members.push_back(std::move(x));
  }
  return r;
}

inline msg::JoinGroupResponse join_error(kafka_errc e, const std::string& member = "") {
  msg::JoinGroupResponse r;
  r.error_code = static_cast<std::int16_t>(e);
  r.member_id = member;
  return r;
}

inline msg::SyncGroupResponse sync_ok(const tps& parts) {
  msg::SyncGroupResponse r;
  r.protocol_type = "consumer";
  r.protocol_name = "range";
  r.assignment = assignment_bytes(parts);
  return r;
}

inline msg::SyncGroupResponse sync_error(kafka_errc e) {
  msg::SyncGroupResponse r;
  r.error_code = static_cast<std::int16_t>(e);
  return r;
}

inline msg::HeartbeatResponse heartbeat(kafka_errc e = kafka_errc::none) {
  msg::HeartbeatResponse r;
  r.error_code = static_cast<std::int16_t>(e);
  return r;
}

inline msg::LeaveGroupResponse leave_ok() { return {}; }

// The member and a clock; expect<T>() asserts the next action's kind.
struct harness {
  explicit harness(classic_member_config c) : m(std::move(c)) {}
  classic_member m;
  net::time_point now = t0;

  template <class T>
  T expect() {
    const member_action a = m.next(now);
    EXPECT_TRUE(std::holds_alternative<T>(a)) << "got " << action_name(a) << " in state "
                                              << static_cast<int>(m.state());
    if (auto* p = std::get_if<T>(&a)) return *p;
    return T{};
  }
  // The next action is wait_until; returns its time.
  net::time_point expect_wait() { return expect<consumer::wait_until>().when; }
};

// Answers every request successfully, as a one-member group (or a follower of "leader-x")
// that assigns `parts` to us. Used to check that the member gets back to stable.
struct fake_coordinator {
  std::int32_t generation = 0;
  bool leader = true;
  bool require_member_id = true;
  tps parts{a0, a1, a2};
  std::vector<std::uint8_t> leader_sync;  // what the leader sent for itself

  // Answers `a` (already taken from next()) at `h.now`. Returns false for idle/failed and for
  // a wait with nothing to wait for (stuck).
  bool answer(harness& h, const member_action& a) {
    auto& m = h.m;
    if (auto* j = std::get_if<consumer::send_join>(&a)) {
      if (j->member_id.empty() && require_member_id && !j->group_instance_id) {
        m.on_join_response(join_error(kafka_errc::member_id_required, "m-" + std::to_string(generation + 1)), h.now);
        return true;
      }
      const std::string id = j->member_id.empty() ? "m-s" : j->member_id;
      ++generation;
      const member_list members = leader ? member_list{{id, {"a"}}} : member_list{};
      m.on_join_response(join_ok(generation, id, leader ? id : "leader-x", members), h.now);
      return true;
    }
    if (auto* r = std::get_if<consumer::run_assignment>(&a)) {
      std::map<std::string, consumer::member_assignment> out;
      for (const auto& s : r->members) out[s.member_id] = consumer::member_assignment{parts, {}};
      m.on_assignment_computed(out, h.now);
      return true;
    }
    if (auto* s = std::get_if<consumer::send_sync>(&a)) {
      auto resp = sync_ok(parts);
      for (const auto& x : s->assignments)
        if (x.first == s->member_id) resp.assignment = x.second;
      m.on_sync_response(resp, h.now);
      return true;
    }
    if (std::holds_alternative<consumer::send_heartbeat>(a)) {
      m.on_heartbeat_response(heartbeat(), h.now);
      return true;
    }
    if (std::holds_alternative<consumer::send_leave>(a)) {
      m.on_leave_response(leave_ok(), h.now);
      return true;
    }
    if (std::holds_alternative<consumer::revoke>(a)) {
      m.revocation_done(h.now);
      return true;
    }
    if (std::holds_alternative<consumer::assign>(a)) {
      m.assignment_done(h.now);
      return true;
    }
    if (auto* w = std::get_if<consumer::wait_until>(&a)) {
      if (w->when == forever) return false;
      h.now = std::max(h.now, w->when);
      m.polled(h.now);  // an application that keeps polling
      return true;
    }
    return false;
  }

  // Drives the member with successful answers until it is stable with the whole assignment
  // and no listener pending; at most `steps` actions.
  bool to_stable(harness& h, int steps = 40) {
    for (int i = 0; i < steps; ++i) {
      if (h.m.state() == member_state::stable && h.m.assignment() == parts && h.m.generation() == generation) {
        const member_action a = h.m.next(h.now);
        if (std::holds_alternative<consumer::wait_until>(a) || std::holds_alternative<consumer::send_heartbeat>(a)) {
          if (!answer(h, a)) return false;
          return true;
        }
        if (!answer(h, a)) return false;
        continue;
      }
      if (!answer(h, h.m.next(h.now))) return false;
    }
    return false;
  }
};

}  // namespace asiokafka::test::member
