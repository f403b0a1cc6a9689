// asiokafka::Consumer against a FakeBroker that keeps a one-partition log with leader epochs
// and answers Fetch the way Kafka's leader does for a fetch carrying last_fetched_epoch
// (KIP-320/KIP-595: the epoch's end offset from the leader epoch cache, a diverging epoch when
// the consumer's epoch or position is beyond it). What a real single broker cannot be made to
// do on demand: truncate its log below a consumer's position, or be asked with an epoch it
// never had.
#include "asiokafka/consumer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/this_coro.hpp>

#include "asiokafka/kafka_error.hpp"
#include "asiokafka/protocol/messages.hpp"
#include "protocol/record_batch_builder.hpp"
#include "support/async.hpp"
#include "support/fake_broker.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
namespace msg = protocol::messages;
using namespace std::chrono_literals;

const std::string topic = "fake-log";

struct LogRecord {
  std::int64_t offset = 0;
  std::int32_t epoch = 0;
  std::string value;
};

// What one Fetch asked for, as the broker read it.
struct Asked {
  std::int64_t fetch_offset = -1;
  std::int32_t last_fetched_epoch = -1;
};

// One broker (node 0) leading partition 0 of `topic`.
struct Broker {
  explicit Broker(asio::any_io_executor ex) : fake(std::move(ex)) {
    fake.on_request([this](FakeSession& s, const FakeRequest& r) { handle(s, r); });
  }

  std::string bootstrap() const { return fake.host() + ":" + std::to_string(fake.port()); }

  void append(std::int32_t epoch, const std::string& value) {
    log.push_back({end_offset(), epoch, value});
    leader_epoch = std::max(leader_epoch, epoch);
  }
  std::int64_t end_offset() const { return log.empty() ? 0 : log.back().offset + 1; }
  // Drops every record from `offset` on (an unclean leader election lost them).
  void truncate_to(std::int64_t offset) {
    while (!log.empty() && log.back().offset >= offset) log.pop_back();
  }

  // Kafka's leader epoch cache lookup: the largest epoch <= `epoch` that the log has and the
  // offset where the next epoch starts (the log end for the latest); (-1, -1) for an epoch
  // newer than any.
  std::pair<std::int32_t, std::int64_t> end_offset_for(std::int32_t epoch) const {
    std::vector<std::pair<std::int32_t, std::int64_t>> starts;  // (epoch, start offset)
    for (const auto& r : log) {
      if (starts.empty() || starts.back().first != r.epoch) starts.emplace_back(r.epoch, r.offset);
    }
    if (starts.empty() || starts.back().first != leader_epoch) starts.emplace_back(leader_epoch, end_offset());
    if (epoch == starts.back().first) return {epoch, end_offset()};
    std::optional<std::pair<std::int32_t, std::int64_t>> floor;
    for (const auto& s : starts) {
      if (s.first > epoch) return {floor ? floor->first : epoch, s.second};
      floor = s;
    }
    return {-1, -1};
  }

  void handle(FakeSession& s, const FakeRequest& r) {
    if (r.api_key == msg::ApiVersionsRequest::api_key) return s.answer_api_versions(r);
    if (r.api_key == msg::MetadataRequest::api_key) return metadata(s, r);
    if (r.api_key == msg::ListOffsetsRequest::api_key) return list_offsets(s, r);
    if (r.api_key == msg::FetchRequest::api_key) return fetch(s, r);
  }

  void metadata(FakeSession& s, const FakeRequest& r) {
    s.answer_single_broker_metadata(r, fake.port(), topic, 1, leader_epoch);
  }

  void list_offsets(FakeSession& s, const FakeRequest& r) {
    msg::ListOffsetsRequest req;
    ASSERT_FALSE(req.decode(r.body, r.api_version));
    msg::ListOffsetsResponse resp;
    for (const auto& t : req.topics) {
      auto& rt = resp.topics.emplace_back();
      rt.name = t.name;
      for (const auto& p : t.partitions) {
        auto& rp = rt.partitions.emplace_back();
        rp.partition_index = p.partition_index;
        rp.offset = p.timestamp == -2 ? 0 : end_offset();
        rp.leader_epoch = earliest_epoch_answer;
      }
    }
    s.respond(r, resp);
  }

