// asiokafka::Producer against librdkafka's mock cluster with errors injected into Produce and
// InitProducerId answers (issue 9, "Injected errors"): retriable errors are retried and every
// record lands once; UNKNOWN_PRODUCER_ID and OUT_OF_ORDER_SEQUENCE_NUMBER bump the
// epoch; a non-retriable error fails only the records it hit; retries end at
// delivery_timeout; a refused InitProducerId fails start().
//
// What librdkafka 2.0's mock can and cannot show: an injected error answers the whole request
// without writing it, so a retry never meets a copy already written (that case, "written but
// the answer lost", is in producer_fake_broker_test.cpp). The mock checks producer ids and
// sequences only for transactional producers, so an out-of-order answer happens here only
// when injected; and it writes a batch sent behind one that failed, where a broker would
// refuse it as out of order, so the order of records is asserted with one request in flight
// and exactly-once with five. Nor can an idempotent producer bump its epoch on it:
// InitProducerId v3+ with a producer id and no transactional id gets
// INVALID_PRODUCER_ID_MAPPING (a real broker hands out a new id), so the tests that bump
// announce InitProducerId v0-2 only and the producer takes a fresh id (its path for brokers
// before 2.5); the KIP-360 request itself is tested with the FakeBroker. It has no request
// log (rd_kafka_mock_start_request_tracking came later): a second InitProducerId is seen as a
// consumed entry of the broker's error stack (entries with error 0 answer normally).
#include "asiokafka/producer.hpp"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/error.hpp"
#include "asiokafka/kafka_error.hpp"
#include "asiokafka/protocol/messages.hpp"
#include "support/async.hpp"
#include "support/mock_cluster.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
namespace msg = protocol::messages;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr std::int16_t produce_key = msg::ProduceRequest::api_key;
constexpr std::int16_t init_pid_key = msg::InitProducerIdRequest::api_key;

std::int16_t code(kafka_errc e) { return static_cast<std::int16_t>(e); }

ProducerConfig config_for(const MockCluster& mock) {
  ProducerConfig c;
  c.bootstrap_servers = mock.bootstrap();
  c.request_timeout = 2s;
  c.connect_timeout = 2s;
  c.retry_backoff = 20ms;
  c.reconnect_backoff = 20ms;
  c.reconnect_backoff_max = 200ms;
  c.linger = 0ms;
  c.delivery_timeout = 10s;
  c.max_block = 5s;
  return c;
}

// How one record's delivery ended, with the error's message (only the throwing form has it).
struct Delivery {
  error_code ec;
  std::string message;
  RecordMetadata md;
};

asio::awaitable<Delivery> settle(DeliveryHandle h) {
  Delivery d;
  try {
    d.md = co_await h.async_wait();
  } catch (const asiokafka::error& e) {
    d.ec = e.code();
    d.message = e.what();
  }
  co_return d;
}

// Sends `values` to one partition (each appended before the next), then waits for every handle.
asio::awaitable<std::vector<Delivery>> send_all(Producer& p, std::string topic, std::int32_t partition,
                                                std::vector<std::string> values) {
  std::vector<DeliveryHandle> handles;
  for (const auto& v : values) handles.push_back(co_await p.send(topic, v, {.partition = partition}));
  std::vector<Delivery> out;
  for (auto& h : handles) out.push_back(co_await settle(h));
  co_return out;
}

std::vector<std::string> numbered(const std::string& stem, int from, int count) {
  std::vector<std::string> v;
  for (int i = from; i < from + count; ++i) v.push_back(stem + "-" + std::to_string(i));
  return v;
}

// What the mock holds for one partition, read back with librdkafka's consumer (CRC checks
// on), plus the partition's high watermark: values in offset order.
struct Log {
  std::vector<std::string> values;
  std::int64_t high_watermark = -1;
};

