// asiokafka::Consumer against the single-node broker: records written by our producer and by
// librdkafka read back with every field checked, per-partition order, the seek family and
// offset queries against known data, commits, pause/resume, the per-partition prefetch, the
// spellings users write (run under ASan too), misuse and bad positions.
#include "asiokafka/consumer.hpp"
#include "asiokafka/kafka_error.hpp"
#include "asiokafka/producer.hpp"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <array>
#include <cstdlib>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "support/async.hpp"
#include "support/rig.hpp"
#include "support/topics.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using protocol::CompressionType;

constexpr std::int64_t base_ts = 1'700'000'000'000;

// ASSERT_* for coroutines returning awaitable<bool>: records the failure and ends the body.
#define CO_ASSERT(cond)                             \
  do {                                              \
    if (!(cond)) {                                  \
      ADD_FAILURE() << "assertion failed: " #cond;  \
      co_return false;                              \
    }                                               \
  } while (false)

ConsumerConfig consumer_config(const Rig& rig) {
  ConsumerConfig c;
  c.bootstrap_servers = rig.bootstrap("PLAINTEXT");
  c.auto_offset_reset = AutoOffsetReset::earliest;
  c.enable_auto_commit = false;
  return c;
}

std::string value_of(std::int32_t partition, int i) {
  return "value-" + std::to_string(partition) + "-" + std::to_string(i) + std::string(static_cast<std::size_t>(i % 37), 'x');
}

