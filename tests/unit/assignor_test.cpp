// The range and roundrobin assignors (src/consumer/sansio/assignors): Java's documented
// RangeAssignor examples, aiokafka's documented RoundRobin cases, member order with static
// members, members without subscriptions, unknown and unsubscribed topics, more members than
// partitions; the factory.
#include <gtest/gtest.h>

#include "assignor_helpers.hpp"

namespace asiokafka::test {
namespace {

TEST(Assignors, FactoryKnowsTheFourNames) {
  for (const auto* name : {"range", "roundrobin", "sticky", "cooperative-sticky"}) {
    const auto a = consumer::make_assignor(name);
    ASSERT_NE(a, nullptr) << name;
    EXPECT_EQ(a->name(), name);
    EXPECT_EQ(a->protocol(), std::string_view(name) == "cooperative-sticky" ? consumer::rebalance_protocol::cooperative
                                                                             : consumer::rebalance_protocol::eager);
  }
  EXPECT_EQ(consumer::make_assignor("Range"), nullptr);
  EXPECT_EQ(consumer::make_assignor(""), nullptr);
  EXPECT_TRUE(consumer::make_assignor("range")->subscription_user_data({tp("t", 0)}, 3).empty());
  EXPECT_TRUE(consumer::make_assignor("roundrobin")->subscription_user_data({tp("t", 0)}, 3).empty());
}

TEST(Assignors, MemberOrderPutsStaticMembersFirstByInstanceId) {
  const auto dyn_a = member("a", {});
  const auto dyn_b = member("b", {});
  const auto static_z = member("z", {}, {}, -1, "i1");
  const auto static_y = member("y", {}, {}, -1, "i2");
  EXPECT_TRUE(consumer::member_order_less(dyn_a, dyn_b));
  EXPECT_FALSE(consumer::member_order_less(dyn_b, dyn_a));
  EXPECT_TRUE(consumer::member_order_less(static_z, dyn_a));
  EXPECT_FALSE(consumer::member_order_less(dyn_a, static_z));
  EXPECT_TRUE(consumer::member_order_less(static_z, static_y));  // by instance id, not member id
  EXPECT_FALSE(consumer::member_order_less(static_y, static_z));
}

// RangeAssignor's Javadoc: C0 and C1 over t0 and t1 with three partitions each.
TEST(RangeAssignor, JavaDocumentedExample) {
  const auto r = run("range", {{"t0", 3}, {"t1", 3}}, {member("C0", {"t0", "t1"}), member("C1", {"t0", "t1"})});
  EXPECT_EQ(r.at("C0"), (tps{tp("t0", 0), tp("t0", 1), tp("t1", 0), tp("t1", 1)}));
  EXPECT_EQ(r.at("C1"), (tps{tp("t0", 2), tp("t1", 2)}));
  EXPECT_EQ(r.size(), 2u);
}

// The Javadoc's static-membership example: after a rolling bounce the member ids change order
// (C0 became C3, C1 became C2), yet instance ids keep the assignment where it was.
TEST(RangeAssignor, StaticMembersKeepTheirRangesAcrossNewMemberIds) {
  const partition_counts counts{{"t0", 3}, {"t1", 3}};
  const auto dynamic = run("range", counts, {member("C3", {"t0", "t1"}), member("C2", {"t0", "t1"})});
  EXPECT_EQ(dynamic.at("C2"), (tps{tp("t0", 0), tp("t0", 1), tp("t1", 0), tp("t1", 1)}));  // shuffled
  const auto fixed = run("range", counts,
                         {member("C3", {"t0", "t1"}, {}, -1, "I0"), member("C2", {"t0", "t1"}, {}, -1, "I1")});
  EXPECT_EQ(fixed.at("C3"), (tps{tp("t0", 0), tp("t0", 1), tp("t1", 0), tp("t1", 1)}));
  EXPECT_EQ(fixed.at("C2"), (tps{tp("t0", 2), tp("t1", 2)}));
  // A static member comes before any dynamic one.
  const auto mixed = run("range", {{"t", 2}}, {member("a", {"t"}), member("z", {"t"}, {}, -1, "zz")});
  EXPECT_EQ(mixed.at("z"), (tps{tp("t", 0)}));
  EXPECT_EQ(mixed.at("a"), (tps{tp("t", 1)}));
}

TEST(RangeAssignor, FirstMembersTakeTheRemainder) {
  const auto r = run("range", {{"t", 8}}, {member("m1", {"t"}), member("m2", {"t"}), member("m3", {"t"})});
  EXPECT_EQ(r.at("m1"), (tps{tp("t", 0), tp("t", 1), tp("t", 2)}));
  EXPECT_EQ(r.at("m2"), (tps{tp("t", 3), tp("t", 4), tp("t", 5)}));
  EXPECT_EQ(r.at("m3"), (tps{tp("t", 6), tp("t", 7)}));
}

TEST(RangeAssignor, PerTopicAmongItsSubscribersOnly) {
  const auto r = run("range", {{"t0", 3}, {"t1", 2}, {"nobody", 4}},
                     {member("C0", {"t0"}), member("C1", {"t0", "t1", "missing"}), member("C2", {})});
  EXPECT_EQ(r.at("C0"), (tps{tp("t0", 0), tp("t0", 1)}));
  EXPECT_EQ(r.at("C1"), (tps{tp("t0", 2), tp("t1", 0), tp("t1", 1)}));
  EXPECT_TRUE(r.at("C2").empty());
  EXPECT_EQ(r.size(), 3u);
}

TEST(RangeAssignor, MoreMembersThanPartitions) {
  const auto r = run("range", {{"t", 2}, {"u", 0}},
                     {member("a", {"t", "u"}), member("b", {"t"}), member("c", {"t"}), member("d", {"t"})});
  EXPECT_EQ(r.at("a"), (tps{tp("t", 0)}));
  EXPECT_EQ(r.at("b"), (tps{tp("t", 1)}));
  EXPECT_TRUE(r.at("c").empty());
  EXPECT_TRUE(r.at("d").empty());
}

TEST(RangeAssignor, NoMembersOrNoTopics) {
  EXPECT_TRUE(run("range", {{"t", 3}}, {}).empty());
  const auto r = run("range", {}, {member("a", {"t"})});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r.at("a").empty());
}

// aiokafka's RoundRobinPartitionAssignor documentation, first case.
TEST(RoundRobinAssignor, AiokafkaEqualSubscriptions) {
  const auto r = run("roundrobin", {{"t0", 3}, {"t1", 3}}, {member("C0", {"t0", "t1"}), member("C1", {"t0", "t1"})});
  EXPECT_EQ(r.at("C0"), (tps{tp("t0", 0), tp("t0", 2), tp("t1", 1)}));
  EXPECT_EQ(r.at("C1"), (tps{tp("t0", 1), tp("t1", 0), tp("t1", 2)}));
}

// aiokafka's second case: unequal subscriptions.
TEST(RoundRobinAssignor, AiokafkaUnequalSubscriptions) {
  const auto r = run("roundrobin", {{"t0", 1}, {"t1", 2}, {"t2", 3}},
                     {member("C0", {"t0"}), member("C1", {"t0", "t1"}), member("C2", {"t0", "t1", "t2"})});
  EXPECT_EQ(r.at("C0"), (tps{tp("t0", 0)}));
  EXPECT_EQ(r.at("C1"), (tps{tp("t1", 0)}));
  EXPECT_EQ(r.at("C2"), (tps{tp("t1", 1), tp("t2", 0), tp("t2", 1), tp("t2", 2)}));
}

TEST(RoundRobinAssignor, StaticMembersFirstAndTheCircleContinuesAcrossTopics) {
  const auto r = run("roundrobin", {{"a", 2}, {"b", 3}},
                     {member("m1", {"a", "b"}), member("m2", {"a", "b"}, {}, -1, "s1"), member("m3", {"b"})});
  // Order: m2 (static), m1, m3. a0 m2, a1 m1, then b0 m3, b1 m2, b2 m1.
  EXPECT_EQ(r.at("m2"), (tps{tp("a", 0), tp("b", 1)}));
  EXPECT_EQ(r.at("m1"), (tps{tp("a", 1), tp("b", 2)}));
  EXPECT_EQ(r.at("m3"), (tps{tp("b", 0)}));
}

TEST(RoundRobinAssignor, UnsubscribedTopicsMembersWithoutTopicsAndFewPartitions) {
  const auto r = run("roundrobin", {{"t", 2}, {"nobody", 5}},
                     {member("a", {"t"}), member("b", {}), member("c", {"t", "gone"}), member("d", {"t"})});
  EXPECT_EQ(r.at("a"), (tps{tp("t", 0)}));
  EXPECT_TRUE(r.at("b").empty());
  EXPECT_EQ(r.at("c"), (tps{tp("t", 1)}));
  EXPECT_TRUE(r.at("d").empty());
  EXPECT_EQ(r.size(), 4u);
}

TEST(Assignors, RepeatedMemberIdCountsOnce) {
  for (const auto* name : {"range", "roundrobin", "sticky", "cooperative-sticky"}) {
    const auto r = run(name, {{"t", 4}}, {member("a", {"t"}), member("a", {"t"}), member("b", {"t"})});
    ASSERT_EQ(r.size(), 2u) << name;
    EXPECT_EQ(r.at("a").size(), 2u) << name;
    EXPECT_EQ(r.at("b").size(), 2u) << name;
  }
}

}  // namespace
}  // namespace asiokafka::test
