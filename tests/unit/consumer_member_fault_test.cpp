// consumer::consumer_member (KIP-848) under failures: (1) a script (join, assignment,
// heartbeats, a new target with revoke and assign, leave) run once per heartbeat with that
// heartbeat failing with each error of the table, checking the next action against it and that
// the member gets back to stable and leaves; (2) seeded random schedules (late answers, errors,
// partial topic names, time, polls, subscription changes, leave and start) checking the
// invariants, then only successes: stable again within a bound.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "consumer_member_helpers.hpp"

namespace asiokafka::test::kip848 {
namespace {

enum class expect_kind { retry, fence, fatal };

struct failure {
  const char* name;
  std::error_code ec;
  expect_kind kind;
};

const failure failures[] = {
    {"timeout", make_error_code(client_errc::timeout), expect_kind::retry},
    {"connection_lost", make_error_code(client_errc::connection_lost), expect_kind::retry},
    {"not_coordinator", make_error_code(kafka_errc::not_coordinator), expect_kind::retry},
    {"coordinator_not_available", make_error_code(kafka_errc::coordinator_not_available), expect_kind::retry},
    {"coordinator_loading", make_error_code(kafka_errc::coordinator_load_in_progress), expect_kind::retry},
    {"fenced_member_epoch", make_error_code(kafka_errc::fenced_member_epoch), expect_kind::fence},
    {"unknown_member_id", make_error_code(kafka_errc::unknown_member_id), expect_kind::fence},
    {"unreleased_instance_id", make_error_code(kafka_errc::unreleased_instance_id), expect_kind::fatal},
    {"fenced_instance_id", make_error_code(kafka_errc::fenced_instance_id), expect_kind::fatal},
    {"group_authorization_failed", make_error_code(kafka_errc::group_authorization_failed), expect_kind::fatal},
    {"unsupported_assignor", make_error_code(kafka_errc::unsupported_assignor), expect_kind::fatal},
    {"invalid_request", make_error_code(kafka_errc::invalid_request), expect_kind::fatal},
    {"group_max_size_reached", make_error_code(kafka_errc::group_max_size_reached), expect_kind::fatal},
    {"unsupported_version", make_error_code(kafka_errc::unsupported_version), expect_kind::fatal},
    {"invalid_regular_expression", make_error_code(kafka_errc::invalid_regular_expression), expect_kind::fatal},
    {"client_unsupported_version", make_error_code(client_errc::unsupported_version), expect_kind::fatal},
};

// Delivers `f` as the answer to the heartbeat in flight.
void fail(harness& h, const failure& f) {
  if (f.ec.category() == kafka_category()) h.m.on_heartbeat_response(hb_error(static_cast<kafka_errc>(f.ec.value())), h.now);
  else h.m.on_request_failed(f.ec, h.now);
}

// The error table: what next() must say right after heartbeat `hb` failed with `f`, the member
// holding `owned`. Returns that action.
consumer_member_action check_next_after(harness& h, const send_consumer_heartbeat& hb, const failure& f,
                                        const tps& owned) {
  const consumer_member_action next = h.m.next(h.now);
  [&] {
    const std::string where = std::string("epoch ") + std::to_string(hb.member_epoch) + " failed with " + f.name +
                              ", then " + action_name(next);
    if (hb.member_epoch < 0) {
      EXPECT_TRUE(std::holds_alternative<consumer::idle>(next)) << where;  // a leave is never retried
      return;
    }
    switch (f.kind) {
      case expect_kind::fatal:
        ASSERT_TRUE(std::holds_alternative<consumer::failed>(next)) << where;
        EXPECT_EQ(std::get<consumer::failed>(next).error, f.ec) << where;
        return;
      case expect_kind::fence:
        EXPECT_EQ(h.m.member_epoch(), 0) << where;
        if (!owned.empty()) {
          ASSERT_TRUE(std::holds_alternative<consumer::revoke>(next)) << where;
          EXPECT_TRUE(std::get<consumer::revoke>(next).lost) << where;
          EXPECT_EQ(std::get<consumer::revoke>(next).partitions, owned) << where;
        } else {
          ASSERT_TRUE(std::holds_alternative<send_consumer_heartbeat>(next)) << where;  // at once
          const auto& j = std::get<send_consumer_heartbeat>(next);
          EXPECT_EQ(j.member_epoch, 0) << where;
          EXPECT_EQ(j.member_id, "mid-1") << where;
          EXPECT_TRUE(j.full) << where;
        }
        return;
      case expect_kind::retry:
        ASSERT_TRUE(std::holds_alternative<consumer::wait_until>(next)) << where;
        EXPECT_EQ(std::get<consumer::wait_until>(next).when, h.now + 100ms) << where;
        EXPECT_EQ(h.m.assignment(), owned) << where;  // partitions kept
        return;
    }
  }();
  return next;
}

// The script with its `inject_at`-th heartbeat failing with `f` (-1: none). Returns the number
// of heartbeats the script sent.
int run_script(bool is_static, int inject_at, const failure* f) {
  harness h(config(is_static ? std::optional<std::string>("inst") : std::nullopt));
  fake_coordinator c;
  int requests = 0, stage = 0, heartbeats_at_change = 0;
  bool expect_full = false;
  h.m.start(topics({"a", "b"}), h.now);
  for (int step = 0; step < 400; ++step) {
    const bool stable = h.m.state() == member_state::stable && h.m.assignment() == c.target_partitions() &&
                        h.m.member_epoch() == c.epoch;
    if (stage == 0 && stable) {
      stage = 1;
      c.heartbeats = 0;
    } else if (stage == 1 && c.heartbeats >= 2) {
      c.change_target({{id_a, {1}}, {id_b, {0}}});
      heartbeats_at_change = c.heartbeats;
      stage = 2;
    } else if (stage == 2 && stable && c.heartbeats >= heartbeats_at_change + 2) {  // target, ack
      h.m.leave(h.now);
      stage = 3;
    }
    const tps owned = h.m.assignment();
    consumer_member_action a = h.m.next(h.now);
    if (stage == 3 && std::holds_alternative<consumer::idle>(a)) return requests;
    if (auto* hb = std::get_if<send_consumer_heartbeat>(&a)) {
      if (expect_full && hb->member_epoch >= 0) {
        EXPECT_TRUE(hb->full) << "after a failure, at step " << step;
      }
      expect_full = false;
      if (requests++ == inject_at) {
        const send_consumer_heartbeat failed = *hb;
        fail(h, *f);
        a = check_next_after(h, failed, *f, owned);
        if (testing::Test::HasFatalFailure()) return requests;
        if (f->kind == expect_kind::fatal && failed.member_epoch >= 0) {
          h.m.leave(h.now);  // fatal until leave(), which still ends it
          for (int i = 0; i < 5; ++i)
            if (!c.answer(h, h.m.next(h.now))) break;
          EXPECT_EQ(h.m.state(), member_state::stopped);
          return requests;
        }
        expect_full = f->kind == expect_kind::retry;
        if (stage == 3 && std::holds_alternative<consumer::idle>(a)) return requests;
        if (std::holds_alternative<send_consumer_heartbeat>(a)) ++requests;
      }
    }
    if (!c.answer(h, a)) {
      ADD_FAILURE() << "stuck at " << action_name(a) << " in stage " << stage << " state "
                    << static_cast<int>(h.m.state());
      return requests;
    }
  }
  ADD_FAILURE() << "the script did not finish; stage " << stage;
  return requests;
}

TEST(ConsumerMemberFaults, FailureAtEveryHeartbeatWithEveryError) {
  for (bool is_static : {false, true}) {
    const int total = run_script(is_static, -1, nullptr);
    ASSERT_GE(total, 6);  // join, ack, a heartbeat, the new target's, its ack, leave
    for (int k = 0; k < total; ++k)
      for (const auto& f : failures) {
        SCOPED_TRACE(testing::Message() << (is_static ? "static" : "dynamic") << " heartbeat " << k << " " << f.name);
        run_script(is_static, k, &f);
      }
  }
}

// Random schedules: answers late, errors, partial names, listeners finishing late.
struct random_run {
  harness h;
  fake_coordinator c;
  std::mt19937 rng;
  std::optional<send_consumer_heartbeat> outstanding;
  bool resolve_asked = false;
  std::optional<consumer_member_action> listener;
  tps owned;  // what the application holds
  std::map<std::string, int>* seen = nullptr;  // actions by kind, over all runs

