// consumer::consumer_member (KIP-848) when things go wrong: fencing (partitions lost, rejoin with
// the same member id), fatal codes, retriable failures with growing and capped backoff, session
// expiry, the poll timeout and its rejoin on the next poll.
#include <gtest/gtest.h>

#include "consumer_member_helpers.hpp"

namespace asiokafka::test::kip848 {
namespace {
TEST(ConsumerMember, FencedOrUnknownMemberLosesPartitionsAndRejoinsWithTheSameId) {
  for (auto e : {kafka_errc::fenced_member_epoch, kafka_errc::unknown_member_id}) {
    SCOPED_TRACE(static_cast<int>(e));
    harness h(config());
    join(h, {{id_a, {0, 1}}}, 4);
    h.now += 2s;
    h.expect<send_consumer_heartbeat>();
    h.m.on_heartbeat_response(hb_error(e), h.now);
    EXPECT_EQ(h.m.member_epoch(), 0);
    const auto r = h.expect<consumer::revoke>();
    EXPECT_TRUE(r.lost);
    EXPECT_EQ(r.partitions, (tps{a0, a1}));
    EXPECT_EQ(h.expect_wait(), forever);  // no join while the lost listener runs
    h.m.revocation_done(h.now);
    auto j = h.expect<send_consumer_heartbeat>();  // at once the first time
    EXPECT_EQ(j.member_epoch, 0);
    EXPECT_EQ(j.member_id, "mid-1");
    EXPECT_TRUE(j.full);
    ASSERT_TRUE(j.topic_partitions);
    EXPECT_TRUE(j.topic_partitions->empty());
    h.m.on_heartbeat_response(hb_error(e), h.now);
    EXPECT_EQ(h.expect_wait(), h.now + 100ms);  // in a row: backed off
    h.now += 100ms;
    j = h.expect<send_consumer_heartbeat>();
    h.m.on_heartbeat_response(hb_ok(6, id_parts{{id_a, {0}}}), h.now);
    EXPECT_EQ(h.expect<consumer::assign>().added, (tps{a0}));  // the names were kept
  }
}

TEST(ConsumerMember, FencedDuringAnAssignListenerLosesWhatItAdded) {
  harness h(config());
  join(h, {{id_a, {0}}});
  h.now += 2s;
  h.expect<send_consumer_heartbeat>();
  h.m.on_heartbeat_response(hb_ok(2, id_parts{{id_a, {0, 1}}}), h.now);
  h.expect<consumer::assign>();
  h.now += 2s;
  h.expect<send_consumer_heartbeat>();
  h.m.on_heartbeat_response(hb_error(kafka_errc::fenced_member_epoch), h.now);
  EXPECT_EQ(h.expect_wait(), forever);
  h.m.assignment_done(h.now);
  const auto r = h.expect<consumer::revoke>();
  EXPECT_TRUE(r.lost);
  EXPECT_EQ(r.partitions, (tps{a0, a1}));
  h.m.revocation_done(h.now);
  EXPECT_EQ(h.expect<send_consumer_heartbeat>().member_epoch, 0);
}

TEST(ConsumerMember, FatalCodesFailUntilLeaveWhichLosesWithoutAHeartbeat) {
  const std::error_code fatal[] = {
      make_error_code(kafka_errc::unreleased_instance_id), make_error_code(kafka_errc::fenced_instance_id),
      make_error_code(kafka_errc::group_authorization_failed), make_error_code(kafka_errc::unsupported_assignor),
      make_error_code(kafka_errc::invalid_request),          make_error_code(kafka_errc::group_max_size_reached),
      make_error_code(kafka_errc::unsupported_version),      make_error_code(kafka_errc::invalid_regular_expression),
      make_error_code(kafka_errc::unknown_server_error),     make_error_code(client_errc::unsupported_version),
      make_error_code(kafka_errc::sasl_authentication_failed)};
  for (const auto& ec : fatal) {
    SCOPED_TRACE(ec.message());
    harness h(config("inst-1"));
    join(h, {{id_a, {0}}});
    h.now += 2s;
    h.expect<send_consumer_heartbeat>();
    if (ec.category() == kafka_category()) h.m.on_heartbeat_response(hb_error(static_cast<kafka_errc>(ec.value())), h.now);
    else h.m.on_request_failed(ec, h.now);
    EXPECT_EQ(h.expect<consumer::failed>().error, ec);
    h.now += 60s;
    EXPECT_EQ(h.expect<consumer::failed>().error, ec);  // no heartbeat, no retry
    EXPECT_EQ(h.m.status().state, member_state::fatal);
    h.m.leave(h.now);
    const auto r = h.expect<consumer::revoke>();
    EXPECT_TRUE(r.lost);
    h.m.revocation_done(h.now);
    h.expect<consumer::idle>();
  }
  // Fatal on the join too.
  harness j(config());
  j.m.start(topics({"a"}), j.now);
  j.expect<send_consumer_heartbeat>();
  j.m.on_heartbeat_response(hb_error(kafka_errc::group_max_size_reached), j.now);
  j.expect<consumer::failed>();
}

TEST(ConsumerMember, RetriableFailuresBackOffWithGrowthAndCapKeepingPartitions) {
  harness h(config());
  join(h, {{id_a, {0}}});
  h.now += 2s;
  const std::error_code errors[] = {make_error_code(kafka_errc::not_coordinator),
                                    make_error_code(kafka_errc::coordinator_not_available),
                                    make_error_code(kafka_errc::coordinator_load_in_progress),
                                    make_error_code(client_errc::timeout),
                                    make_error_code(client_errc::connection_lost),
                                    make_error_code(kafka_errc::not_coordinator)};
  const std::chrono::milliseconds waits[] = {100ms, 200ms, 400ms, 800ms, 1000ms, 1000ms};
  for (int i = 0; i < 6; ++i) {
    const auto hb = h.expect<send_consumer_heartbeat>();
    EXPECT_EQ(hb.full, i > 0) << i;  // after a failure: every field again
    EXPECT_EQ(hb.member_epoch, 1);
    if (errors[i].category() == kafka_category())
      h.m.on_heartbeat_response(hb_error(static_cast<kafka_errc>(errors[i].value())), h.now);
    else
      h.m.on_request_failed(errors[i], h.now);
    EXPECT_EQ(h.expect_wait(), h.now + waits[i]) << i;
    EXPECT_EQ(h.m.assignment(), (tps{a0}));
    h.now += waits[i];
  }
  const auto hb = h.expect<send_consumer_heartbeat>();
  EXPECT_TRUE(hb.full);
  EXPECT_EQ(hb.rack_id, "r1");
  EXPECT_EQ(hb.rebalance_timeout_ms, 300'000);
  EXPECT_EQ(hb.subscribed_topic_names, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(reported(hb), (id_parts{{id_a, {0}}}));
  h.m.on_heartbeat_response(hb_ok(1), h.now);
  EXPECT_EQ(h.expect_wait(), h.now + 2s);  // a success resets the backoff
  h.now += 2s;
  EXPECT_FALSE(h.expect<send_consumer_heartbeat>().full);
  h.m.on_request_failed(make_error_code(client_errc::timeout), h.now);
  EXPECT_EQ(h.expect_wait(), h.now + 100ms);
}

TEST(ConsumerMember, RetriableJoinFailuresBackOff) {
  harness h(config());
  h.m.start(topics({"a"}), h.now);
  h.expect<send_consumer_heartbeat>();
  h.m.on_heartbeat_response(hb_error(kafka_errc::coordinator_load_in_progress), h.now);
  EXPECT_EQ(h.m.state(), member_state::unjoined);
  EXPECT_EQ(h.expect_wait(), h.now + 100ms);
  h.now += 100ms;
  EXPECT_EQ(h.expect<send_consumer_heartbeat>().member_epoch, 0);
  h.m.on_request_failed(make_error_code(client_errc::connection_lost), h.now);
  EXPECT_EQ(h.expect_wait(), h.now + 200ms);
  h.m.coordinator_unknown(h.now + 150ms);  // holds back at least a backoff from then
  EXPECT_EQ(h.expect_wait(), h.now + 250ms);
}

TEST(ConsumerMember, NoHeartbeatForASessionMeansLostAndRejoin) {
  harness h(config());
  join(h, {{id_a, {0}}});
  const auto last_ok = h.now;
  for (int i = 0; i < 200 && h.now < last_ok + 45s; ++i) {
    const auto a = h.m.next(h.now);
    if (std::holds_alternative<send_consumer_heartbeat>(a)) {
      h.m.on_request_failed(make_error_code(client_errc::timeout), h.now);
    } else {
      ASSERT_TRUE(std::holds_alternative<consumer::wait_until>(a)) << action_name(a);
      ASSERT_LE(std::get<consumer::wait_until>(a).when, last_ok + 45s);
      h.now = std::get<consumer::wait_until>(a).when;
      h.m.polled(h.now);
    }
  }
  ASSERT_EQ(h.now, last_ok + 45s);
  const auto r = h.expect<consumer::revoke>();
  EXPECT_TRUE(r.lost);
  h.m.revocation_done(h.now);
  EXPECT_EQ(h.m.status().last_error, make_error_code(client_errc::timeout));
  EXPECT_EQ(h.m.member_epoch(), 0);
  h.now = h.expect_wait();  // the backoff of the last failure still holds
  EXPECT_LE(h.now, last_ok + 46s);
  const auto j = h.expect<send_consumer_heartbeat>();
  EXPECT_EQ(j.member_epoch, 0);
  EXPECT_EQ(j.member_id, "mid-1");
}

TEST(ConsumerMember, PollTimeoutLeavesLosesAndRejoinsOnlyOnTheNextPoll) {
  for (const bool is_static : {false, true}) {
    SCOPED_TRACE(is_static);
    harness h(config(is_static ? std::optional<std::string>("i") : std::nullopt));
    join(h, {{id_a, {0}}});
    // Heartbeats keep the membership alive; the application never polls.
    for (int i = 0; i < 400 && h.now < t0 + 300s; ++i) {
      const auto a = h.m.next(h.now);
      if (std::holds_alternative<send_consumer_heartbeat>(a)) {
        h.m.on_heartbeat_response(hb_ok(1), h.now);
      } else {
        ASSERT_TRUE(std::holds_alternative<consumer::wait_until>(a)) << action_name(a);
        h.now = std::get<consumer::wait_until>(a).when;
      }
    }
    ASSERT_EQ(h.now, t0 + 300s);
    const auto l = h.expect<send_consumer_heartbeat>();  // the leave first, then the listener
    EXPECT_EQ(l.member_epoch, is_static ? -2 : -1);
    EXPECT_EQ(l.member_id, "mid-1");
    const auto r = h.expect<consumer::revoke>();
    EXPECT_TRUE(r.lost);
    EXPECT_EQ(r.partitions, (tps{a0}));
    h.m.revocation_done(h.now);
    EXPECT_EQ(h.m.state(), member_state::left_poll_timeout);
    h.m.on_heartbeat_response(hb_error(kafka_errc::unknown_member_id), h.now);  // ignored
    h.now += 600s;
    EXPECT_EQ(h.expect_wait(), forever);  // no rejoin without a poll
    h.m.subscription_changed(topics({"b"}), h.now);
    EXPECT_EQ(h.expect_wait(), forever);
    h.m.polled(h.now);
    const auto j = h.expect<send_consumer_heartbeat>();
    EXPECT_EQ(j.member_epoch, 0);
    EXPECT_EQ(j.member_id, "mid-1");
    EXPECT_EQ(j.subscribed_topic_names, std::vector<std::string>{"b"});
  }
}

TEST(ConsumerMember, PollClockDoesNotRunDuringTheListener) {
  harness h(config());
  h.m.topics_resolved(all_names, h.now);
  h.m.start(topics({"a"}), h.now);
  h.expect<send_consumer_heartbeat>();
  h.m.on_heartbeat_response(hb_ok(1, id_parts{{id_a, {0}}}), h.now);
  h.expect<consumer::assign>();
  for (int i = 0; i < 400 && h.now < t0 + 400s; ++i) {
    const auto a = h.m.next(h.now);
    if (std::holds_alternative<send_consumer_heartbeat>(a)) h.m.on_heartbeat_response(hb_ok(1), h.now);
    else h.now = std::get<consumer::wait_until>(a).when;
  }
  EXPECT_EQ(h.m.state(), member_state::assigning);
  h.m.polled(h.now);
  h.m.assignment_done(h.now);
  EXPECT_EQ(h.m.state(), member_state::stable);
  EXPECT_EQ(h.m.member_epoch(), 1);
}

}  // namespace
}  // namespace asiokafka::test::kip848
