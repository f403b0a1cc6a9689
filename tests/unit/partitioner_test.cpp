// producer::murmur2 and partition_for_key against the Java client's known hashes and, at run
// time, against librdkafka's murmur2_random partitioner; producer::sticky_partitioner
// (KIP-480) with fixed seeds.
#include "producer/sansio/partitioner.hpp"

#include <librdkafka/rdkafka.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <new>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace asiokafka::producer {
namespace {

std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// ---- murmur2 and partition_for_key ----

TEST(Murmur2, JavaClientKnownValues) {
  // Kafka's UtilsTest.testMurmur2: Utils.murmur2 returns a signed int.
  const std::vector<std::pair<std::string_view, std::int32_t>> cases{
      {"21", -973932308},
      {"foobar", -790332482},
      {"a-little-bit-long-string", -985981536},
      {"a-little-bit-longer-string", -1486304829},
      {"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
      {"abc", 479470107},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.first);
    EXPECT_EQ(static_cast<std::int32_t>(murmur2(as_bytes(c.first))), c.second);
  }
}

TEST(Murmur2, EveryTailLengthDiffers) {
  // Lengths 0..8 cover no block, one and two blocks with each tail length (0-3 bytes); a
  // byte dropped from the tail must change the hash.
  const std::string_view text = "abcdefgh";
  std::set<std::uint32_t> seen;
  for (std::size_t n = 0; n <= text.size(); ++n) seen.insert(murmur2(as_bytes(text.substr(0, n))));
  EXPECT_EQ(seen.size(), text.size() + 1);
  // The empty input is the seed mixed with length 0 and finalised (not zero, not the seed).
  EXPECT_NE(murmur2({}), 0U);
  EXPECT_NE(murmur2({}), 0x9747b28cU);
}

TEST(PartitionForKey, ClearsTheSignBitThenTakesTheRemainder) {
  // "21" hashes to a negative int in Java: toPositive clears bit 31, it does not negate.
  const std::uint32_t h = murmur2(as_bytes("21"));
  ASSERT_NE(h & 0x80000000U, 0U);
  for (std::int32_t n : {1, 2, 3, 7, 100, 1000}) {
    EXPECT_EQ(partition_for_key(as_bytes("21"), n), static_cast<std::int32_t>((h & 0x7fffffffU) % n)) << n;
  }
  EXPECT_EQ(partition_for_key(as_bytes("21"), 0), -1);
  EXPECT_EQ(partition_for_key(as_bytes("21"), -3), -1);
}

/// A librdkafka producer that never connects (nothing listens on 127.0.0.1:1) and one topic
/// handle: all rd_kafka_msg_partitioner_murmur2_random needs.
class rdkafka_oracle {
 public:
  rdkafka_oracle() {
    char errstr[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", "127.0.0.1:1", errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      ADD_FAILURE() << errstr;
      return;
    }
    rk_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr));
    if (!rk_) {
      rd_kafka_conf_destroy(conf);  // only taken over on success
      ADD_FAILURE() << errstr;
      return;
    }
    rkt_.reset(rd_kafka_topic_new(rk_.get(), "partitioner-oracle", nullptr));
    if (!rkt_) ADD_FAILURE() << "rd_kafka_topic_new failed";
  }

  bool ok() const { return rkt_ != nullptr; }

  std::int32_t partition(std::span<const std::uint8_t> key, std::int32_t count) const {
    return rd_kafka_msg_partitioner_murmur2_random(rkt_.get(), key.data(), key.size(), count, nullptr, nullptr);
  }

 private:
  struct rk_delete {
    void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
  };
  struct rkt_delete {
    void operator()(rd_kafka_topic_t* rkt) const { rd_kafka_topic_destroy(rkt); }
  };
  // Declared in this order so the topic goes before its producer.
  std::unique_ptr<rd_kafka_t, rk_delete> rk_;
  std::unique_ptr<rd_kafka_topic_t, rkt_delete> rkt_;
};

TEST(PartitionForKey, MatchesLibrdkafkaMurmur2) {
  const rdkafka_oracle oracle;
  ASSERT_TRUE(oracle.ok());

  // 1,000 keys of lengths 0..40 with every byte value (high bits set too, which Java reads
  // as negative bytes), from a fixed xorshift32 stream.
  std::uint32_t x = 2463534242U;
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
  };
  int compared = 0;
  for (int k = 0; k < 1000; ++k) {
    std::vector<std::uint8_t> key(static_cast<std::size_t>(k % 41));
    for (auto& b : key) b = static_cast<std::uint8_t>(next());
    // A non-null pointer for the empty key too: only a null key is random in librdkafka.
    static constexpr std::uint8_t empty_marker = 0;
    const std::span<const std::uint8_t> span = key.empty() ? std::span<const std::uint8_t>{&empty_marker, 0} : key;
    for (std::int32_t count = 1; count <= 64; ++count) {
      ASSERT_EQ(partition_for_key(span, count), oracle.partition(span, count)) << "key " << k << ", count " << count;
      ++compared;
    }
  }
  EXPECT_EQ(compared, 64000);
}