// Writes `per_partition` records to each of `partitions` partitions with our producer: key
// "key-<i>" (null for every 5th), value value_of(p, i), timestamp base_ts + i, a header.
void produce(const Rig& rig, const std::string& topic, int partitions, int per_partition,
             CompressionType codec = CompressionType::none) {
  auto body = [](ProducerConfig cfg, std::string t, int parts, int n) -> asio::awaitable<bool> {
    Producer producer(co_await asio::this_coro::executor, std::move(cfg));
    co_await producer.start();
    std::vector<DeliveryHandle> handles;
    const std::array<Header, 1> headers{Header{"h", BytesView("hv")}};
    for (int i = 0; i < n; ++i) {
      for (int p = 0; p < parts; ++p) {
        const std::string key = "key-" + std::to_string(i);
        const std::string value = value_of(p, i);
        SendOptions options;
        if (i % 5 != 0) options.key = BytesView(key);
        options.partition = p;
        options.timestamp = base_ts + i;
        options.headers = headers;
        handles.push_back(co_await producer.send(t, value, options));
      }
    }
    for (auto& h : handles) (void)co_await h.async_wait();
    co_await producer.stop();
    co_return true;
  };
  ProducerConfig cfg;
  cfg.bootstrap_servers = rig.bootstrap("PLAINTEXT");
  cfg.compression_type = codec;
  cfg.linger = 20ms;
  EXPECT_TRUE(run_async(body(std::move(cfg), topic, partitions, per_partition),
                        120s + std::chrono::seconds(partitions * per_partition / 5'000)));
}

// The same records as produce(), written by librdkafka's producer.
void produce_rdk(const Rig& rig, const std::string& topic, int partitions, int per_partition, CompressionType codec) {
  const char* names[] = {"none", "gzip", "snappy", "lz4", "zstd"};
  char err[512];
  rd_kafka_conf_t* conf = rdk_conf(rig.bootstrap("PLAINTEXT"),
                                   {{"linger.ms", "20"},
                                    {"compression.type", names[static_cast<int>(codec)]},
                                    // in order even when a first produce to a new topic is retried
                                    {"enable.idempotence", "true"}});
  // Delivery reports: flush() also returns once failed records are given up, so every
  // record's outcome is checked (a record librdkafka lost must not look like one we did not read).
  struct Deliveries {
    std::map<int, std::size_t> failed;  // per partition
    std::string first_error;
  } deliveries;
  rd_kafka_conf_set_opaque(conf, &deliveries);
  rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
    auto* d = static_cast<Deliveries*>(opaque);
    ++d->failed[m->partition];
    if (d->first_error.empty()) d->first_error = rd_kafka_err2str(m->err);
  });
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  ASSERT_NE(rk, nullptr) << err;
  for (int i = 0; i < per_partition; ++i) {
    for (int p = 0; p < partitions; ++p) {
      std::string key = "key-" + std::to_string(i);
      std::string value = value_of(p, i);
      std::string hv = "hv";
      rd_kafka_resp_err_t e;
      for (int attempt = 0; attempt < 1000; ++attempt) {  // queue full: serve callbacks, try again
        e = i % 5 != 0 ? rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(p),
                                           RD_KAFKA_V_KEY(key.data(), key.size()),
                                           RD_KAFKA_V_VALUE(value.data(), value.size()),
                                           RD_KAFKA_V_TIMESTAMP(base_ts + i), RD_KAFKA_V_HEADER("h", hv.data(), 2),
                                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)
                       : rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(p),
                                           RD_KAFKA_V_VALUE(value.data(), value.size()),
                                           RD_KAFKA_V_TIMESTAMP(base_ts + i), RD_KAFKA_V_HEADER("h", hv.data(), 2),
                                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) break;
        rd_kafka_poll(rk, 10);
      }
      ASSERT_EQ(e, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(e);
    }
    rd_kafka_poll(rk, 0);
  }
  ASSERT_EQ(rd_kafka_flush(rk, 120000), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_destroy(rk);
  std::string failed;
  for (const auto& entry : deliveries.failed) failed += " p" + std::to_string(entry.first) + "=" + std::to_string(entry.second);
  ASSERT_TRUE(deliveries.failed.empty()) << "librdkafka did not deliver every record:" << failed << " (first error: "
                                         << deliveries.first_error << ")";
}

std::vector<TopicPartition> partitions_of(const std::string& topic, int n) {
  std::vector<TopicPartition> out;
  for (int p = 0; p < n; ++p) out.emplace_back(topic, p);
  return out;
}

// Reads until `count` records came (bounded by 60 s of getmany calls), checking order.
asio::awaitable<std::map<TopicPartition, std::vector<ConsumerRecord>>> read_all(Consumer& c, std::size_t count) {
  std::map<TopicPartition, std::vector<ConsumerRecord>> got;
  std::size_t total = 0;
  const auto deadline = std::chrono::steady_clock::now() + 60s + std::chrono::seconds(count / 10'000);
  while (total < count && std::chrono::steady_clock::now() < deadline) {
    RecordBatches batch = co_await c.getmany({.timeout = 1s, .max_records = 777});
    for (auto& entry : batch) {
      auto& dst = got[entry.first];
      for (auto& r : entry.second) {
        dst.push_back(std::move(r));
        ++total;
      }
    }
  }
  co_return got;
}

void check_fields(const std::map<TopicPartition, std::vector<ConsumerRecord>>& got, const std::string& topic,
                  int partitions, int per_partition) {
  std::string counts;  // what came, per partition, for the failure message
  for (int p = 0; p < partitions; ++p) {
    const auto it = got.find(TopicPartition(topic, p));
    counts += " p" + std::to_string(p) + "=" + std::to_string(it == got.end() ? 0 : it->second.size());
  }
  ASSERT_EQ(got.size(), static_cast<std::size_t>(partitions)) << "records per partition:" << counts;
  for (int p = 0; p < partitions; ++p) {
    const auto it = got.find(TopicPartition(topic, p));
    ASSERT_NE(it, got.end()) << "partition " << p;
    const auto& recs = it->second;
    ASSERT_EQ(recs.size(), static_cast<std::size_t>(per_partition)) << "partition " << p;
    for (int i = 0; i < per_partition; ++i) {
      const ConsumerRecord& r = recs[static_cast<std::size_t>(i)];
      ASSERT_EQ(r.offset, i) << "partition " << p << ": records out of order, lost or duplicated";
      EXPECT_EQ(r.topic, topic);
      EXPECT_EQ(r.partition, p);
      EXPECT_EQ(r.timestamp, base_ts + i);
      EXPECT_EQ(r.timestamp_type, protocol::TimestampType::create_time);
      ASSERT_TRUE(r.value.has_value());
      EXPECT_EQ(r.value->as_string(), value_of(p, i));
      EXPECT_EQ(r.serialized_value_size, static_cast<std::int32_t>(value_of(p, i).size()));
      if (i % 5 == 0) {
        EXPECT_FALSE(r.key.has_value());
        EXPECT_EQ(r.serialized_key_size, -1);
      } else {
        ASSERT_TRUE(r.key.has_value());
        EXPECT_EQ(r.key->as_string(), "key-" + std::to_string(i));
      }
      ASSERT_EQ(r.headers.size(), 1u);
      const auto h = r.headers.last("h");
      ASSERT_TRUE(h && h->value);
      EXPECT_EQ(h->value->as_string(), "hv");
      EXPECT_GE(r.leader_epoch, 0);
    }
  }
}

// Records per test: 24,000 by default (CI's short form); ASIOKAFKA_CONSUMER_RECORDS raises it
// (consumer_tests.full, label slow: 1,000,000).
int total_records() {
  const char* env = std::getenv("ASIOKAFKA_CONSUMER_RECORDS");
  return env ? std::atoi(env) : 24'000;
}

struct ReadBackCase {
  CompressionType codec;
  int partitions;
  bool librdkafka;  ///< written by librdkafka's producer (else ours)
};

class ConsumerReadBack : public ::testing::TestWithParam<ReadBackCase> {};

TEST_P(ConsumerReadBack, EveryFieldReadBackInOrderWithoutLossOrDuplicates) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const ReadBackCase c = GetParam();
  const std::string topic = unique_topic("consumer-fields");
  create_topic(rig.bootstrap("PLAINTEXT"), topic, c.partitions);
  const int per_partition = total_records() / c.partitions;
  if (c.librdkafka) {
    produce_rdk(rig, topic, c.partitions, per_partition, c.codec);
  } else {
    produce(rig, topic, c.partitions, per_partition, c.codec);
  }
  auto body = [](ConsumerConfig cfg, std::string t, int parts, int n) -> asio::awaitable<bool> {
    const auto ex = co_await asio::this_coro::executor;
    Consumer consumer(ex, std::move(cfg));
    consumer.assign(partitions_of(t, parts));
    co_await consumer.start();
    const auto got = co_await read_all(consumer, static_cast<std::size_t>(parts) * static_cast<std::size_t>(n));
    // What the broker says each partition holds, for the failure message: tells records the
    // consumer did not read from records that were never written.
    std::string marks;
    for (int p = 0; p < parts; ++p) {
      const auto hw = consumer.highwater(TopicPartition(t, p));
      marks += " p" + std::to_string(p) + "=" + (hw ? std::to_string(*hw) : std::string("?"));
    }
    SCOPED_TRACE("high watermarks seen by the consumer:" + marks);
    check_fields(got, t, parts, n);
    for (int p = 0; p < parts; ++p) {
      const TopicPartition tp(t, p);
      EXPECT_EQ(co_await consumer.position(tp), n);
      EXPECT_EQ(consumer.highwater(tp), std::optional<std::int64_t>(n));
      EXPECT_TRUE(consumer.last_poll_timestamp(tp).has_value());
    }
    // Nothing more: a short wait returns empty.
    const RecordBatches more = co_await consumer.getmany({.timeout = 200ms});
    EXPECT_TRUE(more.empty());
    co_await consumer.stop();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(consumer_config(rig), topic, c.partitions, per_partition),
                        120s + std::chrono::seconds(total_records() / 5'000)));
}

std::vector<ReadBackCase> read_back_cases() {
  std::vector<ReadBackCase> out;
  for (const bool rdk : {false, true}) {
    for (const int parts : {1, 8}) {
      for (const auto codec : {CompressionType::none, CompressionType::gzip, CompressionType::snappy,
                               CompressionType::lz4, CompressionType::zstd}) {
        out.push_back({codec, parts, rdk});
      }
    }
  }
  return out;
}

std::string read_back_name(const ::testing::TestParamInfo<ReadBackCase>& param_info) {
  static const char* const names[] = {"none", "gzip", "snappy", "lz4", "zstd"};
  const ReadBackCase& c = param_info.param;
  return std::string(c.librdkafka ? "librdkafka_" : "ours_") + names[static_cast<int>(c.codec)] + "_" +
         std::to_string(c.partitions) + "p";
}

INSTANTIATE_TEST_SUITE_P(Cases, ConsumerReadBack, ::testing::ValuesIn(read_back_cases()), read_back_name);

// Writes transactions with librdkafka's transactional producer: for t in 0..5, 20 records
// "t<t>-<i>"; transactions 1 and 3 are aborted, the others committed. One producer per
// transaction (the same transactional id): Debian's librdkafka fails a second transaction on
// one producer against Kafka 4 brokers (INVALID_TXN_STATE at its end).
void produce_transactions(const Rig& rig, const std::string& topic) {
  const std::string txn_id = unique_topic("txn");
  auto check = [](rd_kafka_error_t* e, const char* what) {
    if (e) {
      ADD_FAILURE() << what << ": " << rd_kafka_error_string(e);
      rd_kafka_error_destroy(e);
      return false;
    }
    return true;
  };
  for (int t = 0; t < 5; ++t) {
    char err[512];
    rd_kafka_conf_t* conf = rdk_conf(rig.bootstrap("PLAINTEXT"), {{"transactional.id", txn_id}, {"linger.ms", "1"}});
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    ASSERT_NE(rk, nullptr) << err;
    bool ok = check(rd_kafka_init_transactions(rk, 30000), "init_transactions") &&
              check(rd_kafka_begin_transaction(rk), "begin");
    for (int i = 0; ok && i < 20; ++i) {
      std::string value = "t" + std::to_string(t) + "-" + std::to_string(i);
      ok = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
                             RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR;
    }
    const bool abort = t == 1 || t == 3;
    if (ok && abort) ok = check(rd_kafka_flush(rk, 30000) == RD_KAFKA_RESP_ERR_NO_ERROR ? nullptr
                                                                                    : rd_kafka_error_new(RD_KAFKA_RESP_ERR__TIMED_OUT, "flush"),
                                "flush");
    if (ok) ok = check(abort ? rd_kafka_abort_transaction(rk, 30000) : rd_kafka_commit_transaction(rk, 30000),
                       abort ? "abort" : "commit");
    rd_kafka_destroy(rk);
    ASSERT_TRUE(ok) << "transaction " << t;
  }
}

TEST(ConsumerRealBroker, ReadCommittedSkipsAbortedTransactionsAndMarkers) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = unique_topic("consumer-txn");
  create_topic(rig.bootstrap("PLAINTEXT"), topic, 1);
  produce_transactions(rig, topic);
  struct Read {
    std::vector<std::string> values;
    std::vector<std::int64_t> offsets;
    std::int64_t position = -1;
    std::optional<std::int64_t> lso;
  };
  auto body = [](ConsumerConfig cfg, std::string t, IsolationLevel level) -> asio::awaitable<Read> {
    cfg.isolation_level = level;
    const auto ex = co_await asio::this_coro::executor;
    Consumer consumer(ex, std::move(cfg));
    const TopicPartition tp(t, 0);
    consumer.assign(partitions_of(t, 1));
    co_await consumer.start();
    Read out;
    const std::size_t expected = level == IsolationLevel::read_committed ? 60 : 100;
    for (int i = 0; i < 60 && out.values.size() < expected; ++i) {
      const RecordBatches b = co_await consumer.getmany({.timeout = 500ms});
      for (const auto& entry : b) {
        for (const auto& r : entry.second) {
          out.values.push_back(std::string(r.value->as_string()));
          out.offsets.push_back(r.offset);
        }
      }
    }
    // Nothing more comes, and the position passes the last marker.
    const RecordBatches rest = co_await consumer.getmany({.timeout = 300ms});
    EXPECT_TRUE(rest.empty());
    out.position = co_await consumer.position(tp);
    out.lso = consumer.last_stable_offset(tp);
    co_await consumer.stop();
    co_return out;
  };
  // 5 transactions of 20 records, each followed by its marker: offsets 0..104.
  const Read committed = run_async(body(consumer_config(rig), topic, IsolationLevel::read_committed), 60s);
  ASSERT_EQ(committed.values.size(), 60u);
  std::size_t k = 0;
  for (int t : {0, 2, 4}) {
    for (int i = 0; i < 20; ++i, ++k) {
      EXPECT_EQ(committed.values[k], "t" + std::to_string(t) + "-" + std::to_string(i));
      EXPECT_EQ(committed.offsets[k], t * 21 + i) << "offsets must jump over markers and aborted records";
    }
  }
  EXPECT_EQ(committed.position, 105);
  EXPECT_EQ(committed.lso, std::optional<std::int64_t>(105));
  const Read all = run_async(body(consumer_config(rig), topic, IsolationLevel::read_uncommitted), 60s);
  ASSERT_EQ(all.values.size(), 100u);
  for (int t = 0; t < 5; ++t) {
    EXPECT_EQ(all.values[static_cast<std::size_t>(t * 20)], "t" + std::to_string(t) + "-0");
    EXPECT_EQ(all.offsets[static_cast<std::size_t>(t * 20)], t * 21);
  }
  EXPECT_EQ(all.position, 105);
}

TEST(ConsumerRealBroker, BufferedBytesStayWithinTheBudgetWhileTheApplicationDoesNotConsume) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = unique_topic("consumer-budget");
  create_topic(rig.bootstrap("PLAINTEXT"), topic, 4);
  produce(rig, topic, 4, 3000);  // about 4 x 3000 x 60 B, far above the budget below
  auto body = [](ConsumerConfig cfg, std::string t) -> asio::awaitable<std::vector<std::size_t>> {
    cfg.max_partition_fetch_bytes = 16 * 1024;
    cfg.fetch_max_bytes = 64 * 1024;
    cfg.fetch_buffer_memory = 32 * 1024;
    const auto ex = co_await asio::this_coro::executor;
    Consumer consumer(ex, std::move(cfg));
    consumer.assign(partitions_of(t, 4));
    co_await consumer.start();
    std::vector<std::size_t> seen;
    // Not consuming: what the consumer holds stays at the budget (plus one answer in flight).
    asio::steady_timer timer(ex);
    for (int i = 0; i < 10; ++i) {
      timer.expires_after(100ms);
      (void)co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      seen.push_back(consumer.buffered_bytes());
    }
    // And everything is still delivered once the application reads.
    std::size_t n = 0;
    for (int i = 0; i < 400 && n < 12000; ++i) {
      const RecordBatches b = co_await consumer.getmany({.timeout = 1s});
      for (const auto& entry : b) n += entry.second.size();
      seen.push_back(consumer.buffered_bytes());
    }
    seen.push_back(n);
    co_await consumer.stop();
    co_return seen;
  };
  const auto seen = run_async(body(consumer_config(rig), topic), 120s);
  ASSERT_GE(seen.size(), 11u);
  EXPECT_EQ(seen.back(), 12000u) << "records lost under the memory budget";
  std::size_t peak = 0;
  for (std::size_t i = 0; i + 1 < seen.size(); ++i) peak = std::max(peak, seen[i]);
  EXPECT_GT(peak, 0u);
  // The budget, plus at most one request's worth (fetch_max_bytes) asked while it had room.
  EXPECT_LE(peak, 32u * 1024 + 64u * 1024) << "buffered bytes beyond the budget";
}

TEST(ConsumerRealBroker, SeekFamilyAndOffsetQueriesAgainstKnownData) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = unique_topic("consumer-seek");
  create_topic(rig.bootstrap("PLAINTEXT"), topic, 2);
  produce(rig, topic, 2, 100);
  auto body = [](ConsumerConfig cfg, std::string t) -> asio::awaitable<bool> {
    cfg.auto_offset_reset = AutoOffsetReset::latest;
    Consumer consumer(co_await asio::this_coro::executor, std::move(cfg));
    const auto parts = partitions_of(t, 2);
    consumer.assign(parts);
    co_await consumer.start();
    const TopicPartition p0(t, 0), p1(t, 1);
    // latest: the position is the end.
    EXPECT_EQ(co_await consumer.position(p0), 100);
    const auto begin = co_await consumer.beginning_offsets(parts);
    const auto end = co_await consumer.end_offsets(parts);
    EXPECT_EQ(begin.at(p0), 0);
    EXPECT_EQ(begin.at(p1), 0);
    EXPECT_EQ(end.at(p0), 100);
    EXPECT_EQ(end.at(p1), 100);
    // offsets_for_times: the first record at or after the time; none after the last.
    std::map<TopicPartition, std::int64_t> times;
    times[p0] = base_ts + 42;
    times[p1] = base_ts + 1000;
    const auto found = co_await consumer.offsets_for_times(times);
    CO_ASSERT(found.at(p0).has_value());
    EXPECT_EQ(found.at(p0)->offset, 42);
    EXPECT_EQ(found.at(p0)->timestamp, base_ts + 42);
    EXPECT_FALSE(found.at(p1).has_value());
    // seek: the next record is the one sought.
    consumer.seek(p0, 57);
    EXPECT_EQ(co_await consumer.position(p0), 57);
    const ConsumerRecord r = co_await consumer.getone(p0);
    EXPECT_EQ(r.offset, 57);
    EXPECT_EQ(r.value->as_string(), value_of(0, 57));
    // seek_to_beginning / seek_to_end.
    co_await consumer.seek_to_beginning(parts);
    EXPECT_EQ(co_await consumer.position(p0), 0);
    EXPECT_EQ(co_await consumer.position(p1), 0);
    const ConsumerRecord first = co_await consumer.getone(p1);
    EXPECT_EQ(first.offset, 0);
    co_await consumer.seek_to_end();
    EXPECT_EQ(co_await consumer.position(p0), 100);
    const RecordBatches none = co_await consumer.getmany({.timeout = 300ms});
    EXPECT_TRUE(none.empty());
    co_await consumer.stop();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(consumer_config(rig), topic), 90s));
}

