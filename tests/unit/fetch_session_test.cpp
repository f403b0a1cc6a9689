// consumer::fetch_session (KIP-227) scripted: which partitions each request lists and forgets,
// the session id and epoch it carries, and what every kind of answer (or none) does next.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "asiokafka/kafka_error.hpp"
#include "asiokafka/protocol/messages/fetch.hpp"
#include "consumer/sansio/fetch_session.hpp"

namespace asiokafka::test {
namespace {

namespace msg = protocol::messages;
using consumer::fetch_response_status;
using consumer::fetch_session;
using consumer::fetch_want;

constexpr std::int32_t mib = 1 << 20;

protocol::uuid id_of(std::uint8_t n) {
  protocol::uuid id{};
  id[15] = n;
  return id;
}

fetch_want want(std::string topic, std::int32_t partition, std::int64_t offset, protocol::uuid id = {}) {
  fetch_want w;
  w.topic = std::move(topic);
  w.topic_id = id;
  w.partition = partition;
  w.fetch_offset = offset;
  w.partition_max_bytes = mib;
  return w;
}

// A request's listed partitions as (topic, partition, offset), in request order.
using listed_t = std::tuple<std::string, std::int32_t, std::int64_t>;
std::vector<listed_t> listed(const msg::FetchRequest& r) {
  std::vector<listed_t> out;
  for (const auto& t : r.topics) {
    for (const auto& p : t.partitions) out.emplace_back(t.topic, p.partition, p.fetch_offset);
  }
  return out;
}

using forgotten_t = std::tuple<std::string, protocol::uuid, std::int32_t>;
std::vector<forgotten_t> forgotten(const msg::FetchRequest& r) {
  std::vector<forgotten_t> out;
  for (const auto& t : r.forgotten_topics_data) {
    for (auto p : t.partitions) out.emplace_back(t.topic, t.topic_id, p);
  }
  return out;
}

// Builds the next request and checks that it encodes in the version chosen.
struct round {
  msg::FetchRequest request;
  consumer::fetch_plan plan;
};
round build(fetch_session& s, const std::vector<fetch_want>& wants, std::int16_t max_version = 12) {
  round r;
  r.plan = s.build(wants, max_version, r.request);
  std::vector<std::uint8_t> bytes;
  EXPECT_FALSE(r.request.encode(bytes, r.plan.version)) << "does not encode in v" << r.plan.version;
  return r;
}

struct part {
  std::string topic;
  std::int32_t partition = 0;
  std::int16_t error = 0;
  protocol::uuid id{};
};
msg::FetchResponse response(std::int32_t session_id, const std::vector<part>& parts, std::int16_t error = 0) {
  msg::FetchResponse r;
  r.session_id = session_id;
  r.error_code = error;
  for (const auto& p : parts) {
    if (r.responses.empty() || r.responses.back().topic != p.topic || r.responses.back().topic_id != p.id) {
      auto& t = r.responses.emplace_back();
      t.topic = p.topic;
      t.topic_id = p.id;
    }
    auto& d = r.responses.back().partitions.emplace_back();
    d.partition_index = p.partition;
    d.error_code = p.error;
  }
  return r;
}

// The want index of each partition of an ok result, in response order.
std::vector<std::size_t> wants_of(const consumer::fetch_response_result& r) {
  std::vector<std::size_t> out;
  for (const auto& p : r.partitions) out.push_back(p.want);
  return out;
}

// A session that the broker opened (id 77) over a-0 at 10 and a-1 at 20: the next request is
// incremental with epoch 1.
fetch_session open_session(std::vector<fetch_want>& wants) {
  wants = {want("a", 0, 10), want("a", 1, 20)};
  fetch_session s;
  auto r = build(s, wants);
  const auto res = s.on_response(response(77, {{"a", 0}, {"a", 1}}));
  EXPECT_EQ(res.status, fetch_response_status::ok);
  EXPECT_EQ(s.session_id(), 77);
  EXPECT_EQ(s.next_epoch(), 1);
  return s;
}

TEST(FetchSession, FirstRequestIsFullAndAsksForASession) {
  fetch_session s;
  const std::vector<fetch_want> wants{want("a", 0, 10), want("b", 3, 5), want("a", 1, 20)};
  auto r = build(s, wants);
  EXPECT_TRUE(r.plan.full);
  EXPECT_EQ(r.plan.version, 12);
  EXPECT_EQ(r.request.session_id, 0);
  EXPECT_EQ(r.request.session_epoch, 0);
  // Grouped by topic in order of first appearance, partitions in the order wanted.
  EXPECT_EQ(listed(r.request), (std::vector<listed_t>{{"a", 0, 10}, {"a", 1, 20}, {"b", 3, 5}}));
  EXPECT_EQ(r.request.topics.size(), 2u);
  EXPECT_TRUE(r.request.forgotten_topics_data.empty());
  EXPECT_EQ(r.plan.listed, 3u);
  EXPECT_EQ(r.request.topics[0].partitions[0].partition_max_bytes, mib);
  EXPECT_TRUE(s.pending());

  // Results point into the response: it must outlive them.
  const auto answer = response(77, {{"a", 0}, {"a", 1}, {"b", 3}});
  const auto res = s.on_response(answer);
  ASSERT_EQ(res.status, fetch_response_status::ok);
  EXPECT_EQ(wants_of(res), (std::vector<std::size_t>{0, 2, 1}));
  EXPECT_EQ(res.partitions[2].data, &answer.responses[1].partitions[0]);
  EXPECT_EQ(res.partitions[2].data->partition_index, 3);
  EXPECT_FALSE(s.pending());
  EXPECT_EQ(s.session_id(), 77);
  EXPECT_EQ(s.next_epoch(), 1);
}

TEST(FetchSession, IncrementalRequestsListOnlyWhatChanged) {
  std::vector<fetch_want> wants;
  fetch_session s = open_session(wants);

  wants[1].fetch_offset = 25;  // a-1 returned records: the consumer moved on
  auto r = build(s, wants);
  EXPECT_FALSE(r.plan.full);
  EXPECT_EQ(r.request.session_id, 77);
  EXPECT_EQ(r.request.session_epoch, 1);
  EXPECT_EQ(listed(r.request), (std::vector<listed_t>{{"a", 1, 25}}));
  EXPECT_TRUE(r.request.forgotten_topics_data.empty());
  // Partitions the incremental answer leaves out had no new data.
  auto res = s.on_response(response(77, {{"a", 1}}));
  ASSERT_EQ(res.status, fetch_response_status::ok);
  EXPECT_EQ(wants_of(res), (std::vector<std::size_t>{1}));
  EXPECT_EQ(s.next_epoch(), 2);

  // Nothing changed: an empty incremental request, the epoch still moves.
  r = build(s, wants);
  EXPECT_FALSE(r.plan.full);
  EXPECT_EQ(r.request.session_epoch, 2);
  EXPECT_TRUE(r.request.topics.empty());
  EXPECT_EQ(r.plan.listed, 0u);
  res = s.on_response(response(77, {}));
  EXPECT_EQ(res.status, fetch_response_status::ok);
  EXPECT_TRUE(res.partitions.empty());
  EXPECT_EQ(s.next_epoch(), 3);
  EXPECT_EQ(s.size(), 2u);
}

// (listed, current_leader_epoch, last_fetched_epoch, log_start_offset, partition_max_bytes)
using sent_t = std::tuple<bool, std::int32_t, std::int32_t, std::int64_t, std::int32_t>;

TEST(FetchSession, EachCarriedFieldCountsAsAChange) {
  // a-0 changed by `mutate`, in an incremental request of `version`: what was sent for it.
  auto changed = [](auto mutate, std::int16_t version) {
    std::vector<fetch_want> wants;
    fetch_session s = open_session(wants);
    mutate(wants[0]);
    auto r = build(s, wants, version);
    EXPECT_FALSE(r.plan.full);
    if (r.plan.listed != 1) {
      EXPECT_EQ(r.plan.listed, 0u);
      return sent_t{false, -1, -1, -1, 0};
    }
    const auto& p = r.request.topics.at(0).partitions.at(0);
    EXPECT_EQ(p.partition, 0);
    return sent_t{true, p.current_leader_epoch, p.last_fetched_epoch, p.log_start_offset, p.partition_max_bytes};
  };
  EXPECT_EQ(changed([](fetch_want& w) { w.partition_max_bytes = 4096; }, 12), sent_t(true, -1, -1, -1, 4096));
  EXPECT_EQ(changed([](fetch_want& w) { w.current_leader_epoch = 7; }, 12), sent_t(true, 7, -1, -1, mib));
  EXPECT_EQ(changed([](fetch_want& w) { w.last_fetched_epoch = 6; }, 12), sent_t(true, -1, 6, -1, mib));
  EXPECT_EQ(changed([](fetch_want& w) { w.log_start_offset = 3; }, 12), sent_t(true, -1, -1, 3, mib));
  // A version that cannot carry a field neither sends it nor counts its change (v8 has no
  // leader epoch, v11 no last fetched epoch): the broker could not tell.
  EXPECT_EQ(changed([](fetch_want& w) { w.current_leader_epoch = 7; }, 8), sent_t(false, -1, -1, -1, 0));
  EXPECT_EQ(changed([](fetch_want& w) { w.last_fetched_epoch = 6; }, 11), sent_t(false, -1, -1, -1, 0));
  EXPECT_EQ(changed([](fetch_want& w) { w.current_leader_epoch = 7; }, 9), sent_t(true, 7, -1, -1, mib));
}

TEST(FetchSession, AddedPartitionsAreListedAndUnwantedOnesForgotten) {
  std::vector<fetch_want> wants;
  fetch_session s = open_session(wants);

  // a-1 is no longer wanted (paused, or its records not yet drained); b-0 and a-2 are new.
  std::vector<fetch_want> next{want("b", 0, 0), wants[0], want("a", 2, 30)};
  auto r = build(s, next);
  EXPECT_FALSE(r.plan.full);
  EXPECT_EQ(listed(r.request), (std::vector<listed_t>{{"b", 0, 0}, {"a", 2, 30}}));
  EXPECT_EQ(forgotten(r.request), (std::vector<forgotten_t>{{"a", protocol::uuid{}, 1}}));
  EXPECT_EQ(r.plan.forgotten, 1u);
  EXPECT_EQ(s.size(), 3u);
  // The unchanged a-0 maps to its new place in the wants.
  const auto res = s.on_response(response(77, {{"a", 0}, {"a", 2}, {"b", 0}}));
  ASSERT_EQ(res.status, fetch_response_status::ok);
  EXPECT_EQ(wants_of(res), (std::vector<std::size_t>{1, 2, 0}));
  // A forgotten partition in an answer does not belong to the session any more.
  r = build(s, next);
  EXPECT_EQ(s.on_response(response(77, {{"a", 1}})).status, fetch_response_status::invalid);
}

TEST(FetchSession, AForgottenPartitionIsListedInFullWhenWantedAgain) {
  std::vector<fetch_want> wants;
  fetch_session s = open_session(wants);
  auto r = build(s, {wants[0]});
  EXPECT_EQ(forgotten(r.request), (std::vector<forgotten_t>{{"a", protocol::uuid{}, 1}}));
  ASSERT_EQ(s.on_response(response(77, {})).status, fetch_response_status::ok);

  // Same offset as before it was forgotten: the broker no longer has it, so it is listed.
  r = build(s, wants);
  EXPECT_FALSE(r.plan.full);
  EXPECT_EQ(r.request.session_epoch, 2);
  EXPECT_EQ(listed(r.request), (std::vector<listed_t>{{"a", 1, 20}}));
  EXPECT_TRUE(r.request.forgotten_topics_data.empty());
}

TEST(FetchSession, DuplicateWantsCountOnce) {
  fetch_session s;
  auto dup = want("a", 0, 99);
  auto r = build(s, {want("a", 0, 10), dup});
  EXPECT_EQ(listed(r.request), (std::vector<listed_t>{{"a", 0, 10}}));
  ASSERT_EQ(s.on_response(response(5, {{"a", 0}})).status, fetch_response_status::ok);
  r = build(s, {want("a", 0, 10), dup});
  EXPECT_TRUE(r.request.topics.empty());
  EXPECT_TRUE(r.request.forgotten_topics_data.empty());
}

TEST(FetchSession, PartitionErrorsReachTheCallerAndKeepTheSession) {
  std::vector<fetch_want> wants;
  fetch_session s = open_session(wants);
  build(s, wants);
  const auto nl = static_cast<std::int16_t>(kafka_errc::not_leader_or_follower);
  const auto answer = response(77, {{"a", 1, nl}});
  const auto res = s.on_response(answer);
  ASSERT_EQ(res.status, fetch_response_status::ok);
  ASSERT_EQ(res.partitions.size(), 1u);
  EXPECT_EQ(res.partitions[0].want, 1u);
  EXPECT_EQ(res.partitions[0].data->error_code, nl);
  EXPECT_EQ(s.next_epoch(), 2);
  EXPECT_EQ(s.size(), 2u);
}

TEST(FetchSession, SessionNotFoundForgetsTheId) {
  std::vector<fetch_want> wants;
  fetch_session s = open_session(wants);
  build(s, wants);
  const auto code = static_cast<std::int16_t>(kafka_errc::fetch_session_id_not_found);
  const auto res = s.on_response(response(0, {}, code));
  EXPECT_EQ(res.status, fetch_response_status::error);
  EXPECT_EQ(res.error, kafka_errc::fetch_session_id_not_found);
  EXPECT_TRUE(res.partitions.empty());
  auto r = build(s, wants);
  EXPECT_TRUE(r.plan.full);
  EXPECT_EQ(r.request.session_id, 0);
  EXPECT_EQ(r.request.session_epoch, 0);
  EXPECT_EQ(listed(r.request), (std::vector<listed_t>{{"a", 0, 10}, {"a", 1, 20}}));
}

TEST(FetchSession, InvalidEpochClosesTheSessionAndAsksForANewOne) {
  std::vector<fetch_want> wants;
  fetch_session s = open_session(wants);
  build(s, wants);
  const auto code = static_cast<std::int16_t>(kafka_errc::invalid_fetch_session_epoch);
  const auto res = s.on_response(response(77, {}, code));
  EXPECT_EQ(res.status, fetch_response_status::error);
  EXPECT_EQ(res.error, kafka_errc::invalid_fetch_session_epoch);
  auto r = build(s, wants);
  EXPECT_TRUE(r.plan.full);
  EXPECT_EQ(r.request.session_id, 77);  // (id, 0): close 77, open a new one
  EXPECT_EQ(r.request.session_epoch, 0);
  EXPECT_EQ(r.plan.listed, 2u);
  // The new session's answer replaces the old id.
  ASSERT_EQ(s.on_response(response(78, {{"a", 0}, {"a", 1}})).status, fetch_response_status::ok);
  EXPECT_EQ(s.session_id(), 78);
  EXPECT_EQ(s.next_epoch(), 1);
}

TEST(FetchSession, NoAnswerMakesTheNextRequestFull) {
  std::vector<fetch_want> wants;
  fetch_session s = open_session(wants);
  wants[0].fetch_offset = 11;
  build(s, wants);
  s.on_failure();  // lost connection, timeout or cancellation: applied or not, nobody knows
  EXPECT_FALSE(s.pending());
  auto r = build(s, wants);
  EXPECT_TRUE(r.plan.full);
  EXPECT_EQ(r.request.session_id, 77);
  EXPECT_EQ(r.request.session_epoch, 0);
  EXPECT_EQ(listed(r.request), (std::vector<listed_t>{{"a", 0, 11}, {"a", 1, 20}}));
  // An answer arriving after the failure was reported is ignored.
  s.on_failure();
  EXPECT_EQ(s.on_response(response(77, {{"a", 0}, {"a", 1}})).status, fetch_response_status::unexpected);
}

TEST(FetchSession, BuildingAgainWithoutAnAnswerCountsAsAFailure) {
  std::vector<fetch_want> wants;
  fetch_session s = open_session(wants);
  auto r = build(s, wants);
  EXPECT_FALSE(r.plan.full);
  r = build(s, wants);
  EXPECT_TRUE(r.plan.full);
  EXPECT_EQ(r.request.session_id, 77);
  EXPECT_EQ(r.request.session_epoch, 0);
}

TEST(FetchSession, AnswersThatDoNotMatchTheSessionReset) {
  {  // a full answer that omits a partition: its data cannot be trusted, start from scratch
    fetch_session s;
    build(s, {want("a", 0, 1), want("a", 1, 1)});
    const auto res = s.on_response(response(77, {{"a", 0}}));
    EXPECT_EQ(res.status, fetch_response_status::invalid);
    EXPECT_TRUE(res.partitions.empty());
    auto r = build(s, {want("a", 0, 1), want("a", 1, 1)});
    EXPECT_TRUE(r.plan.full);
    EXPECT_EQ(r.request.session_id, 0);
  }
  {  // an incremental answer naming a partition outside the session
    std::vector<fetch_want> wants;
    fetch_session s = open_session(wants);
    build(s, wants);
    const auto res = s.on_response(response(77, {{"a", 0}, {"z", 9}}));
    EXPECT_EQ(res.status, fetch_response_status::invalid);
    EXPECT_TRUE(res.partitions.empty());
    auto r = build(s, wants);
    EXPECT_TRUE(r.plan.full);
    EXPECT_EQ(r.request.session_id, 77);
    EXPECT_EQ(r.request.session_epoch, 0);
  }
}

TEST(FetchSession, ThrottledEmptyFullAnswerIsRetriedInFull) {
  fetch_session s;
  build(s, {want("a", 0, 1)});
  auto throttled = response(0, {});
  throttled.throttle_time_ms = 300;
  EXPECT_EQ(s.on_response(throttled).status, fetch_response_status::throttled);
  auto r = build(s, {want("a", 0, 1)});
  EXPECT_TRUE(r.plan.full);
  EXPECT_EQ(r.request.session_epoch, 0);
  // The same empty answer without a throttle time is simply wrong.
  EXPECT_EQ(s.on_response(response(0, {})).status, fetch_response_status::invalid);
}

TEST(FetchSession, BrokerEndingTheSessionKeepsItsAnswer) {
  std::vector<fetch_want> wants;
  fetch_session s = open_session(wants);
  build(s, wants);
  const auto res = s.on_response(response(0, {{"a", 1}}));
  ASSERT_EQ(res.status, fetch_response_status::ok);
  EXPECT_EQ(wants_of(res), (std::vector<std::size_t>{1}));
  auto r = build(s, wants);
  EXPECT_TRUE(r.plan.full);
  EXPECT_EQ(r.request.session_id, 0);
  EXPECT_EQ(r.request.session_epoch, 0);
}

TEST(FetchSession, ABrokerThatMakesNoSessionGetsFullRequests) {
  fetch_session s;
  const std::vector<fetch_want> wants{want("a", 0, 10)};
  for (int i = 0; i < 3; ++i) {
    auto r = build(s, wants);
    EXPECT_TRUE(r.plan.full);
    EXPECT_EQ(r.request.session_id, 0);
    EXPECT_EQ(r.request.session_epoch, 0);  // still asking for one
    EXPECT_EQ(r.plan.listed, 1u);
    ASSERT_EQ(s.on_response(response(0, {{"a", 0}})).status, fetch_response_status::ok);
    EXPECT_EQ(s.session_id(), 0);
    EXPECT_EQ(s.next_epoch(), 0);
  }
}

TEST(FetchSession, BeforeFetchV7ThereAreNoSessions) {
  std::vector<fetch_want> wants;
  fetch_session s = open_session(wants);
  // The connection now only speaks v6: sessionless (0, -1), always full, nothing forgotten.
  for (int i = 0; i < 2; ++i) {
    auto r = build(s, {wants[0]}, 6);
    EXPECT_EQ(r.plan.version, 6);
    EXPECT_TRUE(r.plan.full);
    EXPECT_EQ(r.request.session_id, 0);
    EXPECT_EQ(r.request.session_epoch, -1);
    EXPECT_EQ(listed(r.request), (std::vector<listed_t>{{"a", 0, 10}}));
    EXPECT_TRUE(r.request.forgotten_topics_data.empty());
    const auto res = s.on_response(response(0, {{"a", 0}}));
    ASSERT_EQ(res.status, fetch_response_status::ok);
    EXPECT_EQ(wants_of(res), (std::vector<std::size_t>{0}));
  }
  msg::FetchRequest close_request;
  EXPECT_FALSE(s.close(close_request));
}

TEST(FetchSession, CloseSendsTheFinalEpochOnce) {
  std::vector<fetch_want> wants;
  fetch_session s = open_session(wants);
  build(s, wants);
  ASSERT_EQ(s.on_response(response(77, {})).status, fetch_response_status::ok);
  msg::FetchRequest req;
  req.topics.emplace_back();  // whatever was there is replaced
  const auto version = s.close(req);
  ASSERT_TRUE(version);
  EXPECT_EQ(*version, 12);
  EXPECT_EQ(req.session_id, 77);
  EXPECT_EQ(req.session_epoch, -1);
  EXPECT_TRUE(req.topics.empty());
  EXPECT_TRUE(req.forgotten_topics_data.empty());
  std::vector<std::uint8_t> bytes;
  EXPECT_FALSE(req.encode(bytes, *version));
  EXPECT_EQ(s.session_id(), 0);
  EXPECT_FALSE(s.close(req));  // nothing left to close
  // An answer to the close is not an answer to a fetch.
  EXPECT_EQ(s.on_response(response(0, {})).status, fetch_response_status::unexpected);
  // Used again, the session starts afresh.
  auto r = build(s, wants);
  EXPECT_TRUE(r.plan.full);
  EXPECT_EQ(r.request.session_id, 0);
  EXPECT_EQ(r.request.session_epoch, 0);
}

TEST(FetchSession, CloseAfterAFailureStillClosesTheBrokersSession) {
  std::vector<fetch_want> wants;
  fetch_session s = open_session(wants);
  build(s, wants);  // in flight when the consumer stops: cancelled
  s.on_failure();
  msg::FetchRequest req;
  ASSERT_TRUE(s.close(req));
  EXPECT_EQ(req.session_id, 77);
  EXPECT_EQ(req.session_epoch, -1);

  fetch_session never;
  EXPECT_FALSE(never.close(req));
}

TEST(FetchSession, TopicIdsAreUsedWhenEveryPartitionHasOne) {
  fetch_session s;
  std::vector<fetch_want> wants{want("a", 0, 10, id_of(1)), want("b", 0, 5, id_of(2))};
  auto r = build(s, wants, 16);
  EXPECT_EQ(r.plan.version, 16);
  ASSERT_EQ(r.request.topics.size(), 2u);
  EXPECT_EQ(r.request.topics[0].topic_id, id_of(1));
  EXPECT_EQ(r.request.topics[1].topic_id, id_of(2));
  // v13+ answers name topics by id only.
  auto res = s.on_response(response(9, {{"", 0, 0, id_of(2)}, {"", 0, 0, id_of(1)}}));
  ASSERT_EQ(res.status, fetch_response_status::ok);
  EXPECT_EQ(wants_of(res), (std::vector<std::size_t>{1, 0}));

  // One partition without an id: by name, at most v12, and (a change of family) a full request.
  wants.push_back(want("c", 0, 0));
  r = build(s, wants, 16);
  EXPECT_EQ(r.plan.version, 12);
  EXPECT_TRUE(r.plan.full);
  EXPECT_EQ(r.request.session_id, 9);
  EXPECT_EQ(r.request.session_epoch, 0);
  EXPECT_EQ(r.plan.listed, 3u);
  res = s.on_response(response(10, {{"a", 0}, {"b", 0}, {"c", 0}}));
  ASSERT_EQ(res.status, fetch_response_status::ok);
  EXPECT_EQ(wants_of(res), (std::vector<std::size_t>{0, 1, 2}));

  // Ids known again: back to v16, again in full.
  wants[2].topic_id = id_of(3);
  r = build(s, wants, 16);
  EXPECT_EQ(r.plan.version, 16);
  EXPECT_TRUE(r.plan.full);
  EXPECT_EQ(r.request.session_id, 10);
  // An id the session does not know makes the answer invalid.
  EXPECT_EQ(s.on_response(response(11, {{"", 0, 0, id_of(1)}, {"", 0, 0, id_of(2)}, {"", 0, 0, id_of(4)}})).status,
            fetch_response_status::invalid);
}

TEST(FetchSession, ARecreatedTopicIsForgottenUnderItsOldId) {
  fetch_session s;
  std::vector<fetch_want> wants{want("a", 0, 10, id_of(1)), want("a", 1, 10, id_of(1))};
  build(s, wants, 13);
  ASSERT_EQ(s.on_response(response(9, {{"", 0, 0, id_of(1)}, {"", 1, 0, id_of(1)}})).status, fetch_response_status::ok);

  wants[0] = want("a", 0, 0, id_of(5));  // "a" deleted and created again: new id
  wants[1] = want("a", 1, 0, id_of(5));
  auto r = build(s, wants, 13);
  EXPECT_FALSE(r.plan.full);
  EXPECT_EQ(forgotten(r.request), (std::vector<forgotten_t>{{"a", id_of(1), 0}, {"a", id_of(1), 1}}));
  ASSERT_EQ(r.request.topics.size(), 1u);
  EXPECT_EQ(r.request.topics[0].topic_id, id_of(5));
  EXPECT_EQ(r.plan.listed, 2u);
  // Answers for the new id map back; the old id is gone.
  auto res = s.on_response(response(9, {{"", 1, 0, id_of(5)}}));
  ASSERT_EQ(res.status, fetch_response_status::ok);
  EXPECT_EQ(wants_of(res), (std::vector<std::size_t>{1}));
  build(s, wants, 13);
  EXPECT_EQ(s.on_response(response(9, {{"", 0, 0, id_of(1)}})).status, fetch_response_status::invalid);
}

TEST(FetchSession, ForgettingByIdNamesTheTopicIdAndGroupsByTopic) {
  fetch_session s;
  std::vector<fetch_want> wants{want("a", 0, 1, id_of(1)), want("b", 0, 1, id_of(2)), want("a", 1, 1, id_of(1))};
  build(s, wants, 13);
  ASSERT_EQ(s.on_response(response(3, {{"", 0, 0, id_of(1)}, {"", 1, 0, id_of(1)}, {"", 0, 0, id_of(2)}})).status,
            fetch_response_status::ok);
  auto r = build(s, {}, 13);
  EXPECT_FALSE(r.plan.full);
  EXPECT_EQ(r.plan.version, 13);
  ASSERT_EQ(r.request.forgotten_topics_data.size(), 2u);
  EXPECT_EQ(forgotten(r.request),
            (std::vector<forgotten_t>{{"a", id_of(1), 0}, {"a", id_of(1), 1}, {"b", id_of(2), 0}}));
  EXPECT_EQ(s.size(), 0u);
}

}  // namespace
}  // namespace asiokafka::test
