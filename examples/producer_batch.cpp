// aiokafka's batch producer: fill a batch with create_batch()/append() until it is full, then
// send it to a partition chosen at random with send_batch().
//
//   producer_batch [bootstrap] [topic]
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <boost/asio/this_coro.hpp>

#include "asiokafka/producer.hpp"
#include "common.hpp"

namespace asio = boost::asio;

asio::awaitable<void> run(std::string bootstrap, std::string topic) {
  co_await examples::ensure_topic(bootstrap, topic, 3);
  const auto executor = co_await asio::this_coro::executor;
  asiokafka::Producer producer(executor, {.bootstrap_servers = bootstrap});
  co_await producer.start();
  asiokafka::BatchBuilder batch = producer.create_batch();
  int appended = 0;
  for (int i = 0; i < 100; ++i) {
    const std::string value = "batched message " + std::to_string(i);
    if (!batch.append(std::nullopt, value)) break;  // full: the rest would go in another batch
    ++appended;
  }
  const std::vector<std::int32_t> partitions = co_await producer.partitions_for(topic);
  std::mt19937 rng(std::random_device{}());
  const std::int32_t partition = partitions[rng() % partitions.size()];
  asiokafka::DeliveryHandle handle = co_await producer.send_batch(std::move(batch), topic, partition);
  const auto md = co_await handle.async_wait();
  std::printf("%d messages sent to partition %d, base offset %lld\n", appended, md.partition,
              static_cast<long long>(md.offset));
  co_await producer.stop();
}

int main(int argc, char** argv) {
  return examples::run(run(argc > 1 ? argv[1] : "127.0.0.1:9092", argc > 2 ? argv[2] : "example-batch"),
                       "producer_batch");
}
