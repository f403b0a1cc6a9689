// consumer::classic_member under failures: (1) a script (join, heartbeats, a rebalance, leave)
// run once per request with that request failing with each error class, checking the next
// action against the error table and that the member gets back to stable and leaves; (2)
// seeded random schedules (answers delayed and reordered, errors, time, polls, subscription
// changes) checking the invariants, then only successes: stable again within a bound.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "classic_member_helpers.hpp"

namespace asiokafka::test::member {
namespace {

struct failure {
  const char* name;
  std::error_code ec;
  bool transport;  // delivered through on_request_failed, not in a response
};

const failure failures[] = {
    {"timeout", make_error_code(client_errc::timeout), true},
    {"connection_lost", make_error_code(client_errc::connection_lost), true},
    {"not_coordinator", make_error_code(kafka_errc::not_coordinator), false},
    {"coordinator_loading", make_error_code(kafka_errc::coordinator_load_in_progress), false},
    {"rebalance_in_progress", make_error_code(kafka_errc::rebalance_in_progress), false},
    {"unknown_member_id", make_error_code(kafka_errc::unknown_member_id), false},
    {"illegal_generation", make_error_code(kafka_errc::illegal_generation), false},
    {"fenced_instance_id", make_error_code(kafka_errc::fenced_instance_id), false},
    {"group_authorization_failed", make_error_code(kafka_errc::group_authorization_failed), false},
};

bool is(std::error_code ec, kafka_errc e) { return ec == make_error_code(e); }

// Delivers `f` as the answer to request `a`.
void fail(harness& h, const member_action& a, const failure& f) {
  const auto code = static_cast<std::int16_t>(f.ec.value());
  auto& m = h.m;
  if (std::holds_alternative<consumer::send_join>(a)) {
    if (f.transport) m.on_request_failed(consumer::group_request::join, f.ec, h.now);
    else m.on_join_response(join_error(static_cast<kafka_errc>(code)), h.now);
  } else if (std::holds_alternative<consumer::send_sync>(a)) {
    if (f.transport) m.on_request_failed(consumer::group_request::sync, f.ec, h.now);
    else m.on_sync_response(sync_error(static_cast<kafka_errc>(code)), h.now);
  } else if (std::holds_alternative<consumer::send_heartbeat>(a)) {
    if (f.transport) m.on_request_failed(consumer::group_request::heartbeat, f.ec, h.now);
    else m.on_heartbeat_response(heartbeat(static_cast<kafka_errc>(code)), h.now);
  } else {
    msg::LeaveGroupResponse r;
    r.error_code = code;
    if (f.transport) m.on_request_failed(consumer::group_request::leave, f.ec, h.now);
    else m.on_leave_response(r, h.now);
  }
}

bool is_request(const member_action& a) {
  return std::holds_alternative<consumer::send_join>(a) || std::holds_alternative<consumer::send_sync>(a) ||
         std::holds_alternative<consumer::send_heartbeat>(a) || std::holds_alternative<consumer::send_leave>(a);
}

// The error table: what next() must say right after request `a` failed with `f`, the member
// holding `owned` with member id `id` and using protocol `p`. Returns that action.
member_action check_next_after(harness& h, const member_action& a, const failure& f, const tps& owned,
                               const std::string& id, rebalance_protocol p) {
  const member_action next = h.m.next(h.now);
  [&] {
  const std::string where = action_name(a) + " failed with " + f.name + ", then " + action_name(next);
  if (std::holds_alternative<consumer::send_leave>(a)) {
    EXPECT_TRUE(std::holds_alternative<consumer::idle>(next)) << where;  // a leave is never retried
    return;
  }
  if (is(f.ec, kafka_errc::fenced_instance_id) || is(f.ec, kafka_errc::group_authorization_failed)) {
    ASSERT_TRUE(std::holds_alternative<consumer::failed>(next)) << where;
    EXPECT_EQ(std::get<consumer::failed>(next).error, f.ec);
    return;
  }
  if (is(f.ec, kafka_errc::unknown_member_id) || is(f.ec, kafka_errc::illegal_generation)) {
    if (!owned.empty()) {
      ASSERT_TRUE(std::holds_alternative<consumer::revoke>(next)) << where;
      EXPECT_TRUE(std::get<consumer::revoke>(next).lost) << where;
      EXPECT_EQ(std::get<consumer::revoke>(next).partitions, owned) << where;
    } else {
      ASSERT_TRUE(std::holds_alternative<consumer::send_join>(next)) << where;
      EXPECT_EQ(std::get<consumer::send_join>(next).member_id, is(f.ec, kafka_errc::unknown_member_id) ? "" : id)
          << where;
    }
    return;
  }
  if (is(f.ec, kafka_errc::rebalance_in_progress)) {
    if (p == rebalance_protocol::eager && !owned.empty()) {
      ASSERT_TRUE(std::holds_alternative<consumer::revoke>(next)) << where;
      EXPECT_FALSE(std::get<consumer::revoke>(next).lost) << where;
    } else {
      ASSERT_TRUE(std::holds_alternative<consumer::send_join>(next)) << where;
      EXPECT_EQ(std::get<consumer::send_join>(next).owned_partitions, owned) << where;
    }
    return;
  }
  // Coordinator moved or loading, timeout, connection lost: the same step after the backoff.
  ASSERT_TRUE(std::holds_alternative<consumer::wait_until>(next)) << where;
  EXPECT_EQ(std::get<consumer::wait_until>(next).when, h.now + 100ms) << where;
  }();
  return next;
}

// The script with its `inject_at`-th request failing with `f` (-1: none). Returns the number
// of requests the script made.
int run_script(rebalance_protocol p, bool is_static, bool leader, int inject_at, const failure* f) {
  harness h(config(p, is_static ? std::optional<std::string>("inst") : std::nullopt));
  fake_coordinator c;
  c.leader = leader;
  int requests = 0, stage = 0, heartbeats = 0;
  std::int32_t generation_before = 0;
  h.m.start(h.now);
  for (int step = 0; step < 400; ++step) {
    const bool stable = h.m.state() == member_state::stable && h.m.assignment() == c.parts &&
                        h.m.generation() == c.generation;
    if (stage == 0 && stable) {
      stage = 1;
    } else if (stage == 1 && heartbeats >= 2) {
      h.m.subscription_changed(h.now);
      generation_before = c.generation;
      stage = 2;
    } else if (stage == 2 && stable && c.generation > generation_before) {
      h.m.leave(h.now);
      stage = 3;
    }
    const tps owned = h.m.assignment();
    const std::string id = h.m.member_id();
    member_action a = h.m.next(h.now);
    if (stage == 3 && std::holds_alternative<consumer::idle>(a)) return requests;
    if (is_request(a) && requests++ == inject_at) {
      fail(h, a, *f);
      const member_action failed_request = a;
      a = check_next_after(h, failed_request, *f, owned, id, p);
      if (testing::Test::HasFatalFailure()) return requests;
      if (f->ec == make_error_code(kafka_errc::fenced_instance_id) ||
          f->ec == make_error_code(kafka_errc::group_authorization_failed)) {
        // Fatal unless the leave was the one failing; leave() still ends it.
        if (!std::holds_alternative<consumer::send_leave>(failed_request)) {
          h.m.leave(h.now);
          for (int i = 0; i < 5; ++i)
            if (!c.answer(h, h.m.next(h.now))) break;
          EXPECT_EQ(h.m.state(), member_state::stopped);
          return requests;
        }
      }
      if (stage == 3 && std::holds_alternative<consumer::idle>(a)) return requests;
      if (is_request(a)) ++requests;
    }
    if (std::holds_alternative<consumer::send_heartbeat>(a) && stage == 1) ++heartbeats;
    if (!c.answer(h, a)) {
      ADD_FAILURE() << "stuck at " << action_name(a) << " in stage " << stage << " state "
                    << static_cast<int>(h.m.state());
      return requests;
    }
  }
  ADD_FAILURE() << "the script did not finish; stage " << stage;
  return requests;
}

TEST(ClassicMemberFaults, FailureAtEveryRequestWithEveryErrorClass) {
  for (auto p : {rebalance_protocol::eager, rebalance_protocol::cooperative})
    for (bool is_static : {false, true})
      for (bool leader : {false, true}) {
        const int total = run_script(p, is_static, leader, -1, nullptr);
        ASSERT_GE(total, 6);
        for (int k = 0; k < total; ++k)
          for (const auto& f : failures) {
            SCOPED_TRACE(testing::Message() << (p == rebalance_protocol::eager ? "eager" : "cooperative")
                                            << (is_static ? " static" : " dynamic") << (leader ? " leader" : " follower")
                                            << " request " << k << " " << f.name);
            run_script(p, is_static, leader, k, &f);
          }
      }
}

// Random schedules: several requests of different kinds outstanding, answered late and out
// of order, listener calls finishing late.
struct random_run {
  harness h;
  fake_coordinator c;
  std::mt19937 rng;
  std::vector<member_action> outstanding;  // requests sent, not answered
  std::optional<member_action> listener;   // revoke/assign running
  tps owned;                               // what the application holds
  std::int32_t max_generation = -1;
  std::optional<member_action> pending_assignment;  // run_assignment not computed yet

