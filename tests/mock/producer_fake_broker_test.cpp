// asiokafka::Producer against a FakeBroker that writes a batch and then answers garbage or
// closes the connection mid-request (issue 9, "Bad input and faults"): the batch is retried
// on a fresh connection with the same producer id, epoch and sequence, so a broker that
// deduplicates (as Kafka does) holds it once; a broker that never answers sensibly costs the
// user a client_errc::timeout only after delivery_timeout. Also the KIP-360 epoch bump as the
// broker sees it (librdkafka's mock cannot bump an idempotent producer's epoch).
#include "asiokafka/producer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <boost/asio/this_coro.hpp>

#include "asiokafka/error.hpp"
#include "asiokafka/kafka_error.hpp"
#include "asiokafka/protocol/messages.hpp"
#include "asiokafka/protocol/records.hpp"
#include "support/async.hpp"
#include "support/fake_broker.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
namespace msg = protocol::messages;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

const std::string topic = "fake";
constexpr std::int64_t producer_id = 4242;

// One ProduceRequest batch as the broker read it.
struct Attempt {
  std::size_t connection = 0;
  std::int64_t producer_id = -1;
  std::int16_t epoch = -1;
  std::int32_t base_sequence = -1;
  std::vector<std::string> values;
};

// A one-partition, one-broker cluster: node 0 is the fake broker itself. It keeps a log and,
// like Kafka, answers a batch whose producer id, epoch and sequence it already holds with
// success and the offset it got the first time. `misbehave(attempt_index)` decides, per
// Produce request, whether the broker writes it and then answers nothing sensible.
enum class fault { none, undecodable_body, raw_garbage, close };

struct Broker {
  explicit Broker(asio::any_io_executor ex) : fake(std::move(ex)) {
    fake.on_request([this](FakeSession& s, const FakeRequest& r) { handle(s, r); });
  }

  std::string bootstrap() const { return fake.host() + ":" + std::to_string(fake.port()); }

  void handle(FakeSession& s, const FakeRequest& r) {
    if (r.api_key == msg::ApiVersionsRequest::api_key) return s.answer_api_versions(r);
    if (r.api_key == msg::MetadataRequest::api_key) return metadata(s, r);
    if (r.api_key == msg::InitProducerIdRequest::api_key) return init_producer_id(s, r);
    if (r.api_key == msg::ProduceRequest::api_key) return produce(s, r);
  }

  void metadata(FakeSession& s, const FakeRequest& r) { s.answer_single_broker_metadata(r, fake.port(), topic); }

  void init_producer_id(FakeSession& s, const FakeRequest& r) {
    msg::InitProducerIdRequest req;
    ASSERT_FALSE(req.decode(r.body, r.api_version));
    init_requests.push_back({r.api_version, req});
    msg::InitProducerIdResponse resp;
    resp.producer_id = producer_id;
    // KIP-360: the same id asks for the next epoch; no id, a fresh producer (epoch 0).
    epoch = req.producer_id == producer_id ? static_cast<std::int16_t>(req.producer_epoch + 1) : std::int16_t{0};
    resp.producer_epoch = epoch;
    s.respond(r, resp);
  }

  void produce(FakeSession& s, const FakeRequest& r) {
    msg::ProduceRequest req;
    ASSERT_FALSE(req.decode(r.body, r.api_version));
    ASSERT_EQ(req.topic_data.size(), 1u);
    ASSERT_EQ(req.topic_data[0].partition_data.size(), 1u);
    Attempt a;
    a.connection = r.connection;
    protocol::RecordsReader reader(req.topic_data[0].partition_data[0].records.bytes());
    ASSERT_TRUE(reader.next_batch()) << reader.error().message();
    a.producer_id = reader.batch().producer_id;
    a.epoch = reader.batch().producer_epoch;
    a.base_sequence = reader.batch().base_sequence;
    protocol::Record rec;
    while (reader.next_record(rec)) a.values.emplace_back(rec.value->begin(), rec.value->end());
    const std::size_t index = attempts.size();
    attempts.push_back(a);

    msg::ProduceResponse resp;
    msg::ProduceResponse::TopicProduceResponse tr;
    tr.name = topic;
    msg::ProduceResponse::PartitionProduceResponse pr;
    pr.index = 0;
    if (index < refuse_with.size() && refuse_with[index] != 0) {
      pr.error_code = refuse_with[index];
      pr.base_offset = -1;
    } else {
      pr.base_offset = append(a);
    }
    tr.partition_responses.push_back(pr);
    resp.responses.push_back(std::move(tr));
    const fault f = index < faults.size() ? faults[index] : then;
    switch (f) {
      case fault::none:
        return s.respond(r, resp);
      case fault::undecodable_body: {
        const std::vector<std::uint8_t> junk{0xff, 0xff, 0xff};
        return s.respond(r, junk);
      }
      case fault::raw_garbage:
        // A size prefix of about 2 GiB, then noise: no frame can follow.
        s.write({0x7f, 0xff, 0xff, 0xf0, 0xde, 0xad, 0xbe, 0xef});
        return s.close();
      case fault::close:
        return s.close();
    }
  }

