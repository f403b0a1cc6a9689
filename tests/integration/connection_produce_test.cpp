// acks=0 Produce through net::connection against the rig's broker: the send completes once
// written, with an empty response, and the next request on the same connection (ListOffsets,
// Fetch) sees the records, because a broker handles a connection's requests one at a time.
// Then a pipeline of acks=0 and acks=1 Produce requests (and Metadata) interleaved: every
// acks=1 answer carries the base offset of its own batch, so the multiplexer matched each
// response to its request although the acks=0 ones have none.
// (No structured bindings, and no class-type temporaries inside co_await: GCC 12 bugs.)
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/protocol/records.hpp"
#include "asiokafka/protocol/messages.hpp"
#include "net/connection.hpp"
#include "protocol/record_batch_builder.hpp"
#include "support/async.hpp"
#include "support/connection_helpers.hpp"
#include "support/rig.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
namespace msg = protocol::messages;
using namespace std::chrono_literals;
using asio::use_awaitable;
using net::connection;
using bytes = std::vector<std::uint8_t>;

std::string unique_name(const std::string& prefix) {
  return prefix + "-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
}

/// Creates a one-partition topic and waits (bounded) until its leader is known.
asio::awaitable<std::int64_t> latest_offset(connection& conn, const std::string& topic);

asio::awaitable<std::string> create_topic(connection& conn, const std::string& name) {
  msg::CreateTopicsRequest request;
  msg::CreateTopicsRequest::CreatableTopic topic;
  topic.name = name;
  topic.num_partitions = 1;
  topic.replication_factor = 1;
  request.topics.push_back(topic);
  request.timeout_ms = 30000;
  const auto created = co_await conn.send(request);
  if (!created) co_return "CreateTopics failed: " + failure_text(created.error());
  if (created.value()->topics.size() != 1 || created.value()->topics[0].error_code != 0) co_return "CreateTopics failed";
  msg::MetadataRequest md_request;
  md_request.topics.emplace();
  msg::MetadataRequest::MetadataRequestTopic t;
  t.name = name;
  md_request.topics->push_back(t);
  for (int attempt = 0; attempt < 100; ++attempt) {
    const auto answer = co_await conn.send(md_request);
    if (!answer) co_return "Metadata failed: " + failure_text(answer.error());
    const msg::MetadataResponse& md = answer.value().message;
    if (md.topics.size() == 1 && md.topics[0].error_code == 0 && md.topics[0].partitions.size() == 1 &&
        md.topics[0].partitions[0].leader_id >= 0) {
      break;
    }
    if (attempt == 99) co_return "no leader for " + name;
    co_await pause(100ms);
  }
  // The metadata cache may name the leader before its replica manager leads the partition; an
  // acks=0 Produce then gets NOT_LEADER, which the broker can only answer by closing the
  // connection. ListOffsets is refused the same way until the partition is led: wait for it.
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (co_await latest_offset(conn, name) >= 0) co_return "";
    co_await pause(100ms);
  }
  co_return "the leader of " + name + " never answered ListOffsets";
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// A batch of `count` records whose values are "<tag>-<i>".
bytes make_batch(const std::string& tag, int count) {
  protocol::record_batch_builder builder;
  builder.reset({});
  for (int i = 0; i < count; ++i) {
    const std::string value = tag + "-" + std::to_string(i);
    const protocol::byte_view v(reinterpret_cast<const std::uint8_t*>(value.data()), value.size());
    builder.append(now_ms(), std::nullopt, v);
  }
  EXPECT_FALSE(builder.finish());
  return bytes(builder.data().begin(), builder.data().end());
}

msg::ProduceRequest produce_request(const std::string& topic, const bytes& batch, std::int16_t acks) {
  msg::ProduceRequest request;
  request.acks = acks;
  request.timeout_ms = 10000;
  msg::ProduceRequest::PartitionProduceData p;
  p.index = 0;
  p.records = msg::RecordsView{std::span<const std::uint8_t>(batch)};
  msg::ProduceRequest::TopicProduceData t;
  t.name = topic;
  t.partition_data.push_back(p);
  request.topic_data.push_back(t);
  return request;
}