TEST(ConsumerRealBroker, CommitCommittedAndANewConsumerResumesFromTheCommit) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = unique_topic("consumer-commit");
  const std::string group = unique_topic("group");
  create_topic(rig.bootstrap("PLAINTEXT"), topic, 2);
  produce(rig, topic, 2, 50);
  auto first = [](ConsumerConfig cfg, std::string t) -> asio::awaitable<bool> {
    Consumer consumer(co_await asio::this_coro::executor, std::move(cfg));
    const TopicPartition p0(t, 0), p1(t, 1);
    consumer.assign(partitions_of(t, 2));
    co_await consumer.start();
    EXPECT_FALSE((co_await consumer.committed(p0)).has_value());
    // Consume 20 of partition 0, commit the consumed positions.
    std::size_t n = 0;
    while (n < 20) {
      const RecordBatches b = co_await consumer.getmany({.partitions = std::span(&p0, 1), .timeout = 1s,
                                                         .max_records = 20 - n});
      for (const auto& entry : b) n += entry.second.size();
    }
    EXPECT_EQ(n, 20u);
    co_await consumer.commit();
    const auto c0 = co_await consumer.committed(p0);
    CO_ASSERT(c0.has_value());
    EXPECT_EQ(c0->offset, 20);
    // Explicit offsets with metadata.
    std::map<TopicPartition, OffsetAndMetadata> offsets;
    offsets[p1] = OffsetAndMetadata(33, "half-way");
    co_await consumer.commit(offsets);
    const auto c1 = co_await consumer.committed(p1);
    CO_ASSERT(c1.has_value());
    EXPECT_EQ(c1->offset, 33);
    EXPECT_EQ(c1->metadata, "half-way");
    co_await consumer.stop();
    co_return true;
  };
  auto second = [](ConsumerConfig cfg, std::string t) -> asio::awaitable<bool> {
    Consumer consumer(co_await asio::this_coro::executor, std::move(cfg));
    const TopicPartition p0(t, 0), p1(t, 1);
    consumer.assign(partitions_of(t, 2));
    co_await consumer.start();
    // A new consumer of the group starts from the committed offsets.
    EXPECT_EQ(co_await consumer.position(p0), 20);
    EXPECT_EQ(co_await consumer.position(p1), 33);
    const ConsumerRecord r = co_await consumer.getone(p1);
    EXPECT_EQ(r.offset, 33);
    consumer.seek(p0, 0);
    co_await consumer.seek_to_committed();
    EXPECT_EQ(co_await consumer.position(p0), 20);
    co_await consumer.stop();
    co_return true;
  };
  ConsumerConfig cfg = consumer_config(rig);
  cfg.group_id = group;
  EXPECT_TRUE(run_async(first(cfg, topic), 90s));
  EXPECT_TRUE(run_async(second(cfg, topic), 90s));
}

