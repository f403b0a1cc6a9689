#include "support/numbered_records.hpp"

#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/this_coro.hpp>

#include "asiokafka/producer.hpp"
#include "support/async.hpp"

namespace asiokafka::test {

namespace {

boost::asio::awaitable<bool> write_numbered(std::string bootstrap, std::string topic, int first, int n, int partition) {
  const auto ex = co_await boost::asio::this_coro::executor;
  ProducerConfig cfg;
  cfg.bootstrap_servers = std::move(bootstrap);
  cfg.linger = std::chrono::milliseconds(0);
  Producer producer(ex, std::move(cfg));
  co_await producer.start();
  std::vector<DeliveryHandle> handles;
  handles.reserve(static_cast<std::size_t>(n));
  for (int i = first; i < first + n; ++i) {
    const std::string value = std::to_string(i);
    SendOptions options;
    options.partition = partition;
    handles.push_back(co_await producer.send(topic, value, options));
  }
  for (auto& h : handles) (void)co_await h.async_wait();  // throws the first failure
  co_await producer.stop();
  co_return true;
}

}  // namespace

bool produce_numbered(const std::string& bootstrap, const std::string& topic, int first, int n, int partition,
                      std::chrono::milliseconds limit) {
  return run_async(write_numbered(bootstrap, topic, first, n, partition), limit);
}

}  // namespace asiokafka::test
