// asiokafka::Producer against the single-node broker: records read back by librdkafka's
// consumer with every field compared, keyed partitioning, every codec, the spellings users
// write (temporaries, loops, lambdas: run under ASan too), acks=0, bad input and shutdown.
#include "asiokafka/producer.hpp"
#include "asiokafka/kafka_error.hpp"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <array>
#include <chrono>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "producer/sansio/partitioner.hpp"
#include "support/async.hpp"
#include "support/rig.hpp"
#include "support/topics.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

ProducerConfig config_for(const Rig& rig) {
  ProducerConfig c;
  c.bootstrap_servers = rig.bootstrap("PLAINTEXT");
  return c;
}

struct Sent {
  std::optional<std::string> key;
  std::string value;
  std::int64_t timestamp;
  RecordMetadata md;
};

TEST(ProducerRealBroker, KeyedAndKeylessRecordsWithHeadersReadBackByLibrdkafka) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = unique_topic("producer-fields");
  create_topic(rig.bootstrap("PLAINTEXT"), topic, 4);
  auto body = [](ProducerConfig cfg, std::string t) -> asio::awaitable<std::vector<Sent>> {
    Producer producer(co_await asio::this_coro::executor, std::move(cfg));
    co_await producer.start();
    std::vector<Sent> sent;
    std::vector<DeliveryHandle> handles;
    const std::array<Header, 2> headers{Header{"trace", BytesView("abc")}, Header{"empty", std::nullopt}};
    for (int i = 0; i < 400; ++i) {
      Sent s;
      if (i % 2 == 0) s.key = "key-" + std::to_string(i % 20);
      s.value = "value-" + std::to_string(i);
      s.timestamp = 1'700'000'000'000 + i;
      SendOptions options;
      if (s.key) options.key = BytesView(*s.key);
      options.timestamp = s.timestamp;
      options.headers = headers;
      handles.push_back(co_await producer.send(t, s.value, options));
      sent.push_back(std::move(s));
    }
    for (std::size_t i = 0; i < handles.size(); ++i) sent[i].md = co_await handles[i].async_wait();
    co_await producer.stop();
    co_return sent;
  };
  const auto sent = run_async(body(config_for(rig), topic), 60s);
  const auto read = consume(rig.bootstrap("PLAINTEXT"), topic, 4, sent.size());
  ASSERT_EQ(read.size(), sent.size());
  for (const auto& s : sent) {
    EXPECT_EQ(s.md.topic, topic);
    ASSERT_GE(s.md.partition, 0);
    ASSERT_LT(s.md.partition, 4);
    if (s.key) {
      const auto* k = reinterpret_cast<const std::uint8_t*>(s.key->data());
      EXPECT_EQ(s.md.partition, producer::partition_for_key({k, s.key->size()}, 4)) << *s.key;
    }
    EXPECT_EQ(s.md.timestamp, s.timestamp);
    EXPECT_EQ(s.md.timestamp_type, protocol::TimestampType::create_time);
    const auto it = read.find({s.md.partition, s.md.offset});
    ASSERT_NE(it, read.end()) << "no record at " << s.md.partition << "/" << s.md.offset;
    EXPECT_EQ(it->second.key, s.key);
    EXPECT_EQ(it->second.value, s.value);
    EXPECT_EQ(it->second.timestamp, s.timestamp);
    ASSERT_EQ(it->second.headers.size(), 2u);
    EXPECT_EQ(it->second.headers[0], (std::pair<std::string, std::optional<std::string>>{"trace", "abc"}));
    EXPECT_EQ(it->second.headers[1], (std::pair<std::string, std::optional<std::string>>{"empty", std::nullopt}));
  }
}

