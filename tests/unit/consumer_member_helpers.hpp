// Test helpers for consumer::consumer_member (KIP-848): answers, a harness that expects actions,
// and a fake coordinator that answers every heartbeat successfully with a target assignment.
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
#include "consumer/sansio/consumer_member.hpp"

namespace asiokafka::test::kip848 {

using namespace std::chrono_literals;
using consumer::consumer_member;
using consumer::consumer_member_action;
using consumer::consumer_member_config;
using consumer::member_state;
using consumer::send_consumer_heartbeat;
namespace msg = protocol::messages;
using tps = std::vector<TopicPartition>;
using uuid = protocol::uuid;

inline const uuid id_a{1}, id_b{2}, id_c{3};
inline const std::map<uuid, std::string> all_names{{id_a, "a"}, {id_b, "b"}, {id_c, "c"}};
inline const TopicPartition a0{"a", 0}, a1{"a", 1}, a2{"a", 2}, b0{"b", 0}, c0{"c", 0};
inline const net::time_point t0 = net::time_point{} + 1000h;
inline constexpr net::time_point forever = net::time_point::max();

inline std::string action_name(const consumer_member_action& a) {
  static constexpr const char* names[] = {"heartbeat", "resolve_topics", "revoke", "assign",
                                          "wait_until", "idle",          "failed"};
  return names[a.index()];
}

inline consumer_member_config config(std::optional<std::string> instance = std::nullopt) {
  consumer_member_config c;
  c.group_id = "g";
  c.member_id = "mid-1";
  c.group_instance_id = std::move(instance);
  c.rack_id = "r1";
  c.server_assignor = "uniform";
  return c;
}

inline consumer::group_subscription topics(std::vector<std::string> t) { return {std::move(t), std::nullopt}; }
inline consumer::group_subscription regex(std::string r) { return {{}, std::move(r)}; }

using id_parts = std::vector<std::pair<uuid, std::vector<std::int32_t>>>;

inline msg::ConsumerGroupHeartbeatResponse hb_ok(std::int32_t epoch, std::optional<id_parts> assignment = std::nullopt,
                                                 std::int32_t interval_ms = 2000) {
  msg::ConsumerGroupHeartbeatResponse r;
  r.member_id = "mid-1";
  r.member_epoch = epoch;
  r.heartbeat_interval_ms = interval_ms;
  if (assignment) {
    msg::ConsumerGroupHeartbeatResponse::Assignment a;
    for (const auto& [id, parts] : *assignment) {
      msg::ConsumerGroupHeartbeatResponse::TopicPartitions t;
      t.topic_id = id;
      t.partitions = parts;
      a.topic_partitions.push_back(std::move(t));
    }
    r.assignment = std::move(a);
  }
  return r;
}

inline msg::ConsumerGroupHeartbeatResponse hb_error(kafka_errc e) {
  msg::ConsumerGroupHeartbeatResponse r;
  r.error_code = static_cast<std::int16_t>(e);
  return r;
}

// The owned partitions a heartbeat reports, as (id, partitions) pairs.
inline id_parts reported(const send_consumer_heartbeat& h) {
  id_parts out;
  if (h.topic_partitions)
    for (const auto& t : *h.topic_partitions) out.emplace_back(t.topic_id, t.partitions);
  return out;
}

// The member and a clock; expect<T>() asserts the next action's kind.
struct harness {
  explicit harness(consumer_member_config c) : m(std::move(c)) {}
  consumer_member m;
  net::time_point now = t0;

  template <class T>
  T expect() {
    const consumer_member_action a = m.next(now);
    EXPECT_TRUE(std::holds_alternative<T>(a)) << "got " << action_name(a) << " in state "
                                              << static_cast<int>(m.state());
    if (auto* p = std::get_if<T>(&a)) return *p;
    return T{};
  }
  // The next action is wait_until; returns its time, which must be ahead (else a caller spins).
  net::time_point expect_wait() {
    const auto when = expect<consumer::wait_until>().when;
    EXPECT_GT(when, now) << "a wait for nothing";
    return when;
  }
};

// Start, join with `epoch`, take `assignment` (names known), acknowledge it: stable.
inline void join(harness& h, const id_parts& assignment, std::int32_t epoch = 1) {
  h.m.topics_resolved(all_names, h.now);
  h.m.start(topics({"a", "b", "c"}), h.now);
  const auto j = h.expect<send_consumer_heartbeat>();
  ASSERT_EQ(j.member_epoch, 0);
  h.m.on_heartbeat_response(hb_ok(epoch, assignment), h.now);
  h.expect<consumer::assign>();
  h.m.assignment_done(h.now);
  const auto ack = h.expect<send_consumer_heartbeat>();
  EXPECT_EQ(ack.member_epoch, epoch);
  EXPECT_EQ(reported(ack), assignment);
  h.m.on_heartbeat_response(hb_ok(epoch), h.now);
  ASSERT_EQ(h.m.state(), member_state::stable);
}

// Answers every heartbeat successfully as a coordinator assigning `target` (bumping the epoch
// whenever it changes); knows every topic name; finishes listener calls at once; polls.
struct fake_coordinator {
  std::int32_t epoch = 0;
  id_parts target{{id_a, {0, 1}}};
  bool target_sent = false;  // since the member's last join
  int heartbeats = 0;        // regular ones answered

  void change_target(id_parts t) {
    target = std::move(t);
    target_sent = false;
    ++epoch;
  }

  // Answers `a` (already taken from next()) at h.now. False for idle/failed and for a wait with
  // nothing to wait for (stuck).
  bool answer(harness& h, const consumer_member_action& a) {
    auto& m = h.m;
    if (auto* hb = std::get_if<send_consumer_heartbeat>(&a)) {
      if (hb->member_epoch < 0) {
        m.on_heartbeat_response(hb_ok(hb->member_epoch), h.now);
        return true;
      }
      if (hb->member_epoch == 0) {
        ++epoch;
        target_sent = false;
      } else {
        ++heartbeats;
      }
      const bool send = !target_sent;
      target_sent = true;
      m.on_heartbeat_response(hb_ok(epoch, send ? std::optional<id_parts>(target) : std::nullopt), h.now);
      return true;
    }
    if (std::holds_alternative<consumer::resolve_topics>(a)) {
      m.topics_resolved(all_names, h.now);
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
      EXPECT_GT(w->when, h.now) << "a wait for nothing";
      h.now = std::max(h.now, w->when);
      m.polled(h.now);  // an application that keeps polling
      return true;
    }
    return false;
  }

  // The partitions `target` names.
  tps target_partitions() const {
    tps out;
    for (const auto& [id, parts] : target)
      for (auto p : parts) out.emplace_back(all_names.at(id), p);
    std::sort(out.begin(), out.end());
    return out;
  }

  // Drives the member with successful answers until it is stable owning the whole target with
  // the coordinator's epoch and nothing left but waiting; at most `steps` actions.
  bool to_stable(harness& h, int steps = 40) {
    for (int i = 0; i < steps; ++i) {
      const consumer_member_action a = h.m.next(h.now);
      if (std::holds_alternative<consumer::wait_until>(a) && h.m.state() == member_state::stable &&
          h.m.assignment() == target_partitions() && h.m.member_epoch() == epoch)
        return true;
      if (!answer(h, a)) return false;
    }
    return false;
  }
};

}  // namespace asiokafka::test::kip848