asio::awaitable<std::int64_t> latest_offset(connection& conn, const std::string& topic) {
  msg::ListOffsetsRequest request;
  request.replica_id = -1;
  msg::ListOffsetsRequest::ListOffsetsTopic t;
  t.name = topic;
  msg::ListOffsetsRequest::ListOffsetsPartition p;
  p.partition_index = 0;
  p.timestamp = -1;  // latest
  t.partitions.push_back(p);
  request.topics.push_back(t);
  const auto answer = co_await conn.send(request);
  if (!answer) co_return -1;
  const msg::ListOffsetsResponse& r = answer.value().message;
  if (r.topics.size() != 1 || r.topics[0].partitions.size() != 1 || r.topics[0].partitions[0].error_code != 0) {
    co_return -1;
  }
  co_return r.topics[0].partitions[0].offset;
}

/// The values of every record from offset 0 (one Fetch, at most v12: topic names).
asio::awaitable<std::vector<std::string>> fetch_values(connection& conn, const std::string& topic) {
  msg::FetchRequest fetch;
  fetch.max_wait_ms = 0;
  fetch.min_bytes = 1;
  msg::FetchRequest::FetchTopic ft;
  ft.topic = topic;
  msg::FetchRequest::FetchPartition fp;
  fp.partition = 0;
  fp.fetch_offset = 0;
  fp.partition_max_bytes = 8 << 20;
  ft.partitions.push_back(fp);
  fetch.topics.push_back(ft);
  // The type-erased form: it takes a version range, and the answer stays in `typed`.
  net::typed_request<msg::FetchRequest> typed(fetch, msg::FetchRequest::min_version, 12);
  std::vector<std::string> values;
  if (net::failure f = co_await conn.send(typed)) co_return values;
  const msg::FetchResponse& r = typed.message();
  if (r.responses.size() != 1 || r.responses[0].partitions.size() != 1) co_return values;
  protocol::RecordsReader reader(r.responses[0].partitions[0].records.bytes());
  while (reader.next_batch()) {
    protocol::Record rec;
    while (reader.next_record(rec)) {
      values.emplace_back(rec.value ? std::string(reinterpret_cast<const char*>(rec.value->data()), rec.value->size())
                                    : std::string("<null>"));
    }
  }
  co_return values;
}

asio::awaitable<std::string> acks_zero_then_read(HostPort target) {
  auto ex = co_await asio::this_coro::executor;
  const net::connection_options options;
  auto connected = co_await net::connect(ex, target.host, target.port, options);
  connection conn = unwrap(std::move(connected));
  const std::string topic = unique_name("conn-acks0");
  std::string log = co_await create_topic(conn, topic);
  if (!log.empty()) co_return log;

  const bytes batch = make_batch("zero", 5);
  const msg::ProduceRequest request = produce_request(topic, batch, 0);
  const auto written = co_await conn.send(request);
  if (!written) co_return log + "acks=0 send failed: " + failure_text(written.error());
  if (!written.value().storage.empty()) log += "acks=0 send returned a body; ";
  if (written.value()->responses.size() != 0) log += "acks=0 send returned a decoded response; ";
  if (conn.pending() != 0) log += "requests pending after the acks=0 send; ";
  const std::int64_t end = co_await latest_offset(conn, topic);
  if (end != 5) log += "ListOffsets after acks=0 says " + std::to_string(end) + ", not 5; ";
  const auto values = co_await fetch_values(conn, topic);
  const std::vector<std::string> expected{"zero-0", "zero-1", "zero-2", "zero-3", "zero-4"};
  if (values != expected) log += "Fetch after acks=0 saw " + std::to_string(values.size()) + " records; ";
  if (!conn.is_open()) log += "connection closed; ";
  co_await conn.close();
  co_return log;
}

TEST(ConnectionProduce, AcksZeroCompletesWhenWrittenAndTheNextRequestSeesTheRecords) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  EXPECT_EQ(run_async(acks_zero_then_read(split_host_port(rig.node(1).listener("PLAINTEXT"))), 60s), "");
}

struct Step {
  bool done = false;
  bool failed = false;
  std::string error;
  std::int64_t base_offset = -2;  // acks=1 only
  std::int16_t partition_error = -1;
  std::size_t body_bytes = 0;
};