TEST(ProducerRealBroker, EveryCodecAndBothAckModes) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::array codecs{protocol::CompressionType::none, protocol::CompressionType::gzip,
                          protocol::CompressionType::snappy, protocol::CompressionType::lz4,
                          protocol::CompressionType::zstd};
  for (const auto codec : codecs) {
    SCOPED_TRACE(static_cast<int>(codec));
    const std::string topic = unique_topic("producer-codec");
    create_topic(rig.bootstrap("PLAINTEXT"), topic, 1);
    auto config = config_for(rig);
    config.compression_type = codec;
    auto body = [](ProducerConfig cfg, std::string t) -> asio::awaitable<std::int64_t> {
      Producer producer(co_await asio::this_coro::executor, std::move(cfg));
      co_await producer.start();
      for (int i = 0; i < 99; ++i) (void)co_await producer.send(t, "v-" + std::to_string(i));
      const RecordMetadata last = co_await producer.send_and_wait(t, "v-99");
      co_await producer.stop();
      co_return last.offset;
    };
    EXPECT_EQ(run_async(body(config, topic), 60s), 99);
    const auto read = consume(rig.bootstrap("PLAINTEXT"), topic, 1, 100);
    ASSERT_EQ(read.size(), 100u);
    for (std::int64_t i = 0; i < 100; ++i) EXPECT_EQ(read.at({0, i}).value, "v-" + std::to_string(i));
  }
  // acks=0: no answer, so no offset; the records still arrive.
  const std::string topic = unique_topic("producer-acks0");
  create_topic(rig.bootstrap("PLAINTEXT"), topic, 1);
  auto config = config_for(rig);
  config.acks = Acks::none;
  config.enable_idempotence = false;
  auto body = [](ProducerConfig cfg, std::string t) -> asio::awaitable<std::int64_t> {
    Producer producer(co_await asio::this_coro::executor, std::move(cfg));
    co_await producer.start();
    for (int i = 0; i < 9; ++i) (void)co_await producer.send(t, "x");
    const RecordMetadata md = co_await producer.send_and_wait(t, "x");
    co_await producer.stop();
    co_return md.offset;
  };
  EXPECT_EQ(run_async(body(config, topic), 60s), -1);
  EXPECT_EQ(consume(rig.bootstrap("PLAINTEXT"), topic, 1, 10).size(), 10u);
}

// Full 1 MiB batches of every codec: the broker decompresses each batch with the Java
// client's readers before appending it (an lz4 batch is one block of up to 1 MiB here, not
// 64 KiB blocks), and librdkafka's consumer reads every record back.
TEST(ProducerRealBroker, FullCompressedBatchesAreAcceptedAndReadBack) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  constexpr int count = 24000;  // about 3.4 MB of values: three full batches and a partial one
  const auto value_of = [](int i) {
    std::string v = "{\"id\":" + std::to_string(i) + ",\"user\":\"u" + std::to_string(i % 977) + "\",\"page\":\"/p/";
    while (v.size() < 140) v += static_cast<char>('a' + (i * 7 + static_cast<int>(v.size()) * 13) % 26);
    return v + "\"}";
  };
  for (const auto codec : {protocol::CompressionType::lz4, protocol::CompressionType::zstd,
                           protocol::CompressionType::gzip, protocol::CompressionType::snappy}) {
    SCOPED_TRACE(static_cast<int>(codec));
    const std::string topic = unique_topic("producer-full-batches");
    create_topic(rig.bootstrap("PLAINTEXT"), topic, 1);
    auto config = config_for(rig);
    config.compression_type = codec;
    config.max_batch_size = 1 << 20;
    config.max_request_size = 4 << 20;
    config.linger = 200ms;  // batches fill by size, not by time
    auto body = [value_of](ProducerConfig cfg, std::string t) -> asio::awaitable<std::int64_t> {
      Producer producer(co_await asio::this_coro::executor, std::move(cfg));
      co_await producer.start();
      DeliveryHandle last;
      for (int i = 0; i < count; ++i) last = co_await producer.send(t, value_of(i));
      co_await producer.flush();
      const RecordMetadata md = co_await last.async_wait();
      co_await producer.stop();
      co_return md.offset;
    };
    EXPECT_EQ(run_async(body(config, topic), 120s), count - 1);
    const auto read = consume(rig.bootstrap("PLAINTEXT"), topic, 1, count);
    ASSERT_EQ(read.size(), static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) ASSERT_EQ(read.at({0, i}).value, value_of(i)) << "record " << i;
  }
}