  void fetch(FakeSession& s, const FakeRequest& r) {
    msg::FetchRequest req;
    ASSERT_FALSE(req.decode(r.body, r.api_version));
    msg::FetchResponse resp;
    resp.session_id = 0;  // no sessions: every request lists the partition
    bool has_data = false;
    std::vector<std::uint8_t> records;
    for (const auto& t : req.topics) {
      for (const auto& p : t.partitions) {
        asked.push_back({p.fetch_offset, p.last_fetched_epoch});
        auto& rt = resp.responses.emplace_back();
        rt.topic = t.topic;
        auto& rp = rt.partitions.emplace_back();
        rp.partition_index = p.partition;
        rp.high_watermark = end_offset();
        rp.last_stable_offset = end_offset();
        rp.log_start_offset = 0;
        if (p.last_fetched_epoch >= 0) {
          const auto [epoch, end] = end_offset_for(p.last_fetched_epoch);
          if (end < 0) {
            rp.error_code = static_cast<std::int16_t>(kafka_errc::offset_out_of_range);
            continue;
          }
          if (epoch < p.last_fetched_epoch || end < p.fetch_offset) {
            rp.diverging_epoch.epoch = epoch;
            rp.diverging_epoch.end_offset = end;
            ++diverging_answers;
            has_data = true;  // answered at once
            continue;
          }
        }
        records = batches_from(p.fetch_offset);
        has_data = has_data || !records.empty();
        rp.records.data = std::span<const std::uint8_t>(records);
      }
    }
    if (has_data) return s.respond(r, resp);
    // Nothing new: a long poll, answered (empty) after the wait as a broker would.
    s.later(std::chrono::milliseconds(std::min(req.max_wait_ms, 100)), [resp, r](FakeSession& later) {
      later.respond(r, resp);
    });
  }

  // The log from `from` on as one batch per run of records of the same epoch.
  std::vector<std::uint8_t> batches_from(std::int64_t from) const {
    std::vector<std::uint8_t> out;
    std::size_t i = 0;
    while (i < log.size() && log[i].offset < from) ++i;
    while (i < log.size()) {
      protocol::batch_options o;
      o.base_offset = log[i].offset;
      o.partition_leader_epoch = log[i].epoch;
      protocol::record_batch_builder b;
      b.reset(o);
      const std::int32_t epoch = log[i].epoch;
      for (; i < log.size() && log[i].epoch == epoch; ++i) {
        const auto& v = log[i].value;
        b.append(1000 + log[i].offset, std::nullopt,
                 protocol::byte_view(reinterpret_cast<const std::uint8_t*>(v.data()), v.size()), {});
      }
      EXPECT_FALSE(b.finish());
      out.insert(out.end(), b.data().begin(), b.data().end());
    }
    return out;
  }

  FakeBroker fake;
  std::vector<LogRecord> log;
  std::int32_t leader_epoch = 0;
  std::int32_t earliest_epoch_answer = 0;  ///< the leader epoch ListOffsets gives with an offset
  std::vector<Asked> asked;
  int diverging_answers = 0;
};

ConsumerConfig config_for(const Broker& b) {
  ConsumerConfig c;
  c.bootstrap_servers = b.bootstrap();
  c.auto_offset_reset = AutoOffsetReset::earliest;
  c.enable_auto_commit = false;
  c.retry_backoff = 20ms;
  c.fetch_max_wait = 100ms;
  return c;
}

// Offsets 0-9 written in epoch 0 ("a<offset>"), 10-19 in epoch 2 ("b<offset>").
void two_epochs(Broker& broker) {
  for (int i = 0; i < 10; ++i) broker.append(0, "a" + std::to_string(i));
  for (int i = 10; i < 20; ++i) broker.append(2, "b" + std::to_string(i));
}

