// The KIP-848 member's request builder (src/consumer/sansio/consumer_member_requests): every
// field lands in the generated request and encodes in every version; a regex needs v1; the
// removal of a regex is left out at v0; null fields stay null.
#include <gtest/gtest.h>

#include "consumer/sansio/consumer_member_requests.hpp"
#include "consumer_member_helpers.hpp"

namespace asiokafka::test::kip848 {
namespace {

send_consumer_heartbeat full_join() {
  send_consumer_heartbeat a;
  a.group_id = "g";
  a.member_id = "mid-1";
  a.member_epoch = 0;
  a.instance_id = "i";
  a.rack_id = "r";
  a.rebalance_timeout_ms = 300'000;
  a.subscribed_topic_names = std::vector<std::string>{"a", "b"};
  a.server_assignor = "uniform";
  a.topic_partitions = std::vector<consumer::topic_id_partitions>{{id_a, {0, 2}}, {id_b, {1}}};
  a.full = true;
  return a;
}

TEST(ConsumerMemberRequests, EveryFieldInEveryVersion) {
  const auto a = full_join();
  for (std::int16_t v = 0; v <= msg::ConsumerGroupHeartbeatRequest::max_version; ++v) {
    msg::ConsumerGroupHeartbeatRequest r;
    ASSERT_FALSE(consumer::make_request(a, v, r)) << v;
    EXPECT_EQ(r.group_id, "g");
    EXPECT_EQ(r.member_id, "mid-1");
    EXPECT_EQ(r.member_epoch, 0);
    EXPECT_EQ(r.instance_id, "i");
    EXPECT_EQ(r.rack_id, "r");
    EXPECT_EQ(r.rebalance_timeout_ms, 300'000);
    EXPECT_EQ(r.subscribed_topic_names, (std::vector<std::string>{"a", "b"}));
    EXPECT_FALSE(r.subscribed_topic_regex);
    EXPECT_EQ(r.server_assignor, "uniform");
    ASSERT_TRUE(r.topic_partitions);
    ASSERT_EQ(r.topic_partitions->size(), 2u);
    EXPECT_EQ((*r.topic_partitions)[0].topic_id, id_a);
    EXPECT_EQ((*r.topic_partitions)[0].partitions, (std::vector<std::int32_t>{0, 2}));
    std::vector<std::uint8_t> out;
    ASSERT_FALSE(r.encode(out, v)) << v;
    msg::ConsumerGroupHeartbeatRequest back;
    ASSERT_FALSE(back.decode(out, v));
    EXPECT_EQ(back, r);
  }
}

TEST(ConsumerMemberRequests, PartialHeartbeatKeepsNulls) {
  send_consumer_heartbeat a;
  a.group_id = "g";
  a.member_id = "mid-1";
  a.member_epoch = 7;
  msg::ConsumerGroupHeartbeatRequest r;
  ASSERT_FALSE(consumer::make_request(a, 1, r));
  EXPECT_EQ(r.member_epoch, 7);
  EXPECT_EQ(r.rebalance_timeout_ms, -1);
  EXPECT_FALSE(r.instance_id);
  EXPECT_FALSE(r.rack_id);
  EXPECT_FALSE(r.subscribed_topic_names);
  EXPECT_FALSE(r.subscribed_topic_regex);
  EXPECT_FALSE(r.server_assignor);
  EXPECT_FALSE(r.topic_partitions);
  std::vector<std::uint8_t> out;
  EXPECT_FALSE(r.encode(out, 1));
}

TEST(ConsumerMemberRequests, RegexNeedsVersionOne) {
  auto a = full_join();
  a.subscribed_topic_names = std::vector<std::string>{};
  a.subscribed_topic_regex = "a.*";
  msg::ConsumerGroupHeartbeatRequest r;
  EXPECT_EQ(consumer::make_request(a, 0, r), make_error_code(client_errc::unsupported_version));
  ASSERT_FALSE(consumer::make_request(a, 1, r));
  EXPECT_EQ(r.subscribed_topic_regex, "a.*");
  std::vector<std::uint8_t> out;
  EXPECT_FALSE(r.encode(out, 1));
  // Removing a regex at v0: none can have been sent, so the field is simply left out.
  a.subscribed_topic_regex = "";
  msg::ConsumerGroupHeartbeatRequest v0;
  ASSERT_FALSE(consumer::make_request(a, 0, v0));
  EXPECT_FALSE(v0.subscribed_topic_regex);
  EXPECT_FALSE(v0.encode(out, 0));
  ASSERT_FALSE(consumer::make_request(a, 1, r));
  EXPECT_EQ(r.subscribed_topic_regex, "");
  EXPECT_EQ(consumer::make_request(a, 2, r), make_error_code(client_errc::unsupported_version));
}

TEST(ConsumerMemberRequests, TheMembersHeartbeatsBuildInBothVersions) {
  harness h(config("inst"));
  h.m.start(topics({"a"}), h.now);
  const auto j = h.expect<send_consumer_heartbeat>();
  for (std::int16_t v = 0; v <= 1; ++v) {
    msg::ConsumerGroupHeartbeatRequest r;
    ASSERT_FALSE(consumer::make_request(j, v, r));
    ASSERT_TRUE(r.topic_partitions);  // the broker rejects a join without it
    EXPECT_TRUE(r.topic_partitions->empty());
    EXPECT_EQ(r.subscribed_topic_names, std::vector<std::string>{"a"});
    EXPECT_EQ(r.rebalance_timeout_ms, 300'000);
  }
}

}  // namespace
}  // namespace asiokafka::test::kip848
