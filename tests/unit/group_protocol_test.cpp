// The consumer protocol payloads (src/consumer/sansio/group_protocol): round trips of every
// version, byte layouts written out as the Java client and librdkafka write them, newer
// versions and trailing bytes read as Java reads them, and malformed or truncated payloads.
#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "asiokafka/error.hpp"
#include "consumer/sansio/group_protocol.hpp"

namespace asiokafka::test {
namespace {

using consumer::decode_assignment;
using consumer::decode_subscription;
using consumer::encode_assignment;
using consumer::encode_subscription;
using consumer::member_assignment;
using consumer::member_subscription;
using bytes = std::vector<std::uint8_t>;

// Big-endian building blocks for hand-written payloads.
void i16(bytes& b, std::int16_t v) {
  b.push_back(static_cast<std::uint8_t>((v >> 8) & 0xff));
  b.push_back(static_cast<std::uint8_t>(v & 0xff));
}
void i32(bytes& b, std::int32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>((v >> s) & 0xff));
}
void str(bytes& b, const std::string& s) {
  i16(b, static_cast<std::int16_t>(s.size()));
  b.insert(b.end(), s.begin(), s.end());
}
// [topic, [partitions]] as both payloads carry it.
void topic_partitions(bytes& b, std::initializer_list<std::pair<std::string, std::vector<std::int32_t>>> topics) {
  i32(b, static_cast<std::int32_t>(topics.size()));
  for (const auto& [t, ps] : topics) {
    str(b, t);
    i32(b, static_cast<std::int32_t>(ps.size()));
    for (const auto p : ps) i32(b, p);
  }
}

member_subscription full_subscription() {
  member_subscription s;
  s.topics = {"orders", "payments"};
  s.owned_partitions = {{"orders", 0}, {"orders", 3}, {"payments", 1}};
  s.generation = 7;
  s.rack_id = "rack-a";
  s.user_data = {1, 2, 3};
  return s;
}

TEST(GroupProtocol, SubscriptionRoundTripsInEveryVersion) {
  const auto s = full_subscription();
  for (std::int16_t v = 0; v <= 3; ++v) {
    SCOPED_TRACE(v);
    bytes out;
    ASSERT_FALSE(encode_subscription(s, out, v));
    ASSERT_GE(out.size(), 2u);
    EXPECT_EQ(out[0], 0);
    EXPECT_EQ(out[1], v);
    member_subscription back;
    ASSERT_FALSE(decode_subscription(out, back));
    EXPECT_EQ(back.topics, s.topics);
    EXPECT_EQ(back.user_data, s.user_data);
    EXPECT_EQ(back.owned_partitions, v >= 1 ? s.owned_partitions : std::vector<TopicPartition>{});
    EXPECT_EQ(back.generation, v >= 2 ? 7 : -1);
    EXPECT_EQ(back.rack_id, v >= 3 ? s.rack_id : std::nullopt);
  }
  bytes out;
  EXPECT_EQ(encode_subscription(s, out, 4), client_errc::unknown_api);
  EXPECT_EQ(encode_subscription(s, out, -1), client_errc::unknown_api);
  EXPECT_TRUE(out.empty());
}

TEST(GroupProtocol, DefaultVersionIsThreeAndKeepsMemberIdentity) {
  bytes out;
  ASSERT_FALSE(encode_subscription(full_subscription(), out));
  EXPECT_EQ(out[1], 3);
  member_subscription back;
  back.member_id = "m-1";
  back.group_instance_id = "instance-1";
  ASSERT_FALSE(decode_subscription(out, back));
  auto expected = full_subscription();
  expected.member_id = "m-1";
  expected.group_instance_id = "instance-1";
  EXPECT_EQ(back, expected);
}

TEST(GroupProtocol, SubscriptionIsWrittenSortedAndGroupedByTopic) {
  member_subscription s;
  s.topics = {"b", "a", "b"};
  s.owned_partitions = {{"b", 2}, {"a", 1}, {"b", 0}};
  bytes out;
  ASSERT_FALSE(encode_subscription(s, out, 3));
  bytes expected;
  i16(expected, 3);
  i32(expected, 2);
  str(expected, "a");
  str(expected, "b");
  i32(expected, -1);  // user data: null
  topic_partitions(expected, {{"a", {1}}, {"b", {0, 2}}});
  i32(expected, -1);  // generation
  i16(expected, -1);  // rack: null
  EXPECT_EQ(out, expected);
}

TEST(GroupProtocol, ReadsVersionZeroAsJavaAndLibrdkafkaWriteIt) {
  bytes b;
  i16(b, 0);
  i32(b, 2);
  str(b, "t0");
  str(b, "t1");
  i32(b, -1);  // Java: no user data is null
  member_subscription s;
  ASSERT_FALSE(decode_subscription(b, s));
  EXPECT_EQ(s.topics, (std::vector<std::string>{"t0", "t1"}));
  EXPECT_TRUE(s.user_data.empty());
  EXPECT_TRUE(s.owned_partitions.empty());
  EXPECT_EQ(s.generation, -1);

  bytes r;  // librdkafka writes empty (not null) user data, and topics in its own order
  i16(r, 0);
  i32(r, 2);
  str(r, "t1");
  str(r, "t0");
  i32(r, 0);
  ASSERT_FALSE(decode_subscription(r, s));
  EXPECT_EQ(s.topics, (std::vector<std::string>{"t0", "t1"}));
  EXPECT_TRUE(s.user_data.empty());
}

TEST(GroupProtocol, ReadsVersionOneWithOwnedPartitions) {
  bytes b;
  i16(b, 1);
  i32(b, 1);
  str(b, "t0");
  i32(b, 4);
  b.insert(b.end(), {9, 8, 7, 6});
  topic_partitions(b, {{"t0", {2, 0}}, {"t9", {5}}});
  member_subscription s;
  ASSERT_FALSE(decode_subscription(b, s));
  EXPECT_EQ(s.user_data, (bytes{9, 8, 7, 6}));
  EXPECT_EQ(s.owned_partitions, (std::vector<TopicPartition>{{"t0", 0}, {"t0", 2}, {"t9", 5}}));
  EXPECT_EQ(s.generation, -1);
}

TEST(GroupProtocol, NewerVersionsReadAsVersionThreeIgnoringWhatFollows) {
  bytes out;
  ASSERT_FALSE(encode_subscription(full_subscription(), out, 3));
  out[1] = 9;  // version 9: our fields, then fields we do not know
  out.insert(out.end(), {0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 1});
  member_subscription s;
  ASSERT_FALSE(decode_subscription(out, s));
  EXPECT_EQ(s, full_subscription());
  out[0] = 0x7f;  // version 32,512
  ASSERT_FALSE(decode_subscription(out, s));
  EXPECT_EQ(s, full_subscription());

  // Bytes after the fields of a known version are ignored too, as Java's reader does.
  bytes v2;
  ASSERT_FALSE(encode_subscription(full_subscription(), v2, 2));
  v2.push_back(0);
  v2.push_back(0);
  ASSERT_FALSE(decode_subscription(v2, s));
  EXPECT_EQ(s.generation, 7);
  EXPECT_EQ(s.rack_id, std::nullopt);
}

TEST(GroupProtocol, EmptyRackReadsAsNoRack) {
  auto with_empty = full_subscription();
  with_empty.rack_id = "";
  bytes out;
  ASSERT_FALSE(encode_subscription(with_empty, out, 3));
  member_subscription s;
  ASSERT_FALSE(decode_subscription(out, s));
  EXPECT_EQ(s.rack_id, std::nullopt);
}

TEST(GroupProtocol, MalformedSubscriptionsAreErrorsAndLeaveTheOutputAlone) {
  bytes good;
  ASSERT_FALSE(encode_subscription(full_subscription(), good, 3));
  member_subscription untouched;
  untouched.member_id = "keep";
  untouched.topics = {"x"};
  // Every strict prefix is cut inside a field of version 3.
  for (std::size_t k = 0; k < good.size(); ++k) {
    SCOPED_TRACE(k);
    auto s = untouched;
    const bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(k));
    EXPECT_TRUE(decode_subscription(cut, s));
    EXPECT_EQ(s, untouched);
  }
  auto s = untouched;
  bytes negative = good;
  negative[0] = 0xff;  // version -1
  EXPECT_EQ(decode_subscription(negative, s), client_errc::malformed);