  random_run(bool is_static, unsigned seed)
      : h([&] {
          auto cfg = config(is_static ? std::optional<std::string>("inst") : std::nullopt);
          cfg.session_timeout = 10s;
          cfg.max_poll_interval = 30s;
          return cfg;
        }()),
        rng(seed) {}

  std::uint32_t roll(std::uint32_t n) { return std::uniform_int_distribution<std::uint32_t>(0, n - 1)(rng); }

  void check(const consumer_member_action& a) {
    if (auto* hb = std::get_if<send_consumer_heartbeat>(&a)) {
      ASSERT_FALSE(outstanding) << "two heartbeats in flight";
      EXPECT_EQ(hb->member_id, "mid-1");
      if (hb->member_epoch == 0) {
        ASSERT_TRUE(owned.empty()) << "a join while owning partitions";
        ASSERT_FALSE(listener) << "a join while a listener runs";
        ASSERT_TRUE(hb->full);
        ASSERT_TRUE(hb->topic_partitions && hb->topic_partitions->empty());
      }
    }
    if (std::holds_alternative<consumer::resolve_topics>(a)) {
      ASSERT_FALSE(resolve_asked) << "two lookups at once";
    }
    if (std::holds_alternative<consumer::revoke>(a) || std::holds_alternative<consumer::assign>(a)) {
      ASSERT_FALSE(listener) << "two listeners at once";
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

  // One next() call; false if the member is stuck (waits forever with nothing to wait for).
  bool step_member(consumer_member_action* out = nullptr) {
    const consumer_member_action a = h.m.next(h.now);
    if (out) *out = a;
    check(a);
    if (seen) {
      ++(*seen)[action_name(a)];
      if (auto* hb = std::get_if<send_consumer_heartbeat>(&a)) ++(*seen)[hb->member_epoch == 0 ? "join" : "other"];
      if (auto* r = std::get_if<consumer::revoke>(&a)) ++(*seen)[r->lost ? "lost" : "revoked"];
    }
    if (auto* hb = std::get_if<send_consumer_heartbeat>(&a)) outstanding = *hb;
    else if (std::holds_alternative<consumer::resolve_topics>(a)) resolve_asked = true;
    else if (std::holds_alternative<consumer::revoke>(a) || std::holds_alternative<consumer::assign>(a)) listener = a;
    else if (auto* w = std::get_if<consumer::wait_until>(&a)) {
      EXPECT_GT(w->when, h.now) << "a wait for nothing: the caller would spin";
      if (w->when != forever) h.now = std::max(h.now, w->when);
      else if (!outstanding && !listener && !resolve_asked && h.m.state() != member_state::left_poll_timeout)
        return false;
    }
    return true;
  }

  void shuffle_target() {
    id_parts t;
    for (const auto& [id, n] : {std::pair{id_a, 3}, std::pair{id_b, 1}, std::pair{id_c, 1}}) {
      std::vector<std::int32_t> parts;
      for (int p = 0; p < n; ++p)
        if (roll(2) == 0) parts.push_back(p);
      if (!parts.empty()) t.emplace_back(id, parts);
    }
    c.change_target(std::move(t));
  }

  void answer_heartbeat(bool chaos) {
    const consumer_member_action a = *outstanding;
    outstanding.reset();
    if (chaos && roll(4) == 0) {
      fail(h, failures[roll(7)]);  // retriable and fencing codes only
      return;
    }
    if (chaos && roll(2) == 0) shuffle_target();
    c.answer(h, a);
  }

  void answer_resolve(bool chaos) {
    resolve_asked = false;
    std::map<uuid, std::string> some;
    for (const auto& [id, name] : all_names)
      if (!chaos || roll(2) == 0) some.emplace(id, name);
    h.m.topics_resolved(some, h.now);
  }
};

TEST(ConsumerMemberFaults, RandomSchedulesKeepTheInvariantsAndRecover) {
  std::map<std::string, int> seen;
  for (unsigned seed = 1; seed <= 80; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    random_run r(seed % 3 == 0, seed);
    r.seen = &seen;
    r.h.m.start(topics({"a", "b", "c"}), r.h.now);
    for (int i = 0; i < 400 && !testing::Test::HasFatalFailure(); ++i) {
      switch (r.roll(12)) {
        case 0: case 1: case 2: case 3: ASSERT_TRUE(r.step_member()) << "stuck"; break;
        case 4: case 5: if (r.outstanding) r.answer_heartbeat(true); break;
        case 6:
          if (r.listener) r.finish_listener();
          if (r.resolve_asked) r.answer_resolve(true);
          if (r.roll(80) == 0) r.h.m.leave(r.h.now);
          if (r.roll(4) == 0) r.h.m.start(topics({"a", "b", "c"}), r.h.now);
          break;
        case 7: r.h.now += std::chrono::milliseconds(r.roll(4000)); break;
        case 8: r.h.m.polled(r.h.now); break;
        case 9:
          r.h.m.subscription_changed(r.roll(2) ? topics({"a", "b"}) : consumer::group_subscription{{}, "a|b|c"}, r.h.now);
          break;
        case 10: if (r.resolve_asked) r.answer_resolve(true); break;
        default: r.h.m.coordinator_unknown(r.h.now); break;
      }
    }
    ASSERT_FALSE(testing::Test::HasFatalFailure());
    // Only successes from now on, and a polling application: stable within a bound.
    bool stable = false;
    for (int i = 0; i < 200 && !stable; ++i) {
      if (r.outstanding) r.answer_heartbeat(false);
      if (r.listener) r.finish_listener();
      if (r.resolve_asked) r.answer_resolve(false);
      r.h.m.polled(r.h.now);
      if (r.h.m.state() == member_state::stopped) r.h.m.start(topics({"a", "b", "c"}), r.h.now);
      consumer_member_action a;
      ASSERT_TRUE(r.step_member(&a)) << "stuck in state " << static_cast<int>(r.h.m.state());
      stable = r.h.m.state() == member_state::stable && r.h.m.member_epoch() == r.c.epoch && !r.listener &&
               r.h.m.assignment() == r.c.target_partitions() && std::holds_alternative<consumer::wait_until>(a);
    }
    EXPECT_TRUE(stable) << "state " << static_cast<int>(r.h.m.state()) << " epoch " << r.h.m.member_epoch();
    EXPECT_EQ(r.owned, r.h.m.assignment());
  }
  // The schedules reach every path: reconciliations both ways, losses, lookups, rejoins.
  EXPECT_GT(seen["assign"], 150);
  EXPECT_GT(seen["revoked"], 15);
  EXPECT_GT(seen["lost"], 80);
  EXPECT_GT(seen["resolve_topics"], 150);
  EXPECT_GT(seen["join"], 400);
  EXPECT_GT(seen["other"], 400);
}

}  // namespace
}  // namespace asiokafka::test::kip848