  random_run(rebalance_protocol p, bool is_static, unsigned seed)
      : h([&] {
          auto cfg = config(p, is_static ? std::optional<std::string>("inst") : std::nullopt);
          cfg.session_timeout = 10s;
          cfg.max_poll_interval = 30s;
          return cfg;
        }()),
        rng(seed) {}

  std::uint32_t roll(std::uint32_t n) { return std::uniform_int_distribution<std::uint32_t>(0, n - 1)(rng); }

  void check(const member_action& a) {
    const auto state = h.m.state();
    if (is_request(a)) {
      for (const auto& o : outstanding) ASSERT_NE(o.index(), a.index()) << "two " << action_name(a) << " outstanding";
    }
    if (std::holds_alternative<consumer::send_heartbeat>(a)) {
      ASSERT_TRUE(state == member_state::stable || state == member_state::revoking || state == member_state::assigning)
          << static_cast<int>(state);
      for (const auto& o : outstanding) {
        ASSERT_FALSE(std::holds_alternative<consumer::send_join>(o)) << "heartbeat during a join";
        ASSERT_FALSE(std::holds_alternative<consumer::send_sync>(o)) << "heartbeat during a sync";
      }
    }
    if (auto* r = std::get_if<consumer::revoke>(&a)) {
      for (const auto& tp : r->partitions) ASSERT_TRUE(std::binary_search(owned.begin(), owned.end(), tp));
    }
    if (auto* as = std::get_if<consumer::assign>(&a)) {
      tps merged;
      for (const auto& tp : as->added) ASSERT_FALSE(std::binary_search(owned.begin(), owned.end(), tp)) << "assigned twice";
      std::set_union(owned.begin(), owned.end(), as->added.begin(), as->added.end(), std::back_inserter(merged));
      ASSERT_EQ(merged, as->assignment);
    }
    if (h.m.generation() >= 0) {
      ASSERT_GE(h.m.generation(), max_generation) << "generation went back";
      max_generation = h.m.generation();
    }
  }