TEST(PartitionForKey, EmptyKeyIsHashedNotRandom) {
  const rdkafka_oracle oracle;
  ASSERT_TRUE(oracle.ok());
  static constexpr std::uint8_t empty_marker = 0;
  const std::span<const std::uint8_t> empty{&empty_marker, 0};
  const auto expected = static_cast<std::int32_t>((murmur2({}) & 0x7fffffffU) % 1000U);
  // With 1,000 partitions a random choice would hit the same one 50 times in a row with
  // probability 1e-150: librdkafka hashes the empty key, and so do we.
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(oracle.partition(empty, 1000), expected);
    ASSERT_EQ(partition_for_key(empty, 1000), expected);
  }
}

// ---- sticky_partitioner ----

bool contains(std::span<const std::int32_t> v, std::int32_t p) { return std::find(v.begin(), v.end(), p) != v.end(); }

TEST(StickyPartitioner, SamePartitionUntilTheBatchCloses) {
  sticky_partitioner sp{1};
  const std::vector<std::int32_t> available{0, 1, 2, 3, 4, 5};
  EXPECT_EQ(sp.current("t"), -1);
  const std::int32_t first = sp.partition("t", available, 6);
  ASSERT_TRUE(contains(available, first));
  EXPECT_EQ(sp.current("t"), first);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(sp.partition("t", available, 6), first);

  sp.on_new_batch("t", first, available, 6);
  const std::int32_t second = sp.partition("t", available, 6);
  EXPECT_NE(second, first);
  EXPECT_TRUE(contains(available, second));
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(sp.partition("t", available, 6), second);
}

TEST(StickyPartitioner, SwitchesCoverEveryAvailablePartitionAndNoOther) {
  sticky_partitioner sp{42};
  const std::vector<std::int32_t> available{1, 4, 6, 9};  // of 10 partitions
  std::map<std::int32_t, int> chosen;
  std::int32_t previous = sp.partition("t", available, 10);
  for (int i = 0; i < 10000; ++i) {
    sp.on_new_batch("t", previous, available, 10);
    const std::int32_t now = sp.partition("t", available, 10);
    ASSERT_NE(now, previous) << "switch " << i;
    ASSERT_TRUE(contains(available, now)) << now;
    ++chosen[now];
    previous = now;
  }
  ASSERT_EQ(chosen.size(), available.size());
  // Uniform among the other three: about 2,500 each; far below that means a skewed draw.
  for (const auto& [p, n] : chosen) EXPECT_GT(n, 2000) << "partition " << p;
}

TEST(StickyPartitioner, NoAvailablePartitionPicksAmongAll) {
  sticky_partitioner sp{7};
  std::set<std::int32_t> chosen;
  std::int32_t previous = sp.partition("t", {}, 5);
  chosen.insert(previous);
  for (int i = 0; i < 200; ++i) {
    sp.on_new_batch("t", previous, {}, 5);
    const std::int32_t now = sp.partition("t", {}, 5);
    ASSERT_GE(now, 0);
    ASSERT_LT(now, 5);
    ASSERT_NE(now, previous);
    chosen.insert(now);
    previous = now;
  }
  EXPECT_EQ(chosen.size(), 5U);
  // A single partition has nowhere else to go.
  sticky_partitioner one{7};
  EXPECT_EQ(one.partition("t", {}, 1), 0);
  one.on_new_batch("t", 0, {}, 1);
  EXPECT_EQ(one.partition("t", {}, 1), 0);
}

TEST(StickyPartitioner, SingleAvailablePartitionStays) {
  sticky_partitioner sp{3};
  const std::vector<std::int32_t> available{2};
  ASSERT_EQ(sp.partition("t", available, 4), 2);
  for (int i = 0; i < 20; ++i) {
    sp.on_new_batch("t", 2, available, 4);
    ASSERT_EQ(sp.partition("t", available, 4), 2);
  }
}

TEST(StickyPartitioner, TopicsAreIndependent) {
  sticky_partitioner sp{5};
  const std::vector<std::int32_t> available{0, 1, 2, 3, 4, 5, 6, 7};
  const std::int32_t b = sp.partition("b", available, 8);
  std::int32_t a = sp.partition("a", available, 8);
  for (int i = 0; i < 50; ++i) {
    sp.on_new_batch("a", a, available, 8);
    const std::int32_t next = sp.partition("a", available, 8);
    ASSERT_NE(next, a);
    a = next;
    ASSERT_EQ(sp.partition("b", available, 8), b);
  }
  // A closing batch of "b" that is not b's partition moves nothing.
  sp.on_new_batch("b", (b + 1) % 8, available, 8);
  EXPECT_EQ(sp.partition("b", available, 8), b);
}

