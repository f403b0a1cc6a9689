// Fuzzes the classic consumer group payloads (consumer::decode_subscription and
// decode_assignment) and feeds what decodes to every assignor.
// Input: byte 0 bit 0 set: the rest is a SyncGroup assignment payload; clear: a JoinGroup
// subscription payload, and bits 1-3 choose how many partitions each of its topics has (1..8).
// Checks: no crash, leak or UB; a payload that decodes comes out normalised (topics and
// partitions sorted and unique) and survives an encode/decode round trip in version 3 unchanged;
// a subscription, as one member beside a second member subscribing to the same topics and
// owning nothing, gets from each assignor: an entry for both members, partitions that exist,
// only of topics the member subscribes, none twice; and from the eager ones every partition.
#include <cstddef>
#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "consumer/sansio/assignors.hpp"
#include "consumer/sansio/group_protocol.hpp"
#include "fuzz_check.hpp"

namespace cs = asiokafka::consumer;
using asiokafka::TopicPartition;

namespace {

bool sorted_unique(const std::vector<TopicPartition>& v) {
  for (std::size_t i = 1; i < v.size(); ++i) {
    if (!(v[i - 1] < v[i])) return false;
  }
  return true;
}

void check_assignment(std::span<const std::uint8_t> payload) {
  cs::member_assignment a;
  if (cs::decode_assignment(payload, a)) return;
  FUZZ_CHECK(sorted_unique(a.partitions));
  std::vector<std::uint8_t> again;
  FUZZ_CHECK(!cs::encode_assignment(a, again));
  cs::member_assignment b;
  FUZZ_CHECK(!cs::decode_assignment(again, b));
  FUZZ_CHECK(a == b);
}

void check_subscription(std::span<const std::uint8_t> payload, std::int32_t partitions_per_topic) {
  cs::member_subscription s;
  s.member_id = "m1";
  if (cs::decode_subscription(payload, s)) return;
  for (std::size_t i = 1; i < s.topics.size(); ++i) FUZZ_CHECK(s.topics[i - 1] < s.topics[i]);
  FUZZ_CHECK(sorted_unique(s.owned_partitions));
  std::vector<std::uint8_t> again;
  FUZZ_CHECK(!cs::encode_subscription(s, again));
  cs::member_subscription r;
  r.member_id = "m1";
  FUZZ_CHECK(!cs::decode_subscription(again, r));
  FUZZ_CHECK(r == s);

  cs::member_subscription other;
  other.member_id = "m2";
  other.topics = s.topics;
  const std::vector<cs::member_subscription> members{s, other};
  cs::partition_counts counts;
  for (const auto& t : s.topics) counts[t] = partitions_per_topic;
  const std::size_t total = s.topics.size() * static_cast<std::size_t>(partitions_per_topic);
  const std::set<std::string> subscribed(s.topics.begin(), s.topics.end());
  for (const char* name : {"range", "roundrobin", "sticky", "cooperative-sticky"}) {
    const auto assignor = cs::make_assignor(name);
    FUZZ_CHECK(assignor != nullptr);
    const cs::group_assignment result = assignor->assign(counts, members);
    FUZZ_CHECK(result.size() == 2 && result.contains("m1") && result.contains("m2"));
    std::set<TopicPartition> seen;
    for (const auto& entry : result) {
      for (const TopicPartition& tp : entry.second) {
        FUZZ_CHECK(subscribed.contains(tp.topic));
        FUZZ_CHECK(tp.partition >= 0 && tp.partition < partitions_per_topic);
        FUZZ_CHECK(seen.insert(tp).second);
      }
    }
    if (assignor->protocol() == cs::rebalance_protocol::eager) FUZZ_CHECK(seen.size() == total);
    // User data for the next round, from what this member got: must not throw or crash.
    (void)assignor->subscription_user_data(result.at("m1"), 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return -1;
  const std::span<const std::uint8_t> payload(data + 1, size - 1);
  if (data[0] & 1) {
    check_assignment(payload);
  } else {
    check_subscription(payload, static_cast<std::int32_t>((data[0] >> 1) & 7) + 1);
  }
  return 0;
}