Log read_back(const std::string& bootstrap, const std::string& topic, std::int32_t partition) {
  Log log;
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "group.id", ("read-" + topic).c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
  rd_kafka_conf_set(conf, "check.crcs", "true", err, sizeof err);
  rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof err);
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (rk == nullptr) {
    ADD_FAILURE() << err;
    return log;
  }
  std::int64_t low = -1;
  EXPECT_EQ(rd_kafka_query_watermark_offsets(rk, topic.c_str(), partition, &low, &log.high_watermark, 10000),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(parts, topic.c_str(), partition)->offset = RD_KAFKA_OFFSET_BEGINNING;
  EXPECT_EQ(rd_kafka_assign(rk, parts), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(parts);
  std::int64_t next = 0;
  const auto deadline = steady::now() + 20s;
  bool eof = false;
  while (!eof && steady::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 200);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      eof = m->offset >= log.high_watermark;
    } else if (m->err) {
      ADD_FAILURE() << rd_kafka_message_errstr(m);
    } else {
      EXPECT_EQ(m->offset, next) << "offsets of the partition are not consecutive";
      next = m->offset + 1;
      log.values.emplace_back(static_cast<const char*>(m->payload), m->len);
    }
    rd_kafka_message_destroy(m);
  }
  EXPECT_TRUE(eof) << "did not read " << topic << "-" << partition << " to its end";
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return log;
}

// Every delivery succeeded, on `partition`, at consecutive offsets from `first_offset`.
void expect_delivered_in_order(const std::vector<Delivery>& ds, std::int32_t partition, std::int64_t first_offset) {
  for (std::size_t i = 0; i < ds.size(); ++i) {
    EXPECT_FALSE(ds[i].ec) << "record " << i << ": " << ds[i].ec.message() << " " << ds[i].message;
    EXPECT_EQ(ds[i].md.partition, partition);
    EXPECT_EQ(ds[i].md.offset, first_offset + static_cast<std::int64_t>(i)) << "record " << i;
  }
}

// --- Retriable Produce errors --------------------------------------------------------------

struct RetriableCase {
  const char* name;
  kafka_errc error;
  int in_flight;  ///< max_in_flight_requests_per_connection; 1: order is asserted too
};

class ProducerMockRetriable : public ::testing::TestWithParam<RetriableCase> {};

