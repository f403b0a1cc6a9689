// The classic member's request builders (src/consumer/sansio/classic_member_requests): every
// version encodes (fields a version lacks are left out), static membership needs the versions
// with instance ids, LeaveGroup's two layouts, the JoinGroup protocols per assignor.
#include <gtest/gtest.h>

#include "classic_member_helpers.hpp"
#include "consumer/sansio/classic_member_requests.hpp"

namespace asiokafka::test::member {
namespace {

template <class Request>
void encodes_in_every_version(const Request& r, std::int16_t from) {
  for (std::int16_t v = from; v <= Request::max_version; ++v) {
    std::vector<std::uint8_t> out;
    EXPECT_FALSE(r.encode(out, v)) << "version " << v;
  }
}

TEST(ClassicMemberRequests, DynamicMemberRequestsEncodeInEveryVersion) {
  const consumer::send_join join{"m", std::nullopt, 45'000, 300'000, "why", {a0}, 3};
  for (std::int16_t v = 0; v <= msg::JoinGroupRequest::max_version; ++v) {
    msg::JoinGroupRequest r;
    ASSERT_FALSE(consumer::make_request(join, "g", {}, v, r));
    EXPECT_EQ(r.group_id, "g");
    EXPECT_EQ(r.protocol_type, "consumer");
    EXPECT_EQ(r.reason.has_value(), v >= 8);
    std::vector<std::uint8_t> out;
    EXPECT_FALSE(r.encode(out, v)) << v;
  }
  for (std::int16_t v = 0; v <= msg::LeaveGroupRequest::max_version; ++v) {
    msg::LeaveGroupRequest r;
    ASSERT_FALSE(consumer::make_request(consumer::send_leave{"m", std::nullopt, "bye"}, "g", v, r));
    if (v < 3) {
      EXPECT_EQ(r.member_id, "m");
    } else {
      ASSERT_EQ(r.members.size(), 1u);
      EXPECT_EQ(r.members[0].member_id, "m");
      EXPECT_EQ(r.members[0].reason.has_value(), v >= 5);
    }
    std::vector<std::uint8_t> out;
    EXPECT_FALSE(r.encode(out, v)) << v;
  }
  msg::SyncGroupRequest s;
  ASSERT_FALSE(consumer::make_request(consumer::send_sync{1, "m", std::nullopt, "consumer", "range", {{"m", {1, 2}}}},
                                      "g", 4, s));
  EXPECT_FALSE(s.protocol_name);  // v5+
  ASSERT_EQ(s.assignments.size(), 1u);
  encodes_in_every_version(s, 0);
  msg::HeartbeatRequest hb;
  ASSERT_FALSE(consumer::make_request(consumer::send_heartbeat{1, "m", std::nullopt}, "g", 0, hb));
  encodes_in_every_version(hb, 0);
}

TEST(ClassicMemberRequests, StaticMembershipNeedsInstanceIdVersions) {
  const auto unsupported = make_error_code(client_errc::unsupported_version);
  consumer::send_join join;
  join.group_instance_id = "i";
  msg::JoinGroupRequest j;
  EXPECT_EQ(consumer::make_request(join, "g", {}, 4, j), unsupported);
  EXPECT_FALSE(consumer::make_request(join, "g", {}, 5, j));
  EXPECT_EQ(j.group_instance_id, "i");
  msg::SyncGroupRequest s;
  EXPECT_EQ(consumer::make_request(consumer::send_sync{1, "m", "i", "consumer", "range", {}}, "g", 2, s), unsupported);
  msg::HeartbeatRequest h;
  EXPECT_EQ(consumer::make_request(consumer::send_heartbeat{1, "m", "i"}, "g", 2, h), unsupported);
  EXPECT_FALSE(consumer::make_request(consumer::send_heartbeat{1, "m", "i"}, "g", 3, h));
  msg::LeaveGroupRequest l;
  EXPECT_EQ(consumer::make_request(consumer::send_leave{"m", "i", ""}, "g", 2, l), unsupported);
  EXPECT_FALSE(consumer::make_request(consumer::send_leave{"m", "i", ""}, "g", 3, l));
  EXPECT_EQ(l.members.at(0).group_instance_id, "i");
}

TEST(ClassicMemberRequests, JoinProtocolsCarryOwnedPartitionsPerAssignor) {
  std::vector<std::unique_ptr<consumer::assignor>> assignors;
  assignors.push_back(consumer::make_assignor("cooperative-sticky"));
  assignors.push_back(consumer::make_assignor("range"));
  const consumer::send_join join{"m", std::nullopt, 1, 1, "", {a0, a1}, 4};
  std::vector<msg::JoinGroupRequest::JoinGroupRequestProtocol> protocols;
  ASSERT_FALSE(consumer::encode_join_protocols(join, assignors, {"a", "b"}, std::nullopt, protocols));
  ASSERT_EQ(protocols.size(), 2u);
  EXPECT_EQ(protocols[0].name, "cooperative-sticky");
  EXPECT_EQ(protocols[1].name, "range");
  for (const auto& p : protocols) {
    consumer::member_subscription s;
    ASSERT_FALSE(consumer::decode_subscription(p.metadata, s));
    EXPECT_EQ(s.topics, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(s.owned_partitions, (tps{a0, a1}));
    EXPECT_EQ(s.generation, 4);
  }
}

}  // namespace
}  // namespace asiokafka::test::member