  bytes null_topics;
  i16(null_topics, 0);
  i32(null_topics, -1);
  i32(null_topics, -1);
  EXPECT_EQ(decode_subscription(null_topics, s), client_errc::malformed);

  bytes huge_count;
  i16(huge_count, 1);
  i32(huge_count, 0x7ffffff0);  // far more topics than bytes
  EXPECT_EQ(decode_subscription(huge_count, s), client_errc::truncated);

  bytes bad_string;
  i16(bad_string, 0);
  i32(bad_string, 1);
  i16(bad_string, -5);  // negative string length
  i32(bad_string, -1);
  EXPECT_TRUE(decode_subscription(bad_string, s));
  EXPECT_EQ(s, untouched);
}

TEST(GroupProtocol, AssignmentRoundTripsInEveryVersion) {
  member_assignment a;
  a.partitions = {{"a", 0}, {"a", 5}, {"b", 2}};
  a.user_data = {42};
  for (std::int16_t v = 0; v <= 3; ++v) {
    SCOPED_TRACE(v);
    bytes out;
    ASSERT_FALSE(encode_assignment(a, out, v));
    EXPECT_EQ(out[1], v);
    member_assignment back;
    ASSERT_FALSE(decode_assignment(out, back));
    EXPECT_EQ(back, a);
  }
  bytes out;
  EXPECT_EQ(encode_assignment(a, out, 4), client_errc::unknown_api);
}