asio::awaitable<std::string> interleaved_pipeline(HostPort target) {
  auto ex = co_await asio::this_coro::executor;
  const net::connection_options options;
  auto connected = co_await net::connect(ex, target.host, target.port, options);
  connection conn = unwrap(std::move(connected));
  const std::string topic = unique_name("conn-acks-mix");
  std::string log = co_await create_topic(conn, topic);
  if (!log.empty()) co_return log;

  // 60 requests issued at once: Produce i (3 records each) with acks = 0 when i % 3 == 1,
  // else acks=1; every 10th request is a Metadata in between.
  constexpr int n = 60;
  constexpr int per_batch = 3;
  std::vector<bytes> batches;
  for (int i = 0; i < n; ++i) batches.push_back(make_batch("b" + std::to_string(i), per_batch));
  std::vector<Step> steps(n);
  std::vector<int> kind(n);  // 0 acks=1, 1 acks=0, 2 metadata
  int remaining = n;
  asio::steady_timer all_done(ex, std::chrono::steady_clock::time_point::max());
  auto finish = [&](int i, const net::failure& f) {
    steps[static_cast<std::size_t>(i)].done = true;
    if (f) {
      steps[static_cast<std::size_t>(i)].failed = true;
      steps[static_cast<std::size_t>(i)].error = failure_text(f);
    }
    if (--remaining == 0) all_done.cancel();
  };
  for (int i = 0; i < n; ++i) {
    const auto idx = static_cast<std::size_t>(i);
    if (i % 10 == 9) {
      kind[idx] = 2;
      const msg::MetadataRequest md{};
      spawn_await(ex, conn.send(md), [&, i](net::outcome<response<msg::MetadataResponse>> r) {
        if (r && !r.value()->cluster_id) steps[static_cast<std::size_t>(i)].error = "Metadata without cluster id";
        finish(i, r ? net::failure{} : r.error());
      });
      continue;
    }
    kind[idx] = i % 3 == 1 ? 1 : 0;
    const msg::ProduceRequest request = produce_request(topic, batches[idx], kind[idx] == 1 ? std::int16_t{0} : std::int16_t{1});
    spawn_await(ex, conn.send(request), [&, i](net::outcome<response<msg::ProduceResponse>> r) {
      auto& s = steps[static_cast<std::size_t>(i)];
      if (r) {
        const msg::ProduceResponse& p = r.value().message;
        s.body_bytes = r.value().storage.size();
        if (p.responses.size() == 1 && p.responses[0].partition_responses.size() == 1) {
          s.base_offset = p.responses[0].partition_responses[0].base_offset;
          s.partition_error = p.responses[0].partition_responses[0].error_code;
        }
      }
      finish(i, r ? net::failure{} : r.error());
    });
  }
  all_done.expires_after(60s);
  boost::system::error_code ignored;
  co_await all_done.async_wait(asio::redirect_error(use_awaitable, ignored));
  if (remaining != 0) {
    const int stuck = remaining;
    co_await conn.close();  // fails them; their handlers use this frame, so wait for them
    all_done.expires_after(10s);
    co_await all_done.async_wait(asio::redirect_error(use_awaitable, ignored));
    co_return "requests did not complete: " + std::to_string(stuck);
  }

  // Produce requests are applied in the order written, so batch i starts at
  // per_batch * (number of Produce requests before it).
  std::int64_t expected_base = 0;
  int produces = 0;
  for (int i = 0; i < n; ++i) {
    const auto idx = static_cast<std::size_t>(i);
    const Step& s = steps[idx];
    const std::string at = "request " + std::to_string(i) + ": ";
    if (s.failed || !s.error.empty()) log += at + s.error + "; ";
    if (kind[idx] == 2) continue;
    ++produces;
    if (kind[idx] == 1) {
      if (s.body_bytes != 0) log += at + "acks=0 has a body; ";
    } else {
      if (s.partition_error != 0) log += at + "error " + std::to_string(s.partition_error) + "; ";
      if (s.base_offset != expected_base) {
        log += at + "base offset " + std::to_string(s.base_offset) + ", expected " + std::to_string(expected_base) + "; ";
      }
    }
    expected_base += per_batch;
  }
  const std::int64_t end = co_await latest_offset(conn, topic);
  if (end != std::int64_t{produces} * per_batch) log += "end offset " + std::to_string(end) + "; ";
  const auto values = co_await fetch_values(conn, topic);
  if (values.size() != static_cast<std::size_t>(produces * per_batch)) {
    log += "fetched " + std::to_string(values.size()) + " records; ";
  } else if (values.front() != "b0-0" || values.back() != "b58-2") {
    log += "fetched records out of order: " + values.front() + " .. " + values.back() + "; ";
  }
  if (conn.pending() != 0) log += "requests left pending; ";
  co_await conn.close();
  co_return log;
}

TEST(ConnectionProduce, InterleavedAcksZeroAndAcksOnePipelineKeepsCorrelation) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  EXPECT_EQ(run_async(interleaved_pipeline(split_host_port(rig.node(1).listener("PLAINTEXT"))), 120s), "");
}

}  // namespace
}  // namespace asiokafka::test
