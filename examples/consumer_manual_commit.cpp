// aiokafka's "manual commit" consumer: records are processed in batches and the offsets are
// committed only after a batch is processed, so a crash re-delivers at most one batch (at
// least once). A second consumer of the same group then resumes where the first committed.
//
//   consumer_manual_commit [bootstrap] [topic]
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <boost/asio/this_coro.hpp>

#include "asiokafka/consumer.hpp"
#include "asiokafka/producer.hpp"
#include "common.hpp"

namespace asio = boost::asio;

asio::awaitable<void> run(std::string bootstrap, std::string topic) {
  co_await examples::ensure_topic(bootstrap, topic, 1);
  const auto executor = co_await asio::this_coro::executor;
  {
    asiokafka::Producer producer(executor, {.bootstrap_servers = bootstrap});
    co_await producer.start();
    for (int i = 0; i < 40; ++i) (void)co_await producer.send(topic, "job-" + std::to_string(i));
    co_await producer.stop();
  }
  const std::string group = topic + "-workers";
  const std::vector<asiokafka::TopicPartition> partitions{asiokafka::TopicPartition(topic, 0)};
  {
    asiokafka::Consumer consumer(executor, {.bootstrap_servers = bootstrap, .group_id = group,
                                            .auto_offset_reset = asiokafka::AutoOffsetReset::earliest,
                                            .enable_auto_commit = false});
    consumer.assign(partitions);
    co_await consumer.start();
    int processed = 0;
    while (processed < 30) {
      const auto room = static_cast<std::size_t>(std::min(10, 30 - processed));  // batches of up to 10
      const asiokafka::RecordBatches batches = co_await consumer.getmany({.timeout = std::chrono::seconds(1),
                                                                          .max_records = room});
      for (const auto& batch : batches) processed += static_cast<int>(batch.second.size());  // "process"
      co_await consumer.commit();  // the consumed positions, after processing
      const auto committed = co_await consumer.committed(partitions[0]);
      if (committed) std::printf("committed offset %lld\n", static_cast<long long>(committed->offset));
    }
    co_await consumer.stop();
  }
  // Another worker of the group starts at the committed offset.
  asiokafka::Consumer next(executor, {.bootstrap_servers = bootstrap, .group_id = group, .enable_auto_commit = false});
  next.assign(partitions);
  co_await next.start();
  const asiokafka::ConsumerRecord record = co_await next.getone();
  std::printf("resumed at offset %lld: %s\n", static_cast<long long>(record.offset),
              std::string(record.value->as_string()).c_str());
  co_await next.stop();
}

int main(int argc, char** argv) {
  return examples::run(run(argc > 1 ? argv[1] : "127.0.0.1:9092", argc > 2 ? argv[2] : "example-manual-commit"),
                       "consumer_manual_commit");
}