  void finish_listener() {
    if (auto* r = std::get_if<consumer::revoke>(&*listener)) {
      tps rest;
      std::set_difference(owned.begin(), owned.end(), r->partitions.begin(), r->partitions.end(),
                          std::back_inserter(rest));
      owned = rest;
      h.m.revocation_done(h.now);
    } else {
      owned = std::get<consumer::assign>(*listener).assignment;
      h.m.assignment_done(h.now);
    }
    listener.reset();
  }

  // One next() call; false if the member is stuck (waits forever with nothing outstanding).
  bool step_member(member_action* out = nullptr) {
    const member_action a = h.m.next(h.now);
    if (out) *out = a;
    check(a);
    if (is_request(a)) outstanding.push_back(a);
    else if (std::holds_alternative<consumer::revoke>(a) || std::holds_alternative<consumer::assign>(a)) listener = a;
    else if (std::holds_alternative<consumer::run_assignment>(a)) pending_assignment = a;
    else if (auto* w = std::get_if<consumer::wait_until>(&a)) {
      if (w->when != forever) h.now = std::max(h.now, w->when);
      else if (outstanding.empty() && !listener && !pending_assignment && h.m.state() != member_state::left_poll_timeout)
        return false;
    }
    return true;
  }

  // A random share of {a0, a1, a2, b0}.
  void shuffle_partitions() {
    c.parts.clear();
    for (const auto& tp : {a0, a1, a2, b0})
      if (roll(2) == 0) c.parts.push_back(tp);
  }