TEST(StickyPartitioner, LateNewBatchForAnOldPartitionIsIgnored) {
  sticky_partitioner sp{11};
  const std::vector<std::int32_t> available{0, 1, 2, 3};
  const std::int32_t first = sp.partition("t", available, 4);
  sp.on_new_batch("t", first, available, 4);
  const std::int32_t second = sp.partition("t", available, 4);
  ASSERT_NE(second, first);
  // A second batch of `first` closing (e.g. the one sent before the switch) keeps `second`.
  sp.on_new_batch("t", first, available, 4);
  EXPECT_EQ(sp.partition("t", available, 4), second);
}

TEST(StickyPartitioner, NewBatchBeforeAnyRecordAvoidsThePreviousPartition) {
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    sticky_partitioner sp{seed};
    const std::vector<std::int32_t> available{0, 1};
    sp.on_new_batch("t", 0, available, 2);
    ASSERT_EQ(sp.current("t"), 1) << seed;
  }
}

TEST(StickyPartitioner, PartitionThatLosesItsLeaderIsReplaced) {
  // Decision: the current partition stays only while it is < partition_count and, when any
  // partition has a leader, among `available`; otherwise records move without waiting for
  // the batch to close.
  sticky_partitioner sp{13};
  const std::vector<std::int32_t> all{0, 1, 2, 3, 4, 5};
  const std::int32_t first = sp.partition("t", all, 6);
  std::vector<std::int32_t> without;
  for (std::int32_t p : all) {
    if (p != first) without.push_back(p);
  }
  const std::int32_t moved = sp.partition("t", without, 6);
  EXPECT_NE(moved, first);
  EXPECT_TRUE(contains(without, moved));
  EXPECT_EQ(sp.partition("t", without, 6), moved);

  // No leader anywhere: the current partition is as good as any other and stays.
  EXPECT_EQ(sp.partition("t", {}, 6), moved);

  // The topic shrank (re-created): a partition beyond the count is dropped even without leaders.
  sticky_partitioner shrink{17};
  const std::vector<std::int32_t> high{5};
  ASSERT_EQ(shrink.partition("t", high, 6), 5);
  const std::int32_t after = shrink.partition("t", {}, 3);
  EXPECT_GE(after, 0);
  EXPECT_LT(after, 3);
}

TEST(StickyPartitioner, SameSeedSameChoices) {
  const std::vector<std::int32_t> available{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  auto run = [&](std::uint64_t seed) {
    sticky_partitioner sp{seed};
    std::vector<std::int32_t> out;
    for (int i = 0; i < 100; ++i) {
      out.push_back(sp.partition("t", available, 12));
      sp.on_new_batch("t", out.back(), available, 12);
    }
    return out;
  };
  EXPECT_EQ(run(99), run(99));
  EXPECT_NE(run(99), run(100));  // 100 draws among 11: equal sequences would be a broken seed
  EXPECT_NE(run(0), run(1));     // seed 0 is a valid seed (splitmix64)
}

TEST(StickyPartitioner, NonPositiveCountAndForget) {
  sticky_partitioner sp{19};
  EXPECT_EQ(sp.partition("t", {}, 0), -1);
  sp.on_new_batch("t", 0, {}, 0);
  EXPECT_EQ(sp.current("t"), -1);  // nothing was recorded for a topic without partitions

  const std::vector<std::int32_t> available{3};
  ASSERT_EQ(sp.partition("t", available, 4), 3);
  sp.forget("t");
  EXPECT_EQ(sp.current("t"), -1);
  sp.forget("never-seen");  // no effect
  EXPECT_EQ(sp.partition("t", std::vector<std::int32_t>{1}, 4), 1);
}

// ---- no allocation per record once the topic is known ----
// Counts global operator new while `counting` is set. Not under AddressSanitizer: its runtime
// defines every operator new and delete, and mixing a replaced pair with its variants would be
// reported as mismatched allocation functions.
#if !defined(__SANITIZE_ADDRESS__)
bool counting = false;
std::size_t allocations = 0;

TEST(StickyPartitioner, KnownTopicNeedsNoAllocation) {
  sticky_partitioner sp{23};
  const std::vector<std::int32_t> available{0, 1, 2, 3};
  // A topic name longer than any small-string buffer, passed as a string_view.
  const std::string name(100, 't');
  const std::string_view topic = name;
  ASSERT_GE(sp.partition(topic, available, 4), 0);  // first sight: stores the name

  allocations = 0;
  counting = true;
  std::int32_t last = -1;
  for (int i = 0; i < 1000; ++i) {
    last = sp.partition(topic, available, 4);
    if (i % 100 == 99) sp.on_new_batch(topic, last, available, 4);
  }
  counting = false;
  EXPECT_EQ(allocations, 0U);
  EXPECT_GE(last, 0);
}
#endif

}  // namespace
}  // namespace asiokafka::producer

#if !defined(__SANITIZE_ADDRESS__)
// Replacements of the global allocation functions the others forward to (libstdc++'s
// nothrow, array and sized forms call these), for KnownTopicNeedsNoAllocation.
void* operator new(std::size_t n) {
  if (asiokafka::producer::counting) ++asiokafka::producer::allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc{};
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#endif
