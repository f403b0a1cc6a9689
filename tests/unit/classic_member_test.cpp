// consumer::classic_member scripted: the happy paths (follower with KIP-394, leader with the
// assignment, static member, eager and cooperative two-round rebalances), the error table on
// every request, session expiry, the poll timeout and its rejoin, leave in every phase, backoff.
#include <gtest/gtest.h>

#include "classic_member_helpers.hpp"

namespace asiokafka::test::member {
namespace {

// Start, KIP-394 round trip, follower join, sync, assignment: stable with `parts`.
void join_as_follower(harness& h, const tps& parts, std::int32_t generation = 1, const std::string& id = "m-1") {
  h.m.start(h.now);
  auto j = h.expect<consumer::send_join>();
  if (j.member_id.empty() && !h.m.config().group_instance_id) {
    h.m.on_join_response(join_error(kafka_errc::member_id_required, id), h.now);
    j = h.expect<consumer::send_join>();  // at once, no backoff
    EXPECT_EQ(j.member_id, id);
  }
  h.m.on_join_response(join_ok(generation, id, "leader-x"), h.now);
  const auto s = h.expect<consumer::send_sync>();
  EXPECT_EQ(s.generation, generation);
  EXPECT_TRUE(s.assignments.empty());
  h.m.on_sync_response(sync_ok(parts), h.now);
  const auto a = h.expect<consumer::assign>();
  EXPECT_EQ(a.assignment, parts);
  h.m.assignment_done(h.now);
}

TEST(ClassicMember, IdleUntilStarted) {
  harness h(config());
  h.expect<consumer::idle>();
  EXPECT_EQ(h.m.state(), member_state::stopped);
}

TEST(ClassicMember, FollowerJoinsWithMemberIdRequiredThenHeartbeats) {
  harness h(config());
  h.m.start(h.now);
  const auto j = h.expect<consumer::send_join>();
  EXPECT_EQ(j.member_id, "");
  EXPECT_EQ(j.session_timeout_ms, 45'000);
  EXPECT_EQ(j.rebalance_timeout_ms, 300'000);  // max_poll_interval by default
  EXPECT_EQ(j.owned_generation, -1);
  EXPECT_EQ(h.expect_wait(), forever);  // no second join while one is pending
  EXPECT_EQ(h.m.state(), member_state::joining);
  h.m.on_join_response(join_error(kafka_errc::member_id_required, "m-1"), h.now);
  EXPECT_EQ(h.expect<consumer::send_join>().member_id, "m-1");
  h.m.on_join_response(join_ok(5, "m-1", "leader-x"), h.now);
  EXPECT_FALSE(h.m.is_leader());
  const auto s = h.expect<consumer::send_sync>();
  EXPECT_EQ(s.member_id, "m-1");
  EXPECT_EQ(s.protocol_type, "consumer");
  EXPECT_EQ(s.protocol_name, "range");
  h.m.on_sync_response(sync_ok({a1, a0}), h.now);
  const auto a = h.expect<consumer::assign>();
  EXPECT_EQ(a.added, (tps{a0, a1}));
  EXPECT_EQ(a.assignment, (tps{a0, a1}));
  EXPECT_EQ(h.m.state(), member_state::assigning);
  // A heartbeat is due only heartbeat_interval after the sync, even while the listener runs.
  EXPECT_EQ(h.expect_wait(), t0 + 3s);
  h.now += 3s;
  const auto hb = h.expect<consumer::send_heartbeat>();
  EXPECT_EQ(hb.generation, 5);
  EXPECT_EQ(hb.member_id, "m-1");
  h.m.assignment_done(h.now);
  EXPECT_EQ(h.m.state(), member_state::stable);
  EXPECT_EQ(h.expect_wait(), t0 + 3s + 42s);  // the heartbeat is pending: the session bound
  h.m.on_heartbeat_response(heartbeat(), h.now);
  EXPECT_EQ(h.expect_wait(), t0 + 6s);
  const auto st = h.m.status();
  EXPECT_EQ(st.generation, 5);
  EXPECT_EQ(st.last_heartbeat, t0 + 3s);
  EXPECT_EQ(st.assignment, (tps{a0, a1}));
}

TEST(ClassicMember, LeaderRunsTheAssignmentAndSendsIt) {
  harness h(config());
  h.m.start(h.now);
  h.expect<consumer::send_join>();
  h.m.on_join_response(join_ok(1, "m-1", "m-1", {{"m-1", {"a"}}, {"m-2", {"a", "b"}}}), h.now);
  EXPECT_TRUE(h.m.is_leader());
  EXPECT_EQ(h.m.group_topics(), (std::vector<std::string>{"a", "b"}));
  const auto run = h.expect<consumer::run_assignment>();
  EXPECT_EQ(run.protocol_name, "range");
  ASSERT_EQ(run.members.size(), 2u);
  EXPECT_EQ(run.members[1].member_id, "m-2");
  EXPECT_EQ(run.members[1].topics, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(h.expect_wait(), forever);
  EXPECT_EQ(h.m.state(), member_state::leader_assigning);
  h.m.on_assignment_computed({{"m-1", {{a0}, {}}}, {"m-2", {{a1, b0}, {}}}}, h.now);
  const auto s = h.expect<consumer::send_sync>();
  ASSERT_EQ(s.assignments.size(), 2u);
  consumer::member_assignment second;
  ASSERT_FALSE(consumer::decode_assignment(s.assignments[1].second, second));
  EXPECT_EQ(s.assignments[1].first, "m-2");
  EXPECT_EQ(second.partitions, (tps{a1, b0}));
  h.m.on_sync_response(sync_ok({a0}), h.now);
  EXPECT_EQ(h.expect<consumer::assign>().added, (tps{a0}));
  // Only the leader reacts to the group's metadata.
  h.m.assignment_done(h.now);
  h.m.group_metadata_changed(h.now);
  h.expect<consumer::revoke>();
}

TEST(ClassicMember, FollowerIgnoresGroupMetadataButRejoinsOnItsOwnSubscription) {
  harness h(config());
  join_as_follower(h, {a0});
  h.m.group_metadata_changed(h.now);
  EXPECT_EQ(h.expect_wait(), t0 + 3s);
  h.m.subscription_changed(h.now);
  const auto r = h.expect<consumer::revoke>();  // eager: everything, not lost
  EXPECT_EQ(r.partitions, (tps{a0}));
  EXPECT_FALSE(r.lost);
}

TEST(ClassicMember, StaticMemberCarriesItsInstanceIdAndNeverLeavesOnStop) {
  harness h(config(rebalance_protocol::eager, "inst-1"));
  h.m.start(h.now);
  auto j = h.expect<consumer::send_join>();
  EXPECT_EQ(j.group_instance_id, "inst-1");
  h.m.on_join_response(join_ok(1, "m-7", "leader-x"), h.now);
  EXPECT_EQ(h.expect<consumer::send_sync>().group_instance_id, "inst-1");
  h.m.on_sync_response(sync_ok({a0}), h.now);
  h.expect<consumer::assign>();
  h.m.assignment_done(h.now);
  h.now += 3s;
  EXPECT_EQ(h.expect<consumer::send_heartbeat>().group_instance_id, "inst-1");
  h.m.on_heartbeat_response(heartbeat(), h.now);
  h.m.leave(h.now);
  EXPECT_EQ(h.m.state(), member_state::stopping);
  const auto r = h.expect<consumer::revoke>();
  EXPECT_FALSE(r.lost);
  h.m.revocation_done(h.now);
  h.expect<consumer::idle>();  // KIP-345: no LeaveGroup, the session expires it
  EXPECT_EQ(h.m.state(), member_state::stopped);
}

TEST(ClassicMember, StaticMemberFencedIsFatal) {
  harness h(config(rebalance_protocol::eager, "inst-1"));
  join_as_follower(h, {a0});
  h.now += 3s;
  h.expect<consumer::send_heartbeat>();
  h.m.on_heartbeat_response(heartbeat(kafka_errc::fenced_instance_id), h.now);
  EXPECT_EQ(h.expect<consumer::failed>().error, make_error_code(kafka_errc::fenced_instance_id));
  EXPECT_EQ(h.m.status().state, member_state::fatal);
  h.m.leave(h.now);
  EXPECT_TRUE(h.expect<consumer::revoke>().lost);
  h.m.revocation_done(h.now);
  h.expect<consumer::idle>();
}

TEST(ClassicMember, EagerRebalanceRevokesOnceWithHeartbeatsDuringTheListener) {
  harness h(config());
  join_as_follower(h, {a0, a1});
  h.now += 3s;
  h.expect<consumer::send_heartbeat>();
  h.m.on_heartbeat_response(heartbeat(kafka_errc::rebalance_in_progress), h.now);
  const auto r = h.expect<consumer::revoke>();
  EXPECT_EQ(r.partitions, (tps{a0, a1}));
  EXPECT_FALSE(r.lost);
  EXPECT_EQ(h.m.state(), member_state::revoking);
  h.now += 3s;  // a slow listener: heartbeats go on
  h.expect<consumer::send_heartbeat>();
  h.m.on_heartbeat_response(heartbeat(kafka_errc::rebalance_in_progress), h.now);
  h.m.revocation_done(h.now);
  const auto j = h.expect<consumer::send_join>();
  EXPECT_TRUE(j.owned_partitions.empty());
  EXPECT_EQ(j.member_id, "m-1");
  h.m.on_join_response(join_error(kafka_errc::rebalance_in_progress), h.now);
  h.expect<consumer::send_join>();  // nothing left to revoke, rejoin at once
  h.m.on_join_response(join_ok(2, "m-1", "leader-x"), h.now);
  h.expect<consumer::send_sync>();
  h.m.on_sync_response(sync_ok({a1, a2}), h.now);
  const auto a = h.expect<consumer::assign>();
  EXPECT_EQ(a.added, (tps{a1, a2}));  // eager: the whole assignment
}

TEST(ClassicMember, CooperativeRevokesOnlyWhatMovesThenRejoinsForTheSecondRound) {
  harness h(config(rebalance_protocol::cooperative));
  join_as_follower(h, {a0, a1});
  h.now += 3s;
  h.expect<consumer::send_heartbeat>();
  h.m.on_heartbeat_response(heartbeat(kafka_errc::rebalance_in_progress), h.now);
  auto j = h.expect<consumer::send_join>();  // no revoke: partitions kept and declared
  EXPECT_EQ(j.owned_partitions, (tps{a0, a1}));
  EXPECT_EQ(j.owned_generation, 1);
  EXPECT_EQ(h.m.assignment(), (tps{a0, a1}));
  h.m.on_join_response(join_ok(2, "m-1", "leader-x"), h.now);
  h.expect<consumer::send_sync>();
  h.m.on_sync_response(sync_ok({a1, a2}), h.now);
  const auto r = h.expect<consumer::revoke>();
  EXPECT_EQ(r.partitions, (tps{a0}));
  EXPECT_FALSE(r.lost);
  h.m.revocation_done(h.now);
  const auto a = h.expect<consumer::assign>();
  EXPECT_EQ(a.added, (tps{a2}));
  EXPECT_EQ(a.assignment, (tps{a1, a2}));
  h.m.assignment_done(h.now);
  j = h.expect<consumer::send_join>();  // second round at once
  EXPECT_EQ(j.owned_partitions, (tps{a1, a2}));
  EXPECT_EQ(j.owned_generation, 2);
  h.m.on_join_response(join_ok(3, "m-1", "leader-x"), h.now);
  h.expect<consumer::send_sync>();
  h.m.on_sync_response(sync_ok({a1, a2}), h.now);
  EXPECT_TRUE(h.expect<consumer::assign>().added.empty());  // nothing moved: no third round
  h.m.assignment_done(h.now);
  EXPECT_EQ(h.expect_wait(), h.now + 3s);
}

TEST(ClassicMember, UnknownMemberAndIllegalGenerationLosePartitionsEvenCooperative) {
  for (auto e : {kafka_errc::unknown_member_id, kafka_errc::illegal_generation}) {
    harness h(config(rebalance_protocol::cooperative));
    join_as_follower(h, {a0});
    h.now += 3s;
    h.expect<consumer::send_heartbeat>();
    h.m.on_heartbeat_response(heartbeat(e), h.now);
    EXPECT_EQ(h.m.generation(), -1);
    const auto r = h.expect<consumer::revoke>();
    EXPECT_TRUE(r.lost);
    EXPECT_EQ(r.partitions, (tps{a0}));
    h.m.revocation_done(h.now);
    const auto j = h.expect<consumer::send_join>();
    EXPECT_EQ(j.member_id, e == kafka_errc::unknown_member_id ? "" : "m-1");
    EXPECT_TRUE(j.owned_partitions.empty());
  }
}

TEST(ClassicMember, CoordinatorTroubleRetriesTheHeartbeatWithDoublingBackoff) {
  harness h(config());
  join_as_follower(h, {a0});
  h.now += 3s;
  const std::error_code errors[] = {make_error_code(kafka_errc::not_coordinator),
                                    make_error_code(kafka_errc::coordinator_not_available),
                                    make_error_code(kafka_errc::coordinator_load_in_progress),
                                    make_error_code(client_errc::timeout), make_error_code(client_errc::connection_lost)};
  const std::chrono::milliseconds waits[] = {100ms, 200ms, 400ms, 800ms, 1000ms};
  for (int i = 0; i < 5; ++i) {
    h.expect<consumer::send_heartbeat>();
    h.m.on_request_failed(consumer::group_request::heartbeat, errors[i], h.now);
    EXPECT_EQ(h.expect_wait(), h.now + waits[i]) << i;
    h.now += waits[i];
  }
  h.expect<consumer::send_heartbeat>();
  h.m.on_heartbeat_response(heartbeat(), h.now);
  EXPECT_EQ(h.m.state(), member_state::stable);
  EXPECT_EQ(h.m.assignment(), (tps{a0}));
}

TEST(ClassicMember, NoHeartbeatForASessionMeansLostAndRejoin) {
  harness h(config());
  join_as_follower(h, {a0});
  for (int i = 0; i < 200 && h.now < t0 + 45s; ++i) {
    const auto a = h.m.next(h.now);
    if (std::holds_alternative<consumer::send_heartbeat>(a)) {
      h.m.on_request_failed(consumer::group_request::heartbeat, make_error_code(client_errc::timeout), h.now);
    } else {
      ASSERT_TRUE(std::holds_alternative<consumer::wait_until>(a));
      ASSERT_LE(std::get<consumer::wait_until>(a).when, t0 + 45s);
      h.now = std::get<consumer::wait_until>(a).when;
      h.m.polled(h.now);
    }
  }
  EXPECT_EQ(h.now, t0 + 45s);
  const auto r = h.expect<consumer::revoke>();
  EXPECT_TRUE(r.lost);
  h.m.revocation_done(h.now);
  EXPECT_EQ(h.expect<consumer::send_join>().member_id, "m-1");
}

TEST(ClassicMember, PollTimeoutLeavesLosesAndRejoinsOnlyOnTheNextPoll) {
  for (const bool is_static : {false, true}) {
    harness h(config(rebalance_protocol::eager, is_static ? std::optional<std::string>("i") : std::nullopt));
    join_as_follower(h, {a0});
    // Heartbeats keep the session alive; the application never polls.
    for (int i = 0; i < 200 && h.now < t0 + 300s; ++i) {
      const auto a = h.m.next(h.now);
      if (std::holds_alternative<consumer::send_heartbeat>(a)) {
        h.m.on_heartbeat_response(heartbeat(), h.now);
      } else {
        ASSERT_TRUE(std::holds_alternative<consumer::wait_until>(a)) << action_name(a);
        h.now = std::get<consumer::wait_until>(a).when;
      }
    }
    ASSERT_EQ(h.now, t0 + 300s);
    const auto l = h.expect<consumer::send_leave>();
    EXPECT_EQ(l.reason, "consumer poll timeout has expired");
    EXPECT_EQ(l.group_instance_id, h.m.config().group_instance_id);
    EXPECT_EQ(l.member_id, "m-1");
    EXPECT_TRUE(h.expect<consumer::revoke>().lost);
    h.m.revocation_done(h.now);
    EXPECT_EQ(h.m.state(), member_state::left_poll_timeout);
    h.m.on_leave_response(leave_ok(), h.now);
    h.now += 600s;
    EXPECT_EQ(h.expect_wait(), forever);  // no rejoin (and no rebalance loop) without a poll
    h.m.subscription_changed(h.now);
    EXPECT_EQ(h.expect_wait(), forever);
    h.m.polled(h.now);
    EXPECT_EQ(h.expect<consumer::send_join>().member_id, "");
  }
}

TEST(ClassicMember, PollClockDoesNotRunDuringTheListener) {
  harness h(config());
  h.m.start(h.now);
  h.expect<consumer::send_join>();
  h.m.on_join_response(join_ok(1, "m-1", "leader-x"), h.now);
  h.expect<consumer::send_sync>();
  h.m.on_sync_response(sync_ok({a0}), h.now);
  h.expect<consumer::assign>();
  for (int i = 0; i < 200 && h.now < t0 + 400s; ++i) {
    const auto a = h.m.next(h.now);
    if (std::holds_alternative<consumer::send_heartbeat>(a)) h.m.on_heartbeat_response(heartbeat(), h.now);
    else h.now = std::get<consumer::wait_until>(a).when;
  }
  EXPECT_EQ(h.m.state(), member_state::assigning);
  h.m.polled(h.now);
  h.m.assignment_done(h.now);
  EXPECT_EQ(h.m.state(), member_state::stable);
}

TEST(ClassicMember, FatalCodesOnJoinAndSync) {
  for (auto e : {kafka_errc::group_authorization_failed, kafka_errc::invalid_session_timeout,
                 kafka_errc::unsupported_version, kafka_errc::inconsistent_group_protocol,
                 kafka_errc::group_max_size_reached, kafka_errc::fenced_instance_id, kafka_errc::invalid_group_id}) {
    harness h(config());
    h.m.start(h.now);
    h.expect<consumer::send_join>();
    h.m.on_join_response(join_error(e), h.now);
    EXPECT_EQ(h.expect<consumer::failed>().error, make_error_code(e));
    harness s(config());
    s.m.start(s.now);
    s.expect<consumer::send_join>();
    s.m.on_join_response(join_ok(1, "m", "x"), s.now);
    s.expect<consumer::send_sync>();
    s.m.on_sync_response(sync_error(e), s.now);
    EXPECT_EQ(s.expect<consumer::failed>().error, make_error_code(e));
  }
  harness v(config());
  v.m.start(v.now);
  v.expect<consumer::send_join>();
  v.m.on_request_failed(consumer::group_request::join, make_error_code(client_errc::unsupported_version), v.now);
  v.expect<consumer::failed>();
}

TEST(ClassicMember, JoinFailuresBackOffAndGroupAnswersRejoinOnceAtOnce) {
  harness h(config());
  h.m.start(h.now);
  h.expect<consumer::send_join>();
  h.m.on_request_failed(consumer::group_request::join, make_error_code(kafka_errc::not_coordinator), h.now);
  EXPECT_EQ(h.expect_wait(), h.now + 100ms);
  h.now += 100ms;
  h.expect<consumer::send_join>();
  h.m.on_join_response(join_error(kafka_errc::coordinator_load_in_progress), h.now);
  EXPECT_EQ(h.expect_wait(), h.now + 200ms);
  h.now += 200ms;
  h.expect<consumer::send_join>();
  h.m.on_join_response(join_ok(1, "m", "x"), h.now);
  h.expect<consumer::send_sync>();
  h.m.on_sync_response(sync_ok({a0}), h.now);  // success resets the count
  h.expect<consumer::assign>();
  h.m.assignment_done(h.now);
  h.m.subscription_changed(h.now);
  h.expect<consumer::revoke>();
  h.m.revocation_done(h.now);
  h.expect<consumer::send_join>();
  h.m.on_join_response(join_error(kafka_errc::rebalance_in_progress), h.now);
  h.expect<consumer::send_join>();  // the first in a row: at once
  h.m.on_join_response(join_error(kafka_errc::rebalance_in_progress), h.now);
  EXPECT_EQ(h.expect_wait(), h.now + 100ms);  // then backed off: a repeating broker cannot make us spin
}

TEST(ClassicMember, SyncFailuresRejoin) {
  harness h(config());
  h.m.start(h.now);
  h.expect<consumer::send_join>();
  h.m.on_join_response(join_ok(1, "m", "x"), h.now);
  h.expect<consumer::send_sync>();
  h.m.on_request_failed(consumer::group_request::sync, make_error_code(kafka_errc::not_coordinator), h.now);
  EXPECT_EQ(h.expect_wait(), h.now + 100ms);
  h.now += 100ms;
  const auto j = h.expect<consumer::send_join>();  // JoinGroup again, as Java, with our ids kept
  EXPECT_EQ(j.member_id, "m");
  h.m.on_join_response(join_ok(2, "m", "x"), h.now);
  h.expect<consumer::send_sync>();
  h.m.on_sync_response(sync_error(kafka_errc::unknown_member_id), h.now);
  EXPECT_EQ(h.expect_wait(), h.now + 100ms);  // the second failed round in a row
  h.now += 100ms;
  EXPECT_EQ(h.expect<consumer::send_join>().member_id, "");
}

TEST(ClassicMember, LeaveDuringJoinAbortsItAndDropsTheLateAnswer) {
  harness h(config());
  h.m.start(h.now);
  h.expect<consumer::send_join>();
  h.m.on_join_response(join_error(kafka_errc::member_id_required, "m-1"), h.now);
  h.expect<consumer::send_join>();
  h.m.leave(h.now);
  const auto l = h.expect<consumer::send_leave>();
  EXPECT_EQ(l.member_id, "m-1");
  EXPECT_FALSE(l.group_instance_id);
  EXPECT_EQ(h.expect_wait(), forever);
  h.m.on_join_response(join_ok(1, "m-1", "m-1", {{"m-1", {"a"}}}), h.now);  // late: dropped
  h.m.on_leave_response(leave_ok(), h.now);
  h.expect<consumer::idle>();
  EXPECT_EQ(h.m.generation(), -1);
  h.m.leave(h.now);  // once only
  h.expect<consumer::idle>();
}

TEST(ClassicMember, RestartAfterAnAbortedSyncWaitsForItsAnswer) {
  harness h(config());
  h.m.start(h.now);
  h.expect<consumer::send_join>();
  h.m.on_join_response(join_ok(1, "m-1", "x"), h.now);
  h.expect<consumer::send_sync>();
  h.m.leave(h.now);
  h.expect<consumer::send_leave>();
  h.m.on_leave_response(leave_ok(), h.now);
  h.expect<consumer::idle>();
  h.m.start(h.now);
  // The old SyncGroup is still out: a new round must not start, or its answer would be
  // taken for the new round's.
  EXPECT_EQ(h.expect_wait(), forever);
  h.m.on_sync_response(sync_ok({a0}), h.now);  // dropped
  EXPECT_TRUE(h.m.assignment().empty());
  h.expect<consumer::send_join>();
}

TEST(ClassicMember, LeaveWhileStableRevokesThenLeavesOnce) {
  harness h(config());
  join_as_follower(h, {a0});
  h.m.leave(h.now);
  const auto r = h.expect<consumer::revoke>();
  EXPECT_FALSE(r.lost);
  h.m.revocation_done(h.now);
  h.expect<consumer::send_leave>();
  EXPECT_EQ(h.expect_wait(), forever);
  h.m.on_request_failed(consumer::group_request::leave, make_error_code(client_errc::timeout), h.now);
  h.expect<consumer::idle>();
  // Subscribing again starts over.
  h.m.start(h.now);
  EXPECT_EQ(h.expect<consumer::send_join>().member_id, "");
}

TEST(ClassicMember, StaleHeartbeatAnswersAreIgnored) {
  harness h(config(rebalance_protocol::cooperative));
  join_as_follower(h, {a0});
  h.now += 3s;
  h.expect<consumer::send_heartbeat>();
  h.m.subscription_changed(h.now);
  h.expect<consumer::send_join>();  // cooperative: while the heartbeat is still pending
  h.m.on_heartbeat_response(heartbeat(kafka_errc::illegal_generation), h.now);
  EXPECT_EQ(h.m.generation(), 1);  // overtaken by the join: ignored
  h.m.on_join_response(join_ok(2, "m-1", "x"), h.now);
  h.expect<consumer::send_sync>();
  h.m.on_sync_response(sync_ok({a0}), h.now);
  h.expect<consumer::assign>();
  h.m.assignment_done(h.now);
  EXPECT_EQ(h.m.state(), member_state::stable);
}

TEST(ClassicMember, SameInputsSameActions) {
  auto run = [] {
    harness h(config(rebalance_protocol::cooperative));
    fake_coordinator f;
    std::vector<std::string> trace;
    h.m.start(h.now);
    for (int i = 0; i < 30; ++i) {
      const auto a = h.m.next(h.now);
      trace.push_back(action_name(a));
      if (!f.answer(h, a)) break;
    }
    return trace;
  };
  EXPECT_EQ(run(), run());
}

}  // namespace
}  // namespace asiokafka::test::member