TEST(ConsumerRealBroker, AutoCommitOnStopAndResetPolicies) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = unique_topic("consumer-reset");
  create_topic(rig.bootstrap("PLAINTEXT"), topic, 1);
  produce(rig, topic, 1, 30);
  // none without a committed offset: offset_out_of_range naming the partition.
  auto none = [](ConsumerConfig cfg, std::string t) -> asio::awaitable<std::error_code> {
    cfg.auto_offset_reset = AutoOffsetReset::none;
    Consumer consumer(co_await asio::this_coro::executor, std::move(cfg));
    consumer.assign(partitions_of(t, 1));
    co_await consumer.start();
    auto res = co_await consumer.getmany({.timeout = 5s}, asio::as_tuple(asio::use_awaitable));
    const error_code ec = std::get<0>(res);
    EXPECT_TRUE(std::get<1>(res).empty());
    // After a seek the partition is read normally.
    consumer.seek(TopicPartition(t, 0), 28);
    const RecordBatches b = co_await consumer.getmany({.timeout = 5s});
    EXPECT_EQ(b.size(), 1u);
    co_await consumer.stop();
    co_return std::error_code(ec);
  };
  ConsumerConfig none_cfg = consumer_config(rig);
  none_cfg.group_id = unique_topic("group");
  EXPECT_EQ(run_async(none(none_cfg, topic), 60s), kafka_errc::offset_out_of_range);

  // Auto-commit: what was consumed is committed on stop; the next consumer starts there.
  auto consume_some = [](ConsumerConfig cfg, std::string t) -> asio::awaitable<std::int64_t> {
    cfg.enable_auto_commit = true;
    Consumer consumer(co_await asio::this_coro::executor, std::move(cfg));
    consumer.assign(partitions_of(t, 1));
    co_await consumer.start();
    std::int64_t last = -1;
    for (int i = 0; i < 12; ++i) last = (co_await consumer.getone()).offset;
    co_await consumer.stop();
    co_return last;
  };
  ConsumerConfig auto_cfg = consumer_config(rig);
  auto_cfg.group_id = unique_topic("group");
  EXPECT_EQ(run_async(consume_some(auto_cfg, topic), 60s), 11);
  auto resumed = [](ConsumerConfig cfg, std::string t) -> asio::awaitable<std::int64_t> {
    Consumer consumer(co_await asio::this_coro::executor, std::move(cfg));
    consumer.assign(partitions_of(t, 1));
    co_await consumer.start();
    const std::int64_t first = (co_await consumer.getone()).offset;
    co_await consumer.stop();
    co_return first;
  };
  EXPECT_EQ(run_async(resumed(auto_cfg, topic), 60s), 12);
}