// The spellings of DEVELOPERS.md: temporaries, literals and braced options inside co_await,
// in loops and in lambdas (GCC 12's bug must not reach them; the ASan build runs this too).
TEST(ProducerRealBroker, NaturalSpellingsWithTemporaries) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = unique_topic("producer-spellings");
  create_topic(rig.bootstrap("PLAINTEXT"), topic, 1);
  auto body = [](ProducerConfig cfg, std::string t) -> asio::awaitable<std::vector<std::int64_t>> {
    Producer producer(co_await asio::this_coro::executor, std::move(cfg));
    co_await producer.start();
    std::vector<std::int64_t> offsets;
    for (int i = 0; i < 3; ++i) {
      auto h = co_await producer.send(t, std::string("value-") + std::to_string(i),
                                      {.key = std::string("key-") + std::to_string(i)});
      offsets.push_back((co_await h.async_wait()).offset);
    }
    offsets.push_back((co_await producer.send_and_wait(t, "literal", {.key = "k", .timestamp = 5})).offset);
    auto send_one = [&producer, &t](std::string v) -> asio::awaitable<std::int64_t> {
      co_return (co_await producer.send_and_wait(t, v, {.key = std::string(v)})).offset;
    };
    offsets.push_back(co_await send_one("from-a-lambda"));
    const auto result = co_await producer.send_and_wait(t, std::string(1000, 'z'), {},
                                                        asio::as_tuple(asio::use_awaitable));
    offsets.push_back(std::get<0>(result) ? -2 : std::get<1>(result).offset);
    co_await producer.stop();
    co_return offsets;
  };
  EXPECT_EQ(run_async(body(config_for(rig), topic), 60s), (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5}));
  const auto read = consume(rig.bootstrap("PLAINTEXT"), topic, 1, 6);
  ASSERT_EQ(read.size(), 6u);
  EXPECT_EQ(read.at({0, 0}).key, "key-0");
  EXPECT_EQ(read.at({0, 3}).value, "literal");
  EXPECT_EQ(read.at({0, 3}).timestamp, 5);
  EXPECT_EQ(read.at({0, 4}).key, "from-a-lambda");
}