// Assigns the fake broker's one partition (returned).
std::vector<TopicPartition> assign_partition(Consumer& consumer) {
  std::vector<TopicPartition> tps;
  tps.emplace_back(topic, 0);
  consumer.assign(tps);
  return tps;
}

// Reads (offset, value) pairs until `n` came or 10 s passed.
asio::awaitable<std::vector<std::pair<std::int64_t, std::string>>> read(Consumer& c, std::size_t n) {
  std::vector<std::pair<std::int64_t, std::string>> got;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (got.size() < n && std::chrono::steady_clock::now() < deadline) {
    RecordBatches batch = co_await c.getmany({.timeout = 200ms});
    for (auto& entry : batch) {
      for (auto& rec : entry.second) got.emplace_back(rec.offset, std::string(rec.value->as_string()));
    }
  }
  co_return got;
}

// A start position whose epoch the leader never had (a committed offset or a ListOffsets
// answer may carry one): the leader answers with the diverging epoch below it and an end
// offset beyond the position. The consumer goes on with the leader's epoch instead of asking
// the same question forever.
TEST(ConsumerFakeBroker, AnEpochTheLeaderNeverHadIsReplacedByTheLeadersAndReadingGoesOn) {
  auto body = []() -> asio::awaitable<bool> {
    const auto ex = co_await asio::this_coro::executor;
    Broker broker(ex);
    two_epochs(broker);
    broker.earliest_epoch_answer = 1;  // offset 0 "in epoch 1": no such epoch in the log
    Consumer consumer(ex, config_for(broker));
    const std::vector<TopicPartition> tps = assign_partition(consumer);
    co_await consumer.start();
    const auto got = co_await read(consumer, 20);
    co_await consumer.stop();
    EXPECT_EQ(got.size(), 20u);
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].first, static_cast<std::int64_t>(i));
    EXPECT_GE(broker.diverging_answers, 1);
    // The first fetch carried the bogus epoch; the next one the leader's answer (epoch 0).
    EXPECT_GE(broker.asked.size(), 2u);
    if (broker.asked.size() >= 2) {
      EXPECT_EQ(broker.asked[0].fetch_offset, 0);
      EXPECT_EQ(broker.asked[0].last_fetched_epoch, 1);
      EXPECT_EQ(broker.asked[1].fetch_offset, 0);
      EXPECT_EQ(broker.asked[1].last_fetched_epoch, 0);
    }
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 30s));
}

// KIP-320: after the consumer read up to offset 20 in epoch 2, the log is truncated to 15 and
// a new leader (epoch 3) writes other records from 15 on. The consumer's next fetch (20,
// epoch 2) gets a diverging epoch (2 ends at 15): it goes back to 15 and reads the new
// records, skipping nothing written since.
TEST(ConsumerFakeBroker, ATruncatedLogSendsTheConsumerBackToWhereTheLogsAgree) {
  auto body = []() -> asio::awaitable<bool> {
    const auto ex = co_await asio::this_coro::executor;
    Broker broker(ex);
    two_epochs(broker);
    Consumer consumer(ex, config_for(broker));
    const std::vector<TopicPartition> tps = assign_partition(consumer);
    co_await consumer.start();
    const auto first = co_await read(consumer, 20);
    EXPECT_EQ(first.size(), 20u);
    broker.truncate_to(15);
    for (int i = 15; i < 25; ++i) broker.append(3, "c" + std::to_string(i));
    const auto second = co_await read(consumer, 10);
    const std::int64_t position = co_await consumer.position(tps.front());
    co_await consumer.stop();
    EXPECT_EQ(second.size(), 10u);
    for (std::size_t i = 0; i < second.size(); ++i) {
      EXPECT_EQ(second[i].first, static_cast<std::int64_t>(15 + i));
      EXPECT_EQ(second[i].second, "c" + std::to_string(15 + i));
    }
    EXPECT_EQ(position, 25);
    EXPECT_GE(broker.diverging_answers, 1);
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 30s));
}

}  // namespace
}  // namespace asiokafka::test
