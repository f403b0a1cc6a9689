// consumer::consumer_member (KIP-848) scripted happy paths: the join with full fields and the
// client's member id, assignments with names known or resolved later, reconciliation (revoke,
// then assign, then the acknowledging heartbeat), targets arriving during one, leave (dynamic,
// static, while joining), partial fields and subscription changes, member ids. Failures are in
// consumer_member_errors_test.cpp and consumer_member_fault_test.cpp.
#include <gtest/gtest.h>

#include <set>

#include "consumer_member_helpers.hpp"

namespace asiokafka::test::kip848 {
namespace {

TEST(ConsumerMember, IdleUntilStarted) {
  harness h(config());
  h.expect<consumer::idle>();
  EXPECT_EQ(h.m.state(), member_state::stopped);
}

TEST(ConsumerMember, JoinsWithFullFieldsThenReconcilesAndAcknowledges) {
  harness h(config());
  h.m.start(topics({"b", "a", "a"}), h.now);
  EXPECT_EQ(h.m.state(), member_state::unjoined);
  const auto j = h.expect<send_consumer_heartbeat>();
  EXPECT_EQ(j.group_id, "g");
  EXPECT_EQ(j.member_id, "mid-1");  // KIP-1082: ours from the first heartbeat
  EXPECT_EQ(j.member_epoch, 0);
  EXPECT_FALSE(j.instance_id);
  EXPECT_EQ(j.rack_id, "r1");
  EXPECT_EQ(j.rebalance_timeout_ms, 300'000);  // max_poll_interval by default
  EXPECT_EQ(j.subscribed_topic_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(j.subscribed_topic_regex);
  EXPECT_EQ(j.server_assignor, "uniform");
  ASSERT_TRUE(j.topic_partitions);  // [] on a join, never null: the broker requires it
  EXPECT_TRUE(j.topic_partitions->empty());
  EXPECT_TRUE(j.full);
  EXPECT_EQ(h.m.state(), member_state::joining);
  EXPECT_EQ(h.expect_wait(), t0 + 300s);  // one heartbeat in flight; only the poll clock runs
  h.m.on_heartbeat_response(hb_ok(1, id_parts{{id_a, {1, 0}}}), h.now);
  EXPECT_EQ(h.m.state(), member_state::stable);
  EXPECT_EQ(h.m.member_epoch(), 1);
  EXPECT_EQ(h.expect<consumer::resolve_topics>().ids, std::vector<uuid>{id_a});
  EXPECT_EQ(h.expect_wait(), t0 + 2s);  // waits for the names before reconciling
  h.m.topics_resolved({{id_a, "a"}}, h.now);
  const auto a = h.expect<consumer::assign>();
  EXPECT_EQ(a.added, (tps{a0, a1}));
  EXPECT_EQ(a.assignment, (tps{a0, a1}));
  EXPECT_EQ(h.m.state(), member_state::assigning);
  EXPECT_EQ(h.m.assignment(), (tps{a0, a1}));
  EXPECT_EQ(h.expect_wait(), t0 + 2s);  // the broker's interval, not the configured 5 s
  h.m.assignment_done(h.now);
  const auto ack = h.expect<send_consumer_heartbeat>();  // at once
  EXPECT_EQ(ack.member_epoch, 1);
  EXPECT_FALSE(ack.full);
  EXPECT_EQ(reported(ack), (id_parts{{id_a, {0, 1}}}));
  EXPECT_FALSE(ack.subscribed_topic_names);
  EXPECT_FALSE(ack.subscribed_topic_regex);
  EXPECT_FALSE(ack.rack_id);
  EXPECT_FALSE(ack.server_assignor);
  EXPECT_EQ(ack.rebalance_timeout_ms, -1);
  EXPECT_EQ(ack.member_id, "mid-1");
  h.m.on_heartbeat_response(hb_ok(1), h.now);
  EXPECT_EQ(h.expect_wait(), t0 + 2s);
  h.now += 2s;
  const auto hb = h.expect<send_consumer_heartbeat>();
  EXPECT_FALSE(hb.topic_partitions);  // nothing changed
  h.m.on_heartbeat_response(hb_ok(1, std::nullopt, 3000), h.now);
  EXPECT_EQ(h.expect_wait(), h.now + 3s);  // a new interval from the broker
  const auto st = h.m.status();
  EXPECT_EQ(st.generation, 1);
  EXPECT_EQ(st.member_id, "mid-1");
  EXPECT_EQ(st.assignment, (tps{a0, a1}));
  EXPECT_EQ(st.last_heartbeat, t0 + 2s);
}

TEST(ConsumerMember, NamesKnownBeforeTheAssignmentNeedNoLookup) {
  harness h(config());
  h.m.topics_resolved(all_names, h.now);
  h.m.start(topics({"a"}), h.now);
  h.expect<send_consumer_heartbeat>();
  h.m.on_heartbeat_response(hb_ok(3, id_parts{{id_a, {0}}, {id_b, {0}}}), h.now);
  EXPECT_EQ(h.expect<consumer::assign>().added, (tps{a0, b0}));
}

TEST(ConsumerMember, EmptyFirstAssignmentIsAssignedAndAcknowledged) {
  harness h(config());
  h.m.start(topics({"a"}), h.now);
  h.expect<send_consumer_heartbeat>();
  h.m.on_heartbeat_response(hb_ok(1, id_parts{}), h.now);
  const auto a = h.expect<consumer::assign>();  // as Java: on_partitions_assigned([])
  EXPECT_TRUE(a.added.empty());
  EXPECT_TRUE(a.assignment.empty());
  h.m.assignment_done(h.now);
  const auto ack = h.expect<send_consumer_heartbeat>();
  ASSERT_TRUE(ack.topic_partitions);
  EXPECT_TRUE(ack.topic_partitions->empty());
}

TEST(ConsumerMember, UnknownIdsWaitAndAreAskedAgainWithBackoff) {
  harness h(config());
  h.m.start(topics({"a", "b"}), h.now);
  h.expect<send_consumer_heartbeat>();
  h.m.on_heartbeat_response(hb_ok(1, id_parts{{id_a, {0}}, {id_b, {0}}}), h.now);
  EXPECT_EQ(h.expect<consumer::resolve_topics>().ids, (std::vector<uuid>{id_a, id_b}));
  h.m.topics_resolved({{id_a, "a"}}, h.now);  // b is not in the metadata yet
  // The resolvable part is reconciled and acknowledged meanwhile (Java).
  const auto a = h.expect<consumer::assign>();
  EXPECT_EQ(a.assignment, (tps{a0}));
  h.m.assignment_done(h.now);
  const auto ack = h.expect<send_consumer_heartbeat>();
  EXPECT_EQ(reported(ack), (id_parts{{id_a, {0}}}));
  h.m.on_heartbeat_response(hb_ok(1, std::nullopt, 60'000), h.now);  // no heartbeat in the way
  EXPECT_EQ(h.m.unresolved_topics(), std::vector<uuid>{id_b});
  const std::chrono::milliseconds waits[] = {100ms, 200ms, 400ms, 800ms, 1000ms, 1000ms};
  for (auto w : waits) {
    ASSERT_EQ(h.expect_wait(), h.now + w);
    h.now += w;
    EXPECT_EQ(h.expect<consumer::resolve_topics>().ids, std::vector<uuid>{id_b});
    h.m.topics_resolved({}, h.now);
  }
  h.m.topics_resolved({{id_b, "b"}}, h.now);  // unasked: the metadata learnt it
  const auto more = h.expect<consumer::assign>();
  EXPECT_EQ(more.added, (tps{b0}));
  EXPECT_EQ(more.assignment, (tps{a0, b0}));
  h.m.assignment_done(h.now);
  EXPECT_EQ(reported(h.expect<send_consumer_heartbeat>()), (id_parts{{id_a, {0}}, {id_b, {0}}}));
  EXPECT_TRUE(h.m.unresolved_topics().empty());
}

TEST(ConsumerMember, ReconciliationRevokesThenAssignsThenAcknowledges) {
  harness h(config());
  join(h, {{id_a, {0, 1}}});
  h.now += 2s;
  h.expect<send_consumer_heartbeat>();
  h.m.on_heartbeat_response(hb_ok(2, id_parts{{id_a, {1, 2}}}), h.now);
  const auto r = h.expect<consumer::revoke>();
  EXPECT_EQ(r.partitions, (tps{a0}));
  EXPECT_FALSE(r.lost);
  EXPECT_EQ(h.m.state(), member_state::revoking);
  // A slow listener: heartbeats go on, still reporting the old assignment (unchanged: null).
  EXPECT_EQ(h.expect_wait(), h.now + 2s);
  h.now += 2s;
  EXPECT_FALSE(h.expect<send_consumer_heartbeat>().topic_partitions);
  h.m.on_heartbeat_response(hb_ok(2), h.now);
  h.m.revocation_done(h.now);
  EXPECT_EQ(h.m.assignment(), (tps{a1}));
  const auto a = h.expect<consumer::assign>();
  EXPECT_EQ(a.added, (tps{a2}));
  EXPECT_EQ(a.assignment, (tps{a1, a2}));
  h.m.assignment_done(h.now);
  const auto ack = h.expect<send_consumer_heartbeat>();
  EXPECT_EQ(ack.member_epoch, 2);
  EXPECT_EQ(reported(ack), (id_parts{{id_a, {1, 2}}}));
}

TEST(ConsumerMember, RevokeOnlyTargetStillAssignsTheRest) {
  harness h(config());
  join(h, {{id_a, {0, 1}}});
  h.now += 2s;
  h.expect<send_consumer_heartbeat>();
  h.m.on_heartbeat_response(hb_ok(2, id_parts{{id_a, {1}}}), h.now);
  EXPECT_EQ(h.expect<consumer::revoke>().partitions, (tps{a0}));
  h.m.revocation_done(h.now);
  const auto a = h.expect<consumer::assign>();
  EXPECT_TRUE(a.added.empty());
  EXPECT_EQ(a.assignment, (tps{a1}));
}

TEST(ConsumerMember, NewerTargetDuringReconciliationIsReconciledAfterTheAcknowledgement) {
  harness h(config());
  join(h, {{id_a, {0, 1}}});
  h.now += 2s;
  h.expect<send_consumer_heartbeat>();
  h.m.on_heartbeat_response(hb_ok(2, id_parts{{id_a, {1, 2}}}), h.now);
  EXPECT_EQ(h.expect<consumer::revoke>().partitions, (tps{a0}));
  h.now += 2s;
  h.expect<send_consumer_heartbeat>();
  h.m.on_heartbeat_response(hb_ok(3, id_parts{{id_a, {2}}, {id_b, {0}}}), h.now);  // newer target
  // b's name was dropped with the first new target: looked up while the listener runs.
  EXPECT_EQ(h.expect<consumer::resolve_topics>().ids, std::vector<uuid>{id_b});
  h.m.topics_resolved(all_names, h.now);
  h.m.revocation_done(h.now);
  // The running reconciliation finishes first, with its own target.
  EXPECT_EQ(h.expect<consumer::assign>().assignment, (tps{a1, a2}));
  EXPECT_EQ(h.expect_wait(), h.now + 2s);  // one listener at a time
  h.m.assignment_done(h.now);
  const auto ack = h.expect<send_consumer_heartbeat>();
  EXPECT_EQ(reported(ack), (id_parts{{id_a, {1, 2}}}));
  // Then the newer one, before its answer even.
  const auto r = h.expect<consumer::revoke>();
  EXPECT_EQ(r.partitions, (tps{a1}));
  h.m.revocation_done(h.now);
  const auto a = h.expect<consumer::assign>();
  EXPECT_EQ(a.added, (tps{b0}));
  EXPECT_EQ(a.assignment, (tps{a2, b0}));
  h.m.assignment_done(h.now);
  h.expect_wait();  // the first acknowledgement is still in flight
  h.m.on_heartbeat_response(hb_ok(3), h.now);
  EXPECT_EQ(reported(h.expect<send_consumer_heartbeat>()), (id_parts{{id_a, {2}}, {id_b, {0}}}));
}

TEST(ConsumerMember, SameTargetAgainChangesNothing) {
  harness h(config());
  join(h, {{id_a, {0}}});
  h.now += 2s;
  h.expect<send_consumer_heartbeat>();
  h.m.on_heartbeat_response(hb_ok(1, id_parts{{id_a, {0}}}), h.now);
  EXPECT_EQ(h.expect_wait(), h.now + 2s);
  // A target adding only an unknown topic: nothing to do locally until its name is known.
  h.now += 2s;
  h.expect<send_consumer_heartbeat>();
  h.m.on_heartbeat_response(hb_ok(2, id_parts{{id_a, {0}}, {uuid{9}, {0}}}), h.now);
  EXPECT_EQ(h.expect<consumer::resolve_topics>().ids, std::vector<uuid>{uuid{9}});
  h.m.topics_resolved({}, h.now);
  EXPECT_EQ(h.expect_wait(), h.now + 100ms);  // the next lookup; no listener, no extra heartbeat
  EXPECT_EQ(h.m.assignment(), (tps{a0}));
}

TEST(ConsumerMember, DynamicLeaveRevokesThenSendsEpochMinusOneOnce) {
  harness h(config());
  join(h, {{id_a, {0}}});
  h.m.leave(h.now);
  EXPECT_EQ(h.m.state(), member_state::stopping);
  const auto r = h.expect<consumer::revoke>();
  EXPECT_EQ(r.partitions, (tps{a0}));
  EXPECT_FALSE(r.lost);
  h.m.revocation_done(h.now);
  const auto l = h.expect<send_consumer_heartbeat>();
  EXPECT_EQ(l.member_epoch, -1);
  EXPECT_EQ(l.member_id, "mid-1");
  EXPECT_FALSE(l.instance_id);
  EXPECT_FALSE(l.topic_partitions);
  EXPECT_FALSE(l.subscribed_topic_names);
  EXPECT_EQ(h.expect_wait(), forever);
  h.m.on_request_failed(make_error_code(client_errc::timeout), h.now);  // never retried
  h.expect<consumer::idle>();
  EXPECT_EQ(h.m.state(), member_state::stopped);
  EXPECT_EQ(h.m.member_epoch(), 0);
  h.m.leave(h.now);
  h.expect<consumer::idle>();
  // Subscribing again: the same member id (KIP-1082), epoch 0, full fields.
  h.m.start(topics({"a"}), h.now);
  const auto j = h.expect<send_consumer_heartbeat>();
  EXPECT_EQ(j.member_id, "mid-1");
  EXPECT_EQ(j.member_epoch, 0);
  EXPECT_TRUE(j.full);
}

TEST(ConsumerMember, StaticLeaveSendsEpochMinusTwoWithTheInstanceId) {
  harness h(config("inst-1"));
  join(h, {{id_a, {0}}});
  h.now += 2s;
  EXPECT_EQ(h.expect<send_consumer_heartbeat>().instance_id, "inst-1");  // always sent (Java)
  h.m.on_heartbeat_response(hb_ok(1), h.now);
  h.m.leave(h.now);
  EXPECT_FALSE(h.expect<consumer::revoke>().lost);
  h.m.revocation_done(h.now);
  const auto l = h.expect<send_consumer_heartbeat>();
  EXPECT_EQ(l.member_epoch, -2);
  EXPECT_EQ(l.instance_id, "inst-1");
  h.m.on_heartbeat_response(hb_ok(-2), h.now);
  h.expect<consumer::idle>();
}

TEST(ConsumerMember, LeaveWhileJoiningStillLeavesWithTheClientMemberId) {
  harness h(config());
  h.m.start(topics({"a"}), h.now);
  h.expect<send_consumer_heartbeat>();
  h.m.leave(h.now);
  EXPECT_EQ(h.expect_wait(), forever);  // the join's answer first
  h.m.on_heartbeat_response(hb_ok(1, id_parts{{id_a, {0}}}), h.now);  // its assignment is dropped
  const auto l = h.expect<send_consumer_heartbeat>();
  EXPECT_EQ(l.member_epoch, -1);
  EXPECT_EQ(l.member_id, "mid-1");  // KIP-1082: the broker knows us even if the answer were lost
  h.m.on_heartbeat_response(hb_ok(-1), h.now);
  h.expect<consumer::idle>();
  EXPECT_TRUE(h.m.assignment().empty());
}

TEST(ConsumerMember, LeaveBeforeAnyJoinSendsNothing) {
  harness h(config());
  h.m.start(topics({"a"}), h.now);
  h.m.leave(h.now);
  h.expect<consumer::idle>();
}

TEST(ConsumerMember, LeaveDuringAReconciliationDropsItsRest) {
  harness h(config());
  join(h, {{id_a, {0, 1}}});
  h.now += 2s;
  h.expect<send_consumer_heartbeat>();
  h.m.on_heartbeat_response(hb_ok(2, id_parts{{id_a, {1, 2}}}), h.now);
  EXPECT_EQ(h.expect<consumer::revoke>().partitions, (tps{a0}));
  h.now += 2s;
  h.expect<send_consumer_heartbeat>();  // in flight while leave() comes
  h.m.leave(h.now);
  h.m.revocation_done(h.now);
  const auto r = h.expect<consumer::revoke>();  // no assign of a2: the rest of it
  EXPECT_EQ(r.partitions, (tps{a1}));
  EXPECT_FALSE(r.lost);
  h.m.revocation_done(h.now);
  EXPECT_EQ(h.expect_wait(), forever);  // the heartbeat in flight is answered first
  h.m.on_heartbeat_response(hb_ok(2, id_parts{{id_a, {2}}}), h.now);
  EXPECT_EQ(h.expect<send_consumer_heartbeat>().member_epoch, -1);
}

TEST(ConsumerMember, SubscriptionChangesAreSentAtOnceAndOnlyWhatChanged) {
  harness h(config());
  join(h, {{id_a, {0}}});
  h.m.subscription_changed(topics({"c", "a"}), h.now);
  auto hb = h.expect<send_consumer_heartbeat>();  // at once, not after the interval
  EXPECT_FALSE(hb.full);
  EXPECT_EQ(hb.subscribed_topic_names, (std::vector<std::string>{"a", "c"}));
  EXPECT_FALSE(hb.subscribed_topic_regex);
  EXPECT_FALSE(hb.topic_partitions);
  EXPECT_EQ(hb.rebalance_timeout_ms, -1);
  h.m.on_heartbeat_response(hb_ok(1), h.now);
  h.m.subscription_changed(topics({"a", "c"}), h.now);  // the same: nothing to send
  EXPECT_EQ(h.expect_wait(), h.now + 2s);
  h.m.subscription_changed(regex("a.*"), h.now);
  hb = h.expect<send_consumer_heartbeat>();
  EXPECT_EQ(hb.subscribed_topic_names, std::vector<std::string>{});  // names cleared
  EXPECT_EQ(hb.subscribed_topic_regex, "a.*");
  h.m.on_heartbeat_response(hb_ok(1), h.now);
  // A failure, then a full heartbeat: the regex again.
  h.now += 2s;
  h.expect<send_consumer_heartbeat>();
  h.m.on_request_failed(make_error_code(client_errc::timeout), h.now);
  h.now += 100ms;
  hb = h.expect<send_consumer_heartbeat>();
  EXPECT_TRUE(hb.full);
  EXPECT_EQ(hb.subscribed_topic_regex, "a.*");
  h.m.on_heartbeat_response(hb_ok(1), h.now);
  h.m.subscription_changed(topics({"b"}), h.now);
  hb = h.expect<send_consumer_heartbeat>();
  EXPECT_EQ(hb.subscribed_topic_names, std::vector<std::string>{"b"});
  EXPECT_EQ(hb.subscribed_topic_regex, "");  // "" removes the regex
  h.m.on_request_failed(make_error_code(client_errc::timeout), h.now);
  h.now += 100ms;
  hb = h.expect<send_consumer_heartbeat>();
  EXPECT_TRUE(hb.full);
  EXPECT_EQ(hb.subscribed_topic_regex, "");  // the removal may not have arrived: again
  h.m.on_heartbeat_response(hb_ok(1), h.now);
  h.now += 2s;
  h.expect<send_consumer_heartbeat>();
  h.m.on_request_failed(make_error_code(client_errc::timeout), h.now);
  h.now += 100ms;
  EXPECT_FALSE(h.expect<send_consumer_heartbeat>().subscribed_topic_regex);  // removal acknowledged
}

TEST(ConsumerMember, SubscriptionChangeDuringTheJoinGoesOutRightAfterIt) {
  harness h(config());
  h.m.start(topics({"a"}), h.now);
  h.expect<send_consumer_heartbeat>();
  h.m.subscription_changed(topics({"a", "b"}), h.now);
  h.m.on_heartbeat_response(hb_ok(1), h.now);  // no assignment yet
  const auto hb = h.expect<send_consumer_heartbeat>();
  EXPECT_EQ(hb.member_epoch, 1);
  EXPECT_EQ(hb.subscribed_topic_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(hb.topic_partitions);
}

TEST(ConsumerMember, RegexJoinCarriesEmptyNamesAndTheRegex) {
  harness h(config());
  h.m.start(regex("t-.*"), h.now);
  const auto j = h.expect<send_consumer_heartbeat>();
  EXPECT_EQ(j.subscribed_topic_names, std::vector<std::string>{});
  EXPECT_EQ(j.subscribed_topic_regex, "t-.*");
  EXPECT_EQ(h.m.subscription().regex, "t-.*");
}

TEST(ConsumerMember, StaleAnswersAreDropped) {
  harness h(config());
  join(h, {{id_a, {0}}});
  h.now += 2s;
  h.expect<send_consumer_heartbeat>();
  h.m.leave(h.now);
  h.expect<consumer::revoke>();
  h.m.revocation_done(h.now);
  h.m.on_heartbeat_response(hb_ok(1, id_parts{{id_a, {0, 1}}}), h.now);  // while stopping
  EXPECT_EQ(h.expect<send_consumer_heartbeat>().member_epoch, -1);
  h.m.on_heartbeat_response(hb_ok(-1), h.now);
  h.m.on_heartbeat_response(hb_ok(5, id_parts{{id_a, {2}}}), h.now);  // nothing in flight
  h.expect<consumer::idle>();
  EXPECT_TRUE(h.m.assignment().empty());
}

TEST(ConsumerMember, MemberIdsAreJavaShapedUuids) {
  uuid bytes{};
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i * 37 + 11);
  const std::string id = consumer::make_member_id(bytes);
  EXPECT_EQ(id.size(), 22u);
  EXPECT_EQ(id, consumer::make_member_id(bytes));
  for (char c : id) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << c;
  std::set<std::string> seen;
  for (int first = 0; first < 256; ++first) {
    bytes[0] = static_cast<std::uint8_t>(first);
    const std::string x = consumer::make_member_id(bytes);
    EXPECT_NE(x.front(), '-') << first;  // Java never starts one with '-'
    seen.insert(x);
  }
  EXPECT_GE(seen.size(), 252u);  // only the '-' prefixes fold into others
  // Known value: all zero bytes with the version and variant bits.
  EXPECT_EQ(consumer::make_member_id(uuid{}), "AAAAAAAAQACAAAAAAAAAAA");
}

}  // namespace
}  // namespace asiokafka::test::kip848