  void answer_one(bool chaos) {
    const auto i = roll(static_cast<std::uint32_t>(outstanding.size()));
    const member_action a = outstanding[i];
    outstanding.erase(outstanding.begin() + i);
    if (chaos && roll(3) == 0) {
      fail(h, a, failures[roll(7)]);  // no fatal codes here
      return;
    }
    if (chaos) shuffle_partitions();
    c.answer(h, a);
  }
};

TEST(ClassicMemberFaults, RandomSchedulesKeepTheInvariantsAndRecover) {
  for (unsigned seed = 1; seed <= 60; ++seed)
    for (auto p : {rebalance_protocol::eager, rebalance_protocol::cooperative}) {
      SCOPED_TRACE(testing::Message() << "seed " << seed << (p == rebalance_protocol::eager ? " eager" : " cooperative"));
      random_run r(p, seed % 3 == 0, seed);
      r.c.leader = seed % 2 == 0;
      r.h.m.start(r.h.now);
      for (int i = 0; i < 400 && !testing::Test::HasFatalFailure(); ++i) {
        switch (r.roll(12)) {
          case 0: case 1: case 2: case 3: ASSERT_TRUE(r.step_member()) << "stuck"; break;
          case 4: case 5: if (!r.outstanding.empty()) r.answer_one(true); break;
          case 6:
            if (r.listener) r.finish_listener();
            if (r.pending_assignment) {
              r.shuffle_partitions();
              r.c.answer(r.h, *r.pending_assignment);
              r.pending_assignment.reset();
            }
            if (r.roll(20) == 0) r.h.m.leave(r.h.now);
            if (r.roll(10) == 0) r.h.m.start(r.h.now);
            break;
          case 7: r.h.now += std::chrono::milliseconds(r.roll(4000)); break;
          case 8: r.h.m.polled(r.h.now); break;
          case 9: r.h.m.subscription_changed(r.h.now); break;
          case 10: r.c.leader = !r.c.leader; r.h.m.group_metadata_changed(r.h.now); break;
          default: r.h.m.coordinator_unknown(r.h.now); break;
        }
      }
      ASSERT_FALSE(testing::Test::HasFatalFailure());
      // Only successes from now on, and a polling application: stable within a bound.
      bool stable = false;
      for (int i = 0; i < 200 && !stable; ++i) {
        while (!r.outstanding.empty()) r.answer_one(false);
        if (r.listener) r.finish_listener();
        if (r.pending_assignment) {
          r.c.answer(r.h, *r.pending_assignment);
          r.pending_assignment.reset();
        }
        r.h.m.polled(r.h.now);
        if (r.h.m.state() == member_state::stopped) r.h.m.start(r.h.now);
        member_action a;
        ASSERT_TRUE(r.step_member(&a)) << "stuck in state " << static_cast<int>(r.h.m.state());
        // Stable: nothing left to do but heartbeats, with a generation and the listener done.
        stable = r.h.m.state() == member_state::stable && r.h.m.generation() >= 0 && !r.listener &&
                 (std::holds_alternative<consumer::wait_until>(a) || std::holds_alternative<consumer::send_heartbeat>(a));
      }
      EXPECT_TRUE(stable) << "state " << static_cast<int>(r.h.m.state()) << " generation " << r.h.m.generation();
      EXPECT_EQ(r.owned, r.h.m.assignment());
    }
}

}  // namespace
}  // namespace asiokafka::test::member