  // Kafka's deduplication: the same producer, epoch and sequence is the batch already held.
  std::int64_t append(const Attempt& a) {
    for (const auto& held : log) {
      if (held.producer_id == a.producer_id && held.epoch == a.epoch && held.base_sequence == a.base_sequence) {
        return held.offset;
      }
    }
    Held h{a.producer_id, a.epoch, a.base_sequence, next_offset, a.values};
    next_offset += static_cast<std::int64_t>(a.values.size());
    log.push_back(h);
    return h.offset;
  }

  std::vector<std::string> log_values() const {
    std::vector<std::string> out;
    for (const auto& h : log) out.insert(out.end(), h.values.begin(), h.values.end());
    return out;
  }

  struct Held {
    std::int64_t producer_id;
    std::int16_t epoch;
    std::int32_t base_sequence;
    std::int64_t offset;
    std::vector<std::string> values;
  };
  FakeBroker fake;
  std::vector<fault> faults;  ///< per Produce request, in arrival order; later ones get `then`
  fault then = fault::none;
  std::vector<std::int16_t> refuse_with;  ///< per Produce request: an error code instead of writing
  std::vector<Attempt> attempts;
  std::vector<std::pair<std::int16_t, msg::InitProducerIdRequest>> init_requests;
  std::vector<Held> log;
  std::int64_t next_offset = 0;
  std::int16_t epoch = 0;
};

ProducerConfig config_for(const Broker& b) {
  ProducerConfig c;
  c.bootstrap_servers = b.bootstrap();
  c.request_timeout = 2s;
  c.connect_timeout = 2s;
  c.retry_backoff = 20ms;
  c.reconnect_backoff = 20ms;
  c.reconnect_backoff_max = 100ms;
  c.linger = 0ms;
  c.delivery_timeout = 10s;
  return c;
}

struct Delivery {
  error_code ec;
  std::string message;
  RecordMetadata md;
  steady::duration took{};
};

asio::awaitable<Delivery> send_one(Producer& p, std::string value) {
  Delivery d;
  const auto start = steady::now();
  try {
    auto h = co_await p.send(topic, value, {.partition = 0});
    d.md = co_await h.async_wait();
  } catch (const asiokafka::error& e) {
    d.ec = e.code();
    d.message = e.what();
  }
  d.took = steady::now() - start;
  co_return d;
}

struct FaultCase {
  const char* name;
  fault first;
};

class ProducerFakeBrokerFault : public ::testing::TestWithParam<FaultCase> {};

TEST_P(ProducerFakeBrokerFault, WrittenBatchIsRetriedOnAFreshConnectionAndHeldOnce) {
  struct Seen {
    Delivery first, second;
    std::vector<Attempt> attempts;
    std::vector<std::string> log;
    std::size_t accepted = 0;
  };
  auto body = [](fault f) -> asio::awaitable<Seen> {
    Broker broker(co_await asio::this_coro::executor);
    broker.faults = {f};  // the first Produce is written, then its answer is lost
    Seen seen;
    {
      Producer producer(co_await asio::this_coro::executor, config_for(broker));
      co_await producer.start();
      seen.first = co_await send_one(producer, "once");
      seen.second = co_await send_one(producer, "after");
      co_await producer.stop();
    }
    seen.attempts = broker.attempts;
    seen.log = broker.log_values();
    seen.accepted = broker.fake.accepted();
    co_return seen;
  };
  const Seen seen = run_async(body(GetParam().first), 30s);
  ASSERT_FALSE(seen.first.ec) << seen.first.ec.message() << " " << seen.first.message;
  EXPECT_EQ(seen.first.md.offset, 0) << "the retry was not recognised as the batch already written";
  ASSERT_FALSE(seen.second.ec) << seen.second.ec.message() << " " << seen.second.message;
  EXPECT_EQ(seen.second.md.offset, 1);
  const std::vector<std::string> expected_log{"once", "after"};
  EXPECT_EQ(seen.log, expected_log) << "a record was lost or written twice";
  // The first batch went at least twice, each time with the same producer id, epoch and
  // sequence, and the retry on a connection other than the one that failed.
  ASSERT_GE(seen.attempts.size(), 3u);
  std::set<std::size_t> connections;
  for (const auto& a : seen.attempts) {
    if (a.values != std::vector<std::string>{"once"}) continue;
    connections.insert(a.connection);
    EXPECT_EQ(a.producer_id, producer_id);
    EXPECT_EQ(a.epoch, seen.attempts[0].epoch);
    EXPECT_EQ(a.base_sequence, 0);
  }
  EXPECT_GE(connections.size(), 2u) << "the batch was not retried on a fresh connection";
  EXPECT_GE(seen.accepted, 2u);
}

INSTANTIATE_TEST_SUITE_P(Faults, ProducerFakeBrokerFault,
                         ::testing::Values(FaultCase{"UndecodableAnswer", fault::undecodable_body},
                                           FaultCase{"RawGarbage", fault::raw_garbage},
                                           FaultCase{"ClosedMidRequest", fault::close}),
                         [](const auto& p) { return std::string(p.param.name); });

