// aiokafka's seek and offsets_for_times: records stamped one second apart, then a consumer
// finds the first record at or after a time and starts there, jumps to the end and back to
// the beginning.
//
//   consumer_seek [bootstrap] [topic]
#include <chrono>
#include <cstdio>
#include <map>
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
  // An hour ago, in milliseconds since the epoch (records older than the topic's retention,
  // 7 days by default, are deleted by the broker).
  const std::int64_t start = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count() -
                             3'600'000;
  {
    asiokafka::Producer producer(executor, {.bootstrap_servers = bootstrap});
    co_await producer.start();
    for (int i = 0; i < 20; ++i) {
      (void)co_await producer.send(topic, "event-" + std::to_string(i), {.timestamp = start + i * 1000});
    }
    co_await producer.stop();
  }
  const asiokafka::TopicPartition tp(topic, 0);
  asiokafka::Consumer consumer(executor, {.bootstrap_servers = bootstrap});
  consumer.assign(std::vector<asiokafka::TopicPartition>{tp});
  co_await consumer.start();
  // The first record at or after start + 5.5 s.
  std::map<asiokafka::TopicPartition, std::int64_t> times;
  times[tp] = start + 5500;
  const auto found = co_await consumer.offsets_for_times(times);
  const auto& at = found.at(tp);
  std::printf("first record at or after +5.5 s: offset %lld\n", static_cast<long long>(at ? at->offset : -1));
  consumer.seek(tp, at->offset);
  const asiokafka::ConsumerRecord record = co_await consumer.getone();
  std::printf("read offset %lld: %s\n", static_cast<long long>(record.offset),
              std::string(record.value->as_string()).c_str());
  co_await consumer.seek_to_end();
  std::printf("after seek_to_end: position %lld\n", static_cast<long long>(co_await consumer.position(tp)));
  co_await consumer.seek_to_beginning();
  const asiokafka::ConsumerRecord first = co_await consumer.getone();
  std::printf("after seek_to_beginning: offset %lld\n", static_cast<long long>(first.offset));
  co_await consumer.stop();
}

int main(int argc, char** argv) {
  return examples::run(run(argc > 1 ? argv[1] : "127.0.0.1:9092", argc > 2 ? argv[2] : "example-seek"),
                       "consumer_seek");
}