TEST(ProducerRealBroker, BadInputFailsThatSendOnly) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = unique_topic("producer-bad");
  create_topic(rig.bootstrap("PLAINTEXT"), topic, 2);
  auto config = config_for(rig);
  config.max_request_size = 20'000;
  config.max_block = 1500ms;
  config.allow_auto_create_topics = false;
  struct Seen {
    error_code too_large, bad_partition, unknown_topic, not_started;
    std::string unknown_topic_message;
    std::chrono::steady_clock::duration unknown_topic_after{};
    std::int64_t after_offset = -1;
  };
  auto body = [](ProducerConfig cfg, std::string t) -> asio::awaitable<Seen> {
    Seen seen;
    Producer producer(co_await asio::this_coro::executor, std::move(cfg));
    const auto early = co_await producer.send(t, "v", {}, asio::as_tuple(asio::use_awaitable));
    seen.not_started = std::get<0>(early);
    co_await producer.start();
    const auto big = co_await producer.send(t, std::string(30'000, 'x'), {}, asio::as_tuple(asio::use_awaitable));
    seen.too_large = std::get<0>(big);
    const auto bad = co_await producer.send(t, "v", {.partition = 7}, asio::as_tuple(asio::use_awaitable));
    seen.bad_partition = std::get<0>(bad);
    const auto start = std::chrono::steady_clock::now();
    try {
      (void)co_await producer.send(t + "-missing", "v");
    } catch (const asiokafka::error& e) {
      seen.unknown_topic = e.code();
      seen.unknown_topic_message = e.what();
    }
    seen.unknown_topic_after = std::chrono::steady_clock::now() - start;
    seen.after_offset = (co_await producer.send_and_wait(t, "still fine", {.partition = 1})).offset;
    co_await producer.stop();
    co_return seen;
  };
  const Seen seen = run_async(body(config, topic), 60s);
  EXPECT_EQ(seen.not_started, client_errc::client_closed);
  EXPECT_EQ(seen.too_large, kafka_errc::message_too_large);
  EXPECT_EQ(seen.bad_partition, client_errc::invalid_argument);
  EXPECT_EQ(seen.unknown_topic, client_errc::timeout);
  EXPECT_NE(seen.unknown_topic_message.find(topic + "-missing"), std::string::npos) << seen.unknown_topic_message;
  EXPECT_GE(seen.unknown_topic_after, 1500ms);
  EXPECT_LT(seen.unknown_topic_after, 6s);
  EXPECT_EQ(seen.after_offset, 0);
}

TEST(ProducerRealBroker, DestroyedWithoutStopFailsPendingAndEnds) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = unique_topic("producer-destroy");
  create_topic(rig.bootstrap("PLAINTEXT"), topic, 1);
  auto config = config_for(rig);
  config.linger = 10s;  // nothing leaves before the producer goes
  config.delivery_timeout = 60s;
  config.request_timeout = 30s;
  asio::io_context io;
  std::optional<DeliveryHandle> handle;
  std::optional<error_code> outcome;
  {
    auto producer = std::make_unique<Producer>(io.get_executor(), config);
    auto body = [](Producer& p, std::string t, std::optional<DeliveryHandle>& out) -> asio::awaitable<void> {
      co_await p.start();
      out = co_await p.send(t, "pending");
    };
    asio::co_spawn(io, body(*producer, topic, handle), [&](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
      io.stop();
    });
    io.run_for(30s);
    ASSERT_TRUE(handle);
    io.restart();
    producer.reset();
  }
  handle->async_wait([&](error_code ec, RecordMetadata) { outcome = ec; });
  io.run_for(30s);  // ends when nothing is left: the producer's tasks are gone
  ASSERT_TRUE(outcome);
  EXPECT_EQ(*outcome, client_errc::client_closed);
  EXPECT_TRUE(io.stopped()) << "work outlived the producer";
}

TEST(ProducerRealBroker, CreateBatchAndSendBatchAsAiokafka) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = unique_topic("producer-batch");
  create_topic(rig.bootstrap("PLAINTEXT"), topic, 2);
  auto config = config_for(rig);
  config.max_batch_size = 2048;
  config.compression_type = protocol::CompressionType::lz4;
  struct result {
    std::int32_t appended = 0;
    RecordMetadata md;
    error_code empty, no_partition;
    bool full_refused = false;
  };
  auto body = [](ProducerConfig cfg, std::string t) -> asio::awaitable<result> {
    result r;
    Producer producer(co_await asio::this_coro::executor, std::move(cfg));
    co_await producer.start();
    // Records before the batch, on the same partition: the batch goes after them.
    for (int i = 0; i < 3; ++i) (void)co_await producer.send(t, "before-" + std::to_string(i), {.partition = 1});
    BatchBuilder batch = producer.create_batch();
    for (int i = 0; i < 1000; ++i) {
      const auto md = batch.append(std::string("k") + std::to_string(i), "batched-" + std::to_string(i), 1'700'000'000'000 + i);
      if (!md) {
        r.full_refused = true;
        break;
      }
      EXPECT_EQ(md->offset_delta, i);
      EXPECT_EQ(md->timestamp, 1'700'000'000'000 + i);
      ++r.appended;
    }
    EXPECT_LE(batch.size(), 2048u);
    batch.close();
    EXPECT_FALSE(batch.append(std::nullopt, "late")) << "a closed batch takes nothing";
    const std::vector<std::int32_t> partitions = co_await producer.partitions_for(t);
    EXPECT_EQ(partitions.size(), 2u);
    DeliveryHandle h = co_await producer.send_batch(std::move(batch), t, partitions.back());
    r.md = co_await h.async_wait();
    std::tie(r.empty, std::ignore) = co_await producer.send_batch(producer.create_batch(), t, 0, asio::as_tuple(asio::use_awaitable));
    BatchBuilder other = producer.create_batch();
    other.append(std::nullopt, "x");
    std::tie(r.no_partition, std::ignore) = co_await producer.send_batch(std::move(other), t, 7, asio::as_tuple(asio::use_awaitable));
    co_await producer.stop();
    co_return r;
  };
  const result r = run_async(body(config, topic), 60s);
  EXPECT_TRUE(r.full_refused) << "2048 bytes cannot hold 1000 records";
  EXPECT_GT(r.appended, 10);
  EXPECT_EQ(r.md.partition, 1);
  EXPECT_EQ(r.md.offset, 3) << "after the three records sent before it";
  EXPECT_EQ(r.md.timestamp, 1'700'000'000'000);
  EXPECT_EQ(r.empty, client_errc::invalid_argument);
  EXPECT_EQ(r.no_partition, client_errc::invalid_argument);
  const auto read = consume(rig.bootstrap("PLAINTEXT"), topic, 2, 3 + static_cast<std::size_t>(r.appended));
  ASSERT_EQ(read.size(), 3 + static_cast<std::size_t>(r.appended));
  for (std::int64_t i = 0; i < r.appended; ++i) {
    const auto& c = read.at({1, 3 + i});
    EXPECT_EQ(c.key, "k" + std::to_string(i));
    EXPECT_EQ(c.value, "batched-" + std::to_string(i));
    EXPECT_EQ(c.timestamp, 1'700'000'000'000 + i);
  }
}

