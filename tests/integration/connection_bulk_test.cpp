// A Metadata answer far larger than the reader's first buffer: 30 topics of 100 partitions
// created, read back, and deleted. Its own binary, run serially: 3,000 partition creations and
// deletions keep the single broker's controller busy for seconds, which slowed every other
// broker test running beside it (auto-created topics, leader waits) past their deadlines.
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/protocol/messages.hpp"
#include "net/connection.hpp"
#include "support/async.hpp"
#include "support/net_helpers.hpp"
#include "support/rig.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
namespace msg = protocol::messages;
using namespace std::chrono_literals;
using asio::use_awaitable;
using Target = HostPort;

Target split(const std::string& address) { return split_host_port(address); }

asio::awaitable<void> create_topic(net::connection& conn, const std::string& name, int partitions) {
  msg::CreateTopicsRequest request;
  msg::CreateTopicsRequest::CreatableTopic topic;
  topic.name = name;
  topic.num_partitions = partitions;
  topic.replication_factor = 1;
  request.topics.push_back(topic);
  auto sent = co_await conn.send(request);
  const auto r = unwrap(std::move(sent));
  if (r->topics.size() != 1 || (r->topics[0].error_code != 0 && r->topics[0].error_code != 36)) {
    throw std::runtime_error("CreateTopics failed with " + std::to_string(r->topics.empty() ? -1 : r->topics[0].error_code));
  }
}

std::string unique_name(const std::string& prefix) {
  return prefix + "-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
}

asio::awaitable<std::size_t> big_metadata(Target target, std::size_t& frame_bytes) {
  auto ex = co_await asio::this_coro::executor;
  net::connection_options options;  // a named local: no class-type temporary inside co_await (GCC 12)
  auto connected = co_await net::connect(ex, target.host, target.port, options);
  net::connection conn = unwrap(std::move(connected));
  const std::string prefix = unique_name("conn-big");
  constexpr int topics = 30;
  constexpr int partitions = 100;
  msg::MetadataRequest request;
  request.topics.emplace();
  for (int t = 0; t < topics; ++t) {
    const std::string name = prefix + "-" + std::to_string(t);
    co_await create_topic(conn, name, partitions);
    msg::MetadataRequest::MetadataRequestTopic rt;
    rt.name = name;
    request.topics->push_back(rt);
  }
  std::size_t seen = 0;
  for (int attempt = 0; attempt < 300; ++attempt) {  // until every partition has a leader
    auto sent = co_await conn.send(request);
    const auto md = unwrap(std::move(sent));
    seen = 0;
    for (const auto& t : md->topics) {
      for (const auto& p : t.partitions) seen += p.error_code == 0 && p.leader_id >= 0 ? 1 : 0;
    }
    frame_bytes = md.storage.size();
    if (seen == topics * partitions) break;
    asio::steady_timer pause(ex, 200ms);
    co_await pause.async_wait(use_awaitable);
  }
  // Delete the 3,000 partitions again: the fault suites restart this broker, and every
  // partition left behind adds to its log recovery time.
  msg::DeleteTopicsRequest drop;
  drop.timeout_ms = 30000;
  for (const auto& t : request.topics.value()) {
    msg::DeleteTopicsRequest::DeleteTopicState state;
    state.name = t.name;
    drop.topics.push_back(state);
  }
  auto sent = co_await conn.send(drop);
  const auto dropped = unwrap(std::move(sent));
  for (const auto& r : dropped->responses) EXPECT_EQ(r.error_code, 0) << r.name.value_or("?");
  co_await conn.close();
  co_return seen;
}

TEST(ConnectionRealBroker, LargeMetadataResponse) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  std::size_t frame_bytes = 0;
  EXPECT_EQ(run_async(big_metadata(split(rig.node(1).listener("PLAINTEXT")), frame_bytes), 120s), 3000u);
  EXPECT_GT(frame_bytes, 64u * 1024);  // larger than the reader's first buffer
}

TEST(ConnectionRealBroker, SendAfterCloseFailsWithConnectionClosed) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const auto target = split(rig.node(1).listener("PLAINTEXT"));
  auto task = [](Target t) -> asio::awaitable<std::string> {
    auto ex = co_await asio::this_coro::executor;
    net::connection_options options;
    auto connected = co_await net::connect(ex, t.host, t.port, options);
    net::connection conn = unwrap(std::move(connected));
    co_await conn.close();
    const msg::MetadataRequest request{};
    const auto r = co_await conn.send(request);
    if (r) co_return "send after close succeeded";
    if (r.error().code != client_errc::connection_closed) co_return r.error().message;
    if (r.error().sent != net::delivery::not_sent) co_return "a send after close is reported as maybe sent";
    co_return std::string();
  };
  EXPECT_EQ(run_async(task(target), 30s), "");
}

}  // namespace
}  // namespace asiokafka::test