TEST(ConsumerRealBroker, PauseResumeAndPartitionFilters) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = unique_topic("consumer-pause");
  create_topic(rig.bootstrap("PLAINTEXT"), topic, 2);
  produce(rig, topic, 2, 40);
  auto body = [](ConsumerConfig cfg, std::string t) -> asio::awaitable<bool> {
    Consumer consumer(co_await asio::this_coro::executor, std::move(cfg));
    const TopicPartition p0(t, 0), p1(t, 1);
    consumer.assign(partitions_of(t, 2));
    co_await consumer.start();
    consumer.pause(p0);
    EXPECT_EQ(consumer.paused(), std::set<TopicPartition>{p0});
    std::size_t from_p1 = 0;
    for (int i = 0; i < 20 && from_p1 < 40; ++i) {
      const RecordBatches b = co_await consumer.getmany({.timeout = 500ms});
      EXPECT_FALSE(b.contains(p0)) << "a paused partition returned records";
      if (const auto it = b.find(p1); it != b.end()) from_p1 += it->second.size();
    }
    EXPECT_EQ(from_p1, 40u);
    consumer.resume(p0);
    EXPECT_TRUE(consumer.paused().empty());
    // max_records bounds one call; the filter returns only p0.
    const RecordBatches b = co_await consumer.getmany({.partitions = std::span(&p0, 1), .timeout = 5s, .max_records = 7});
    CO_ASSERT((b.size()) == (1u));
    EXPECT_EQ(b.begin()->first, p0);
    EXPECT_EQ(b.begin()->second.size(), 7u);
    EXPECT_EQ(b.begin()->second.front().offset, 0);
    co_await consumer.stop();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(consumer_config(rig), topic), 90s));
}