class ProducerFakeBrokerForever : public ::testing::TestWithParam<FaultCase> {};

TEST_P(ProducerFakeBrokerForever, UserSeesTimeoutOnlyAfterDeliveryTimeout) {
  struct Seen {
    Delivery d;
    std::size_t attempts = 0, accepted = 0;
    steady::duration stop_took{};
  };
  auto body = [](fault f) -> asio::awaitable<Seen> {
    Broker broker(co_await asio::this_coro::executor);
    broker.then = f;
    Seen seen;
    {
      auto cfg = config_for(broker);
      cfg.request_timeout = 1000ms;
      cfg.delivery_timeout = 2000ms;
      Producer producer(co_await asio::this_coro::executor, cfg);
      co_await producer.start();
      seen.d = co_await send_one(producer, "doomed");
      const auto stop_start = steady::now();
      co_await producer.stop();
      seen.stop_took = steady::now() - stop_start;
    }
    seen.attempts = broker.attempts.size();
    seen.accepted = broker.fake.accepted();
    co_return seen;
  };
  const Seen seen = run_async(body(GetParam().first), 30s);
  EXPECT_EQ(seen.d.ec, client_errc::timeout) << seen.d.ec.message() << " " << seen.d.message;
  EXPECT_GE(seen.d.took, 1800ms) << "the user saw an error before delivery_timeout: " << seen.d.message;
  EXPECT_LT(seen.d.took, 5s) << "delivery_timeout overrun";
  EXPECT_LT(seen.stop_took, 3s);
  EXPECT_GE(seen.attempts, 2u) << "not retried";
  EXPECT_GE(seen.accepted, 3u) << "retries did not open fresh connections";
}

INSTANTIATE_TEST_SUITE_P(Faults, ProducerFakeBrokerForever,
                         ::testing::Values(FaultCase{"UndecodableAnswer", fault::undecodable_body},
                                           FaultCase{"RawGarbage", fault::raw_garbage},
                                           FaultCase{"ClosedMidRequest", fault::close}),
                         [](const auto& p) { return std::string(p.param.name); });

TEST(ProducerFakeBroker, UnknownProducerIdBumpsTheEpochWithKip360AndTheBatchGoesAgainFromSequenceZero) {
  struct Seen {
    Delivery first, refused, later;
    std::vector<Attempt> attempts;
    std::vector<std::pair<std::int16_t, msg::InitProducerIdRequest>> inits;
    std::vector<std::string> log;
  };
  auto body = []() -> asio::awaitable<Seen> {
    Broker broker(co_await asio::this_coro::executor);
    // Produce #0 ("first") is written; #1 ("refused") gets UNKNOWN_PRODUCER_ID.
    broker.refuse_with = {0, static_cast<std::int16_t>(kafka_errc::unknown_producer_id)};
    Seen seen;
    {
      Producer producer(co_await asio::this_coro::executor, config_for(broker));
      co_await producer.start();
      seen.first = co_await send_one(producer, "first");
      seen.refused = co_await send_one(producer, "refused");
      seen.later = co_await send_one(producer, "later");
      co_await producer.stop();
    }
    seen.attempts = broker.attempts;
    seen.inits = broker.init_requests;
    seen.log = broker.log_values();
    co_return seen;
  };
  const Seen seen = run_async(body(), 30s);
  ASSERT_FALSE(seen.first.ec) << seen.first.message;
  ASSERT_FALSE(seen.refused.ec) << seen.refused.ec.message() << " " << seen.refused.message;
  ASSERT_FALSE(seen.later.ec) << seen.later.message;
  ASSERT_EQ(seen.inits.size(), 2u) << "expected the start and one bump";
  EXPECT_EQ(seen.inits[0].second.producer_id, -1);
  EXPECT_GE(seen.inits[1].first, 3) << "the bump needs InitProducerId v3+";
  EXPECT_EQ(seen.inits[1].second.producer_id, producer_id);
  EXPECT_EQ(seen.inits[1].second.producer_epoch, 0);
  ASSERT_EQ(seen.attempts.size(), 4u);
  EXPECT_EQ(std::make_tuple(seen.attempts[0].epoch, seen.attempts[0].base_sequence), std::make_tuple(0, 0));
  EXPECT_EQ(std::make_tuple(seen.attempts[1].epoch, seen.attempts[1].base_sequence), std::make_tuple(0, 1));
  // After the bump: epoch 1, sequences from 0 again.
  EXPECT_EQ(seen.attempts[2].values, std::vector<std::string>{"refused"});
  EXPECT_EQ(std::make_tuple(seen.attempts[2].epoch, seen.attempts[2].base_sequence), std::make_tuple(1, 0));
  EXPECT_EQ(std::make_tuple(seen.attempts[3].epoch, seen.attempts[3].base_sequence), std::make_tuple(1, 1));
  const std::vector<std::string> expected_log{"first", "refused", "later"};
  EXPECT_EQ(seen.log, expected_log);
  EXPECT_EQ(seen.refused.md.offset, 1);
  EXPECT_EQ(seen.later.md.offset, 2);
}

}  // namespace
}  // namespace asiokafka::test