// Every record sent: each handle succeeded on `partition` and the offsets are exactly
// first_offset, first_offset + 1, ... in some order.
void expect_delivered_once(const std::vector<Delivery>& ds, std::int32_t partition, std::int64_t first_offset) {
  std::set<std::int64_t> offsets;
  for (std::size_t i = 0; i < ds.size(); ++i) {
    EXPECT_FALSE(ds[i].ec) << "record " << i << ": " << ds[i].ec.message() << " " << ds[i].message;
    EXPECT_EQ(ds[i].md.partition, partition);
    offsets.insert(ds[i].md.offset);
  }
  EXPECT_EQ(offsets.size(), ds.size()) << "two records got the same offset";
  if (!offsets.empty()) {
    EXPECT_EQ(*offsets.begin(), first_offset);
    EXPECT_EQ(*offsets.rbegin(), first_offset + static_cast<std::int64_t>(ds.size()) - 1);
  }
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST_P(ProducerMockRetriable, IsRetriedAndEveryRecordLandsOnce) {
  // One broker, so the injected errors sit on the stack of the broker the producer talks to,
  // and the test can check that each of them was met.
  MockCluster mock(1);
  const std::string topic = "retriable";
  mock.create_topic(topic, 1, 1);
  const auto error = code(GetParam().error);
  struct Seen {
    std::vector<Delivery> first, second;
    std::size_t pending_after = 0;
  };
  auto body = [&](ProducerConfig cfg) -> asio::awaitable<Seen> {
    Seen seen;
    Producer producer(co_await asio::this_coro::executor, std::move(cfg));
    co_await producer.start();
    // The partition's first batch meets three errors in a row...
    mock.push_broker_request_errors(1, produce_key, {{error, 0ms}, {error, 0ms}, {error, 0ms}});
    seen.first = co_await send_all(producer, topic, 0, numbered("a", 0, 10));
    // ...and so does a later one, after the partition's first acknowledgement.
    mock.push_broker_request_errors(1, produce_key, {{error, 0ms}, {error, 0ms}});
    seen.second = co_await send_all(producer, topic, 0, numbered("a", 10, 10));
    seen.pending_after = mock.pending_errors(1, produce_key);
    co_await producer.stop();
    co_return seen;
  };
  auto cfg = config_for(mock);
  cfg.max_in_flight_requests_per_connection = GetParam().in_flight;
  const Seen seen = run_async(body(cfg), 60s);
  EXPECT_EQ(seen.pending_after, 0u) << "the injected errors were not all met";
  const Log log = read_back(mock.bootstrap(), topic, 0);
  EXPECT_EQ(log.high_watermark, 20) << "records lost or written twice";
  if (GetParam().in_flight == 1) {
    expect_delivered_in_order(seen.first, 0, 0);
    expect_delivered_in_order(seen.second, 0, 10);
    EXPECT_EQ(log.values, numbered("a", 0, 20));
  } else {
    expect_delivered_once(seen.first, 0, 0);
    expect_delivered_once(seen.second, 0, 10);
    EXPECT_EQ(sorted(log.values), sorted(numbered("a", 0, 20)));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Errors, ProducerMockRetriable,
    ::testing::Values(RetriableCase{"NotLeaderOrFollowerInOrder", kafka_errc::not_leader_or_follower, 1},
                      RetriableCase{"RequestTimedOutInOrder", kafka_errc::request_timed_out, 1},
                      RetriableCase{"NotEnoughReplicasInOrder", kafka_errc::not_enough_replicas, 1},
                      RetriableCase{"NotLeaderOrFollowerFiveInFlight", kafka_errc::not_leader_or_follower, 5},
                      RetriableCase{"RequestTimedOutFiveInFlight", kafka_errc::request_timed_out, 5},
                      RetriableCase{"NotEnoughReplicasFiveInFlight", kafka_errc::not_enough_replicas, 5}),
                         [](const auto& p) { return std::string(p.param.name); });

TEST(ProducerMock, LeaderMovedMidStreamIsFollowed) {
  // The mock answers NOT_LEADER_OR_FOLLOWER by itself once the leader moved: the producer must
  // refresh its metadata and send the rest to the new leader.
  MockCluster mock(3);
  const std::string topic = "moving";
  mock.create_topic(topic, 1, 3);
  mock.set_partition_leader(topic, 0, 1);
  struct Seen {
    std::vector<Delivery> before, after;
  };
  auto body = [&](ProducerConfig cfg) -> asio::awaitable<Seen> {
    Seen seen;
    Producer producer(co_await asio::this_coro::executor, std::move(cfg));
    co_await producer.start();
    seen.before = co_await send_all(producer, topic, 0, numbered("m", 0, 10));
    mock.set_partition_leader(topic, 0, 2);
    seen.after = co_await send_all(producer, topic, 0, numbered("m", 10, 10));
    co_await producer.stop();
    co_return seen;
  };
  const Seen seen = run_async(body(config_for(mock)), 60s);
  expect_delivered_in_order(seen.before, 0, 0);
  expect_delivered_in_order(seen.after, 0, 10);
  const Log log = read_back(mock.bootstrap(), topic, 0);
  EXPECT_EQ(log.high_watermark, 20);
  EXPECT_EQ(log.values, numbered("m", 0, 20));
}

// --- Sequence-related errors: epoch bumps ---------------------------------------------------

TEST(ProducerMock, UnknownProducerIdBumpsTheEpochAndTheBatchIsDelivered) {
  MockCluster mock(1);
  const std::string topic = "unknown-pid";
  mock.set_api_versions(init_pid_key, 0, 2);  // see the file comment: a fresh id, not a bump
  mock.create_topic(topic, 1, 1);
  struct Seen {
    std::vector<Delivery> first, refused, later;
    std::size_t init_pid_left = 0, produce_left = 0;
  };
  auto body = [&](ProducerConfig cfg) -> asio::awaitable<Seen> {
    Seen seen;
    Producer producer(co_await asio::this_coro::executor, std::move(cfg));
    co_await producer.start();
    seen.first = co_await send_all(producer, topic, 0, numbered("u", 0, 3));
    // Two markers: a bump consumes one (the second stays unless the producer bumps twice).
    mock.push_broker_request_errors(1, init_pid_key, {{0, 0ms}, {0, 0ms}});
    mock.push_broker_request_errors(1, produce_key, {{code(kafka_errc::unknown_producer_id), 0ms}});
    seen.refused = co_await send_all(producer, topic, 0, numbered("u", 3, 5));
    seen.init_pid_left = mock.pending_errors(1, init_pid_key);
    seen.produce_left = mock.pending_errors(1, produce_key);
    seen.later = co_await send_all(producer, topic, 0, numbered("u", 8, 4));
    co_await producer.stop();
    co_return seen;
  };
  auto cfg = config_for(mock);
  cfg.max_in_flight_requests_per_connection = 1;  // order without the broker's sequence checks
  const Seen seen = run_async(body(cfg), 60s);
  EXPECT_EQ(seen.produce_left, 0u) << "the injected UNKNOWN_PRODUCER_ID was not met";
  EXPECT_EQ(seen.init_pid_left, 1u) << "expected exactly one InitProducerId (the epoch bump) after the error";
  expect_delivered_in_order(seen.first, 0, 0);
  expect_delivered_in_order(seen.refused, 0, 3);
  expect_delivered_in_order(seen.later, 0, 8);
  const Log log = read_back(mock.bootstrap(), topic, 0);
  EXPECT_EQ(log.high_watermark, 12);
  EXPECT_EQ(log.values, numbered("u", 0, 12));
}

TEST(ProducerMock, OutOfOrderForTheNextSequenceFailsThatBatchAndLaterSendsSucceed) {
  MockCluster mock(1);
  const std::string topic = "out-of-order";
  mock.set_api_versions(init_pid_key, 0, 2);  // see the file comment: a fresh id, not a bump
  mock.create_topic(topic, 1, 1);
  struct Seen {
    std::vector<Delivery> first, refused, later;
    std::size_t init_pid_left = 0;
  };
  auto body = [&](ProducerConfig cfg) -> asio::awaitable<Seen> {
    Seen seen;
    Producer producer(co_await asio::this_coro::executor, std::move(cfg));
    co_await producer.start();
    seen.first = co_await send_all(producer, topic, 0, numbered("o", 0, 2));
    mock.push_broker_request_errors(1, init_pid_key, {{0, 0ms}, {0, 0ms}});
    mock.push_broker_request_errors(1, produce_key, {{code(kafka_errc::out_of_order_sequence_number), 0ms}});
    // One record: the batch the broker refuses is the next expected sequence.
    std::vector<std::string> refused{"o-refused"};
    seen.refused = co_await send_all(producer, topic, 0, std::move(refused));
    seen.later = co_await send_all(producer, topic, 0, numbered("o", 2, 4));
    seen.init_pid_left = mock.pending_errors(1, init_pid_key);
    co_await producer.stop();
    co_return seen;
  };
  auto cfg = config_for(mock);
  cfg.max_in_flight_requests_per_connection = 1;  // order without the broker's sequence checks
  const Seen seen = run_async(body(cfg), 60s);
  expect_delivered_in_order(seen.first, 0, 0);
  ASSERT_EQ(seen.refused.size(), 1u);
  EXPECT_EQ(seen.refused[0].ec, kafka_errc::out_of_order_sequence_number) << seen.refused[0].message;
  EXPECT_EQ(seen.init_pid_left, 1u) << "expected exactly one InitProducerId (the epoch bump) after the error";
  expect_delivered_in_order(seen.later, 0, 2);
  const Log log = read_back(mock.bootstrap(), topic, 0);
  EXPECT_EQ(log.high_watermark, 6);
  EXPECT_EQ(log.values, numbered("o", 0, 6));
}

// --- Non-retriable errors -------------------------------------------------------------------

struct FatalCase {
  const char* name;
  kafka_errc error;
};

class ProducerMockNonRetriable : public ::testing::TestWithParam<FatalCase> {};

TEST_P(ProducerMockNonRetriable, FailsExactlyTheRecordsOfTheRefusedBatch) {
  // Two partitions on two brokers; only broker 1 (partition 0's leader) refuses. Records are
  // appended without suspending (fast path) within one linger, so each partition's records
  // form one batch: partition 0's all fail, partition 1's all land.
  MockCluster mock(2);
  const std::string topic = "refused";
  mock.set_api_versions(init_pid_key, 0, 2);  // see the file comment: a fresh id, not a bump
  mock.create_topic(topic, 2, 1);
  mock.set_partition_leader(topic, 0, 1);
  mock.set_partition_leader(topic, 1, 2);
  const auto error = code(GetParam().error);
  struct Seen {
    std::vector<Delivery> p0, p1, p0_later;
    std::size_t pending_after = 0;
  };
  auto body = [&](ProducerConfig cfg) -> asio::awaitable<Seen> {
    Seen seen;
    Producer producer(co_await asio::this_coro::executor, std::move(cfg));
    co_await producer.start();
    (void)co_await producer.partitions_for(topic);  // metadata known: sends take the fast path
    mock.push_broker_request_errors(1, produce_key, {{error, 0ms}});
    std::vector<DeliveryHandle> h0, h1;
    for (const auto& v : numbered("p0", 0, 5)) h0.push_back(co_await producer.send(topic, v, {.partition = 0}));
    for (const auto& v : numbered("p1", 0, 5)) h1.push_back(co_await producer.send(topic, v, {.partition = 1}));
    for (auto& h : h0) seen.p0.push_back(co_await settle(h));
    for (auto& h : h1) seen.p1.push_back(co_await settle(h));
    seen.pending_after = mock.pending_errors(1, produce_key);
    seen.p0_later = co_await send_all(producer, topic, 0, numbered("p0", 5, 3));
    co_await producer.stop();
    co_return seen;
  };
  auto cfg = config_for(mock);
  cfg.linger = 300ms;
  const Seen seen = run_async(body(cfg), 60s);
  EXPECT_EQ(seen.pending_after, 0u);
  for (const auto& d : seen.p0) {
    EXPECT_EQ(d.ec, GetParam().error) << d.ec.message() << " " << d.message;
    EXPECT_NE(d.message.find("refused"), std::string::npos) << d.message;
  }
  expect_delivered_in_order(seen.p1, 1, 0);
  expect_delivered_in_order(seen.p0_later, 0, 0);
  const Log log0 = read_back(mock.bootstrap(), topic, 0);
  EXPECT_EQ(log0.values, numbered("p0", 5, 3));
  const Log log1 = read_back(mock.bootstrap(), topic, 1);
  EXPECT_EQ(log1.values, numbered("p1", 0, 5));
}

INSTANTIATE_TEST_SUITE_P(Errors, ProducerMockNonRetriable,
                         ::testing::Values(FatalCase{"InvalidRecord", kafka_errc::invalid_record},
                                           FatalCase{"TopicAuthorizationFailed", kafka_errc::topic_authorization_failed}),
                         [](const auto& p) { return std::string(p.param.name); });

// --- Bounds ---------------------------------------------------------------------------------

TEST(ProducerMock, RetriableErrorPastTheDeliveryTimeoutFailsWithTimeoutNamingTheAttempts) {
  MockCluster mock(1);
  const std::string topic = "never";
  mock.create_topic(topic, 1, 1);
  struct Seen {
    Delivery d;
    steady::duration took{};
    std::vector<Delivery> after;
  };
  auto body = [&](ProducerConfig cfg) -> asio::awaitable<Seen> {
    Seen seen;
    Producer producer(co_await asio::this_coro::executor, std::move(cfg));
    co_await producer.start();
    // More errors than 1.5 s of 20 ms backoffs can use up.
    std::vector<std::pair<std::int16_t, std::chrono::milliseconds>> errors(
        300, {code(kafka_errc::not_enough_replicas), 0ms});
    mock.push_broker_request_errors(1, produce_key, errors);
    const auto start = steady::now();
    auto h = co_await producer.send(topic, "doomed", {.partition = 0});
    seen.d = co_await settle(h);
    seen.took = steady::now() - start;
    co_await producer.stop();
    co_return seen;
  };
  auto cfg = config_for(mock);
  cfg.request_timeout = 1000ms;
  cfg.delivery_timeout = 1500ms;
  const Seen seen = run_async(body(cfg), 30s);
  EXPECT_EQ(seen.d.ec, client_errc::timeout) << seen.d.message;
  EXPECT_NE(seen.d.message.find("attempt"), std::string::npos) << seen.d.message;
  EXPECT_NE(seen.d.message.find("delivery_timeout"), std::string::npos) << seen.d.message;
  EXPECT_NE(seen.d.message.find("NOT_ENOUGH_REPLICAS"), std::string::npos)
      << "the last error is not named: " << seen.d.message;
  EXPECT_GE(seen.took, 1300ms) << "gave up before delivery_timeout";
  EXPECT_LT(seen.took, 4s) << "delivery_timeout overrun";
  EXPECT_GT(mock.pending_errors(1, produce_key), 0u) << "fewer retries than expected: the test proves nothing";
  EXPECT_LT(mock.pending_errors(1, produce_key), 300u - 5u) << "hardly retried";
}

TEST(ProducerMock, AuthorizationFailureOnInitProducerIdFailsStart) {
  MockCluster mock(1);
  mock.create_topic("t", 1, 1);
  mock.push_broker_request_errors(1, init_pid_key, {{code(kafka_errc::cluster_authorization_failed), 0ms}});
  struct Seen {
    error_code start_ec, send_ec;
    std::string message;
    steady::duration took{};
  };
  auto body = [&](ProducerConfig cfg) -> asio::awaitable<Seen> {
    Seen seen;
    Producer producer(co_await asio::this_coro::executor, std::move(cfg));
    const auto start = steady::now();
    try {
      co_await producer.start();
    } catch (const asiokafka::error& e) {
      seen.start_ec = e.code();
      seen.message = e.what();
    }
    seen.took = steady::now() - start;
    const auto r = co_await producer.send("t", "v", {}, asio::as_tuple(asio::use_awaitable));
    seen.send_ec = std::get<0>(r);
    co_await producer.stop();
    co_return seen;
  };
  const Seen seen = run_async(body(config_for(mock)), 30s);
  EXPECT_EQ(seen.start_ec, kafka_errc::cluster_authorization_failed) << seen.message;
  EXPECT_NE(seen.message.find("producer id"), std::string::npos) << seen.message;
  EXPECT_LT(seen.took, 3s) << "a fatal InitProducerId error was retried";
  EXPECT_EQ(seen.send_ec, client_errc::client_closed);
  EXPECT_EQ(mock.pending_errors(1, init_pid_key), 0u);
}

TEST(ProducerMock, RetriableInitProducerIdErrorsAreRetriedByStart) {
  MockCluster mock(1);
  const std::string topic = "slow-pid";
  mock.create_topic(topic, 1, 1);
  mock.push_broker_request_errors(1, init_pid_key,
                                  {{code(kafka_errc::coordinator_load_in_progress), 0ms},
                                   {code(kafka_errc::not_enough_replicas), 0ms}});
  auto body = [&](ProducerConfig cfg) -> asio::awaitable<std::vector<Delivery>> {
    Producer producer(co_await asio::this_coro::executor, std::move(cfg));
    co_await producer.start();
    auto out = co_await send_all(producer, topic, 0, numbered("s", 0, 3));
    co_await producer.stop();
    co_return out;
  };
  const auto ds = run_async(body(config_for(mock)), 30s);
  EXPECT_EQ(mock.pending_errors(1, init_pid_key), 0u);
  expect_delivered_in_order(ds, 0, 0);
}

}  // namespace
}  // namespace asiokafka::test
