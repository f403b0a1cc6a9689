// aiokafka's send_and_wait: each record waits for its acknowledgement before the next
// (simple, one round trip per record), then a burst sent first and awaited after (batched).
//
//   producer_send_and_wait [bootstrap] [topic]
#include <cstdio>
#include <string>
#include <vector>

#include <boost/asio/this_coro.hpp>

#include "asiokafka/producer.hpp"
#include "common.hpp"

namespace asio = boost::asio;

asio::awaitable<void> run(std::string bootstrap, std::string topic) {
  co_await examples::ensure_topic(bootstrap, topic, 1);
  const auto executor = co_await asio::this_coro::executor;
  asiokafka::Producer producer(executor, {.bootstrap_servers = bootstrap});
  co_await producer.start();
  for (int i = 0; i < 3; ++i) {
    const auto md = co_await producer.send_and_wait(topic, "one at a time " + std::to_string(i));
    std::printf("acknowledged offset %lld\n", static_cast<long long>(md.offset));
  }
  std::vector<asiokafka::DeliveryHandle> handles;
  for (int i = 0; i < 100; ++i) handles.push_back(co_await producer.send(topic, "batched " + std::to_string(i)));
  long long last = -1;
  for (auto& h : handles) last = (co_await h.async_wait()).offset;
  std::printf("100 batched records acknowledged, last offset %lld\n", last);
  co_await producer.stop();
}

int main(int argc, char** argv) {
  return examples::run(run(argc > 1 ? argv[1] : "127.0.0.1:9092", argc > 2 ? argv[2] : "example-send-and-wait"),
                       "producer_send_and_wait");
}
