// aiokafka's "consumption flow control": getmany() normally serves every assigned partition;
// when some partitions lag behind (by position or by time), only those are read until they
// catch up. Here partition 1 starts 500 records behind partition 0's 5.
//
//   consumer_flow_control [bootstrap] [topic]
#include <chrono>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/this_coro.hpp>

#include "asiokafka/consumer.hpp"
#include "asiokafka/producer.hpp"
#include "common.hpp"

namespace asio = boost::asio;

constexpr std::int64_t position_threshold = 100;  // records behind
constexpr std::int64_t time_threshold_ms = 60'000;

asio::awaitable<void> run(std::string bootstrap, std::string topic) {
  co_await examples::ensure_topic(bootstrap, topic, 2);
  const auto executor = co_await asio::this_coro::executor;
  {
    asiokafka::Producer producer(executor, {.bootstrap_servers = bootstrap});
    co_await producer.start();
    for (int i = 0; i < 5; ++i) (void)co_await producer.send(topic, "p0-" + std::to_string(i), {.partition = 0});
    for (int i = 0; i < 500; ++i) (void)co_await producer.send(topic, "p1-" + std::to_string(i), {.partition = 1});
    co_await producer.stop();
  }
  asiokafka::Consumer consumer(executor, {.bootstrap_servers = bootstrap,
                                          .max_partition_fetch_bytes = 2048,  // small fetches: lag stays visible
                                          .auto_offset_reset = asiokafka::AutoOffsetReset::earliest});
  consumer.assign(std::vector<asiokafka::TopicPartition>{asiokafka::TopicPartition(topic, 0),
                                                         asiokafka::TopicPartition(topic, 1)});
  co_await consumer.start();
  std::vector<asiokafka::TopicPartition> priority;  // empty: every partition
  int total = 0;
  int prioritised_rounds = 0;
  for (int round = 0; round < 500 && total < 505; ++round) {
    const asiokafka::RecordBatches batches =
        co_await consumer.getmany({.partitions = priority, .timeout = std::chrono::milliseconds(500)});
    for (const auto& batch : batches) total += static_cast<int>(batch.second.size());  // "process"
    if (!priority.empty()) ++prioritised_rounds;
    // Prioritise the partitions that lag behind.
    priority.clear();
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
    for (const auto& tp : consumer.assignment()) {
      const auto highwater = consumer.highwater(tp);
      const auto polled = consumer.last_poll_timestamp(tp);
      if (!highwater || !polled) continue;  // not fetched yet
      const std::int64_t position_lag = *highwater - co_await consumer.position(tp);
      const std::int64_t time_lag = now_ms - *polled;
      if (position_lag > position_threshold || time_lag > time_threshold_ms) priority.push_back(tp);
    }
  }
  std::printf("consumed %d records; %s\n", total,
              prioritised_rounds > 0 ? "lagging partitions were read first" : "no partition lagged");
  co_await consumer.stop();
}

int main(int argc, char** argv) {
  return examples::run(run(argc > 1 ? argv[1] : "127.0.0.1:9092", argc > 2 ? argv[2] : "example-flow-control"),
                       "consumer_flow_control");
}