TEST(GroupProtocol, AssignmentLayoutAsJavaWritesIt) {
  member_assignment a;
  a.partitions = {{"t1", 1}, {"t0", 0}, {"t1", 0}};
  bytes out;
  ASSERT_FALSE(encode_assignment(a, out));
  bytes expected;
  i16(expected, 3);
  topic_partitions(expected, {{"t0", {0}}, {"t1", {0, 1}}});
  i32(expected, -1);
  EXPECT_EQ(out, expected);
}

TEST(GroupProtocol, ReadsOldAndNewerAssignments) {
  bytes v0;
  i16(v0, 0);
  topic_partitions(v0, {{"t0", {1, 0}}});
  i32(v0, 0);  // empty user data
  member_assignment a;
  ASSERT_FALSE(decode_assignment(v0, a));
  EXPECT_EQ(a.partitions, (std::vector<TopicPartition>{{"t0", 0}, {"t0", 1}}));

  // Kafka 2.4's Java client wrote an int16 error code after a version 1 assignment.
  bytes v1 = v0;
  v1[1] = 1;
  i16(v1, 0);
  ASSERT_FALSE(decode_assignment(v1, a));
  EXPECT_EQ(a.partitions.size(), 2u);

  bytes v5 = v0;
  v5[1] = 5;
  v5.insert(v5.end(), {1, 2, 3});
  ASSERT_FALSE(decode_assignment(v5, a));
  EXPECT_EQ(a.partitions.size(), 2u);

  // The coordinator sends an empty payload to a member the leader left out.
  a.user_data = {1};
  ASSERT_FALSE(decode_assignment({}, a));
  EXPECT_EQ(a, member_assignment{});
}

TEST(GroupProtocol, MalformedAssignmentsAreErrors) {
  member_assignment a;
  a.partitions = {{"topic", 3}};
  a.user_data = {7, 7};
  bytes good;
  ASSERT_FALSE(encode_assignment(a, good));
  for (std::size_t k = 1; k < good.size(); ++k) {
    SCOPED_TRACE(k);
    auto out = a;
    EXPECT_TRUE(decode_assignment(bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(k)), out));
    EXPECT_EQ(out, a);
  }
  bytes negative = good;
  negative[0] = 0x80;
  EXPECT_EQ(decode_assignment(negative, a), client_errc::malformed);
}

}  // namespace
}  // namespace asiokafka::test