TEST(ConsumerRealBroker, ADrainedPartitionKeepsFlowingWhileAnotherIsNotConsumed) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = unique_topic("consumer-prefetch");
  create_topic(rig.bootstrap("PLAINTEXT"), topic, 2);
  // Each partition holds far more than one fetch returns (max_partition_fetch_bytes 4 KiB).
  produce(rig, topic, 2, 2000);
  auto body = [](ConsumerConfig cfg, std::string t) -> asio::awaitable<bool> {
    cfg.max_partition_fetch_bytes = 4096;
    Consumer consumer(co_await asio::this_coro::executor, std::move(cfg));
    const TopicPartition p0(t, 0), p1(t, 1);
    consumer.assign(partitions_of(t, 2));
    co_await consumer.start();
    // Only p0 is consumed: it must reach its end although p1's buffer stays full.
    std::size_t n = 0;
    for (int i = 0; i < 400 && n < 2000; ++i) {
      const RecordBatches b = co_await consumer.getmany({.partitions = std::span(&p0, 1), .timeout = 1s});
      for (const auto& entry : b) n += entry.second.size();
    }
    EXPECT_EQ(n, 2000u);
    co_await consumer.stop();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(consumer_config(rig), topic), 120s));
}

TEST(ConsumerRealBroker, NaturalSpellingsWithTemporariesAreSafe) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = unique_topic("consumer-spellings");
  create_topic(rig.bootstrap("PLAINTEXT"), topic, 1);
  produce(rig, topic, 1, 10);
  auto body = [](ConsumerConfig cfg, std::string t) -> asio::awaitable<bool> {
    Consumer consumer(co_await asio::this_coro::executor, std::move(cfg));
    consumer.assign(std::vector<TopicPartition>{TopicPartition(t, 0)});
    co_await consumer.start();
    // Temporaries of every kind inside co_await expressions, in a loop and in a lambda.
    EXPECT_EQ(co_await consumer.position(TopicPartition{t, 0}), 0);
    const ConsumerRecord r = co_await consumer.getone(TopicPartition{t, 0});
    EXPECT_EQ(r.offset, 0);
    for (int i = 1; i < 4; ++i) {
      const RecordBatches b = co_await consumer.getmany({.timeout = std::chrono::milliseconds(1000), .max_records = 1});
      CO_ASSERT((b.size()) == (1u));
      EXPECT_EQ(b.begin()->second.front().offset, i);
    }
    auto read_one = [&consumer, t]() -> asio::awaitable<std::int64_t> {
      co_return (co_await consumer.getone(TopicPartition{std::string(t), 0})).offset;
    };
    EXPECT_EQ(co_await read_one(), 4);
    const std::vector<TopicPartition> mine{TopicPartition(t, 0)};
    const auto c = co_await consumer.end_offsets(mine);
    EXPECT_EQ(c.at(TopicPartition(t, 0)), 10);
    const auto parts = co_await consumer.partitions_for_topic(std::string(t));
    EXPECT_EQ(parts, std::set<std::int32_t>{0});
    const auto all = co_await consumer.topics();
    EXPECT_TRUE(all.contains(t));
    EXPECT_FALSE(all.contains("__consumer_offsets"));
    co_await consumer.stop();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(consumer_config(rig), topic), 60s));
}

