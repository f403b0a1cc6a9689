// aiokafka's custom partitioner: records whose key starts with "vip" go to partition 0, the
// others are spread over the remaining available partitions.
//
//   producer_partitioner [bootstrap] [topic]
#include <cstdio>
#include <span>
#include <string>
#include <string_view>

#include <boost/asio/this_coro.hpp>

#include "asiokafka/producer.hpp"
#include "common.hpp"

namespace asio = boost::asio;

std::int32_t vip_first(std::string_view /*topic*/, std::optional<asiokafka::protocol::byte_view> key,
                       std::span<const std::int32_t> all, std::span<const std::int32_t> available) {
  const std::string_view k = key ? std::string_view(reinterpret_cast<const char*>(key->data()), key->size()) : "";
  if (k.starts_with("vip") || all.size() < 2) return all.front();
  // Any available partition but the first; the key's length spreads them.
  std::int32_t pick = all[1 + k.size() % (all.size() - 1)];
  for (const std::int32_t p : available) {
    if (p == pick) return pick;
  }
  return all.back();
}

asio::awaitable<void> run(std::string bootstrap, std::string topic) {
  co_await examples::ensure_topic(bootstrap, topic, 3);
  const auto executor = co_await asio::this_coro::executor;
  asiokafka::Producer producer(executor, {.bootstrap_servers = bootstrap, .partitioner = vip_first});
  co_await producer.start();
  for (const char* key : {"vip-alice", "bob", "vip-carol", "dave-long-name"}) {
    const auto md = co_await producer.send_and_wait(topic, "order", {.key = key});
    std::printf("%s -> partition %d\n", key, md.partition);
  }
  co_await producer.stop();
}

int main(int argc, char** argv) {
  return examples::run(run(argc > 1 ? argv[1] : "127.0.0.1:9092", argc > 2 ? argv[2] : "example-partitioner"),
                       "producer_partitioner");
}
