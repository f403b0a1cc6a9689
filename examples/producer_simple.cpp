// aiokafka's "simple producer": send one record and wait for its acknowledgement.
//
//   producer_simple [bootstrap] [topic]
#include <cstdio>
#include <string>

#include <boost/asio/this_coro.hpp>

#include "asiokafka/producer.hpp"
#include "common.hpp"

namespace asio = boost::asio;

asio::awaitable<void> run(std::string bootstrap, std::string topic) {
  co_await examples::ensure_topic(bootstrap, topic, 1);
  const auto executor = co_await asio::this_coro::executor;
  asiokafka::Producer producer(executor, {.bootstrap_servers = bootstrap});
  co_await producer.start();
  // send() returns once the record is in a batch; the handle completes on the broker's ack.
  asiokafka::DeliveryHandle handle = co_await producer.send(topic, "Super message", {.key = "a-key"});
  const asiokafka::RecordMetadata md = co_await handle.async_wait();
  std::printf("sent to %s partition %d offset %lld\n", md.topic.c_str(), md.partition,
              static_cast<long long>(md.offset));
  co_await producer.stop();
}

int main(int argc, char** argv) {
  return examples::run(run(argc > 1 ? argv[1] : "127.0.0.1:9092", argc > 2 ? argv[2] : "example-simple"),
                       "producer_simple");
}