TEST(ConsumerRealBroker, AsyncLoopEndsOnStopAndPendingCallsFailWithConsumerStopped) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = unique_topic("consumer-loop");
  create_topic(rig.bootstrap("PLAINTEXT"), topic, 1);
  produce(rig, topic, 1, 25);
  auto body = [](ConsumerConfig cfg, std::string t) -> asio::awaitable<bool> {
    auto ex = co_await asio::this_coro::executor;
    Consumer consumer(ex, std::move(cfg));
    consumer.assign(partitions_of(t, 1));
    co_await consumer.start();
    // Events as timers that are cancelled when they happen (bounded by their expiry).
    asio::steady_timer all_looped(ex, 30s), loop_ended(ex, 30s);
    std::optional<std::error_code> pending;
    std::size_t looped = 0;
    bool ended = false;
    asio::co_spawn(
        ex,
        [&]() -> asio::awaitable<void> {
          while (auto rec = co_await consumer.next()) {
            EXPECT_EQ(rec->offset, static_cast<std::int64_t>(looped));
            ++looped;
            if (looped == 25) {
              // Waits with a long timeout until stop() ends it with consumer_stopped.
              all_looped.cancel();
              auto res = co_await consumer.getmany({.timeout = 60s}, asio::as_tuple(asio::use_awaitable));
              pending = std::get<0>(res);
              EXPECT_TRUE(std::get<1>(res).empty());
            }
          }
          ended = true;
          loop_ended.cancel();
        },
        asio::detached);
    (void)co_await all_looped.async_wait(asio::as_tuple(asio::use_awaitable));
    CO_ASSERT((looped) == (25u));
    co_await consumer.stop();
    // The loop may have ended already, while stop() ran.
    if (!ended) (void)co_await loop_ended.async_wait(asio::as_tuple(asio::use_awaitable));
    EXPECT_TRUE(ended);
    EXPECT_EQ(pending, std::error_code(client_errc::consumer_stopped));
    // After stop: get* fail with consumer_stopped, next() ends at once.
    auto res = co_await consumer.getone(std::span<const TopicPartition>{}, asio::as_tuple(asio::use_awaitable));
    EXPECT_EQ(std::get<0>(res), client_errc::consumer_stopped);
    EXPECT_FALSE((co_await consumer.next()).has_value());
    co_return true;
  };
  EXPECT_TRUE(run_async(body(consumer_config(rig), topic), 60s));
}