TEST(ProducerRealBroker, ABatchTooLargeForTheTopicIsSplitAndEveryRecordArrivesInOrder) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = unique_topic("producer-split");
  // The topic takes batches of at most 1,500 bytes; ours hold up to 64 KiB.
  create_topic(rig.bootstrap("PLAINTEXT"), topic, 1, {{"max.message.bytes", "1500"}});
  for (const bool idempotent : {true, false}) {
    SCOPED_TRACE(idempotent);
    auto config = config_for(rig);
    config.max_batch_size = 65536;
    config.linger = 200ms;
    if (!idempotent) {
      config.enable_idempotence = false;
      config.acks = Acks::leader;
    }
    auto body = [](ProducerConfig cfg, std::string t) -> asio::awaitable<std::vector<RecordMetadata>> {
      Producer producer(co_await asio::this_coro::executor, std::move(cfg));
      co_await producer.start();
      std::vector<DeliveryHandle> handles;
      for (int i = 0; i < 60; ++i) {
        handles.push_back(co_await producer.send(t, std::string(90, static_cast<char>('a' + i % 26)) + std::to_string(i)));
      }
      std::vector<RecordMetadata> out;
      for (auto& h : handles) out.push_back(co_await h.async_wait());
      // A single record over the topic's limit fails alone.
      error_code ec;
      std::tie(ec, std::ignore) =
          co_await producer.send_and_wait(t, std::string(3000, 'z'), {}, asio::as_tuple(asio::use_awaitable));
      EXPECT_EQ(ec, kafka_errc::message_too_large);
      co_await producer.stop();
      co_return out;
    };
    const auto mds = run_async(body(config, topic), 60s);
    ASSERT_EQ(mds.size(), 60u);
    for (std::size_t i = 1; i < mds.size(); ++i) EXPECT_EQ(mds[i].offset, mds[i - 1].offset + 1) << i;
  }
  const auto read = consume(rig.bootstrap("PLAINTEXT"), topic, 1, 120);
  ASSERT_EQ(read.size(), 120u);
  for (std::int64_t i = 0; i < 120; ++i) {
    const int n = static_cast<int>(i % 60);
    EXPECT_EQ(read.at({0, i}).value, std::string(90, static_cast<char>('a' + n % 26)) + std::to_string(n)) << i;
  }
}

}  // namespace
}  // namespace asiokafka::test