TEST(ConsumerRealBroker, MisuseFailsWithIllegalState) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = unique_topic("consumer-misuse");
  create_topic(rig.bootstrap("PLAINTEXT"), topic, 1);
  auto body = [](ConsumerConfig cfg, std::string t) -> asio::awaitable<bool> {
    Consumer consumer(co_await asio::this_coro::executor, std::move(cfg));
    const TopicPartition p0(t, 0);
    auto before = co_await consumer.getmany({}, asio::as_tuple(asio::use_awaitable));
    EXPECT_EQ(std::get<0>(before), client_errc::illegal_state);
    consumer.assign(partitions_of(t, 1));
    co_await consumer.start();
    try {
      consumer.seek(TopicPartition(t, 5), 0);
      ADD_FAILURE() << "seek on an unassigned partition did not throw";
    } catch (const error& e) {
      EXPECT_EQ(e.code(), client_errc::illegal_state);
    }
    const TopicPartition other(t + "-other", 0);
    auto unassigned = co_await consumer.getone(other, asio::as_tuple(asio::use_awaitable));
    EXPECT_EQ(std::get<0>(unassigned), client_errc::illegal_state);
    auto nogroup = co_await consumer.commit(asio::as_tuple(asio::use_awaitable));
    EXPECT_EQ(std::get<0>(nogroup), client_errc::illegal_state);
    co_await consumer.stop();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(consumer_config(rig), topic), 60s));
}

}  // namespace
}  // namespace asiokafka::test
