// asiokafka::Client on the three-node cluster: when a partition's leader dies, the client
// learns the new leader from a metadata refresh and routes to it.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/client.hpp"
#include "asiokafka/kafka_error.hpp"
#include "asiokafka/protocol/messages.hpp"
#include "support/async.hpp"
#include "support/rig.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
namespace msg = protocol::messages;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

msg::FetchRequest fetch_partition_zero(const std::string& topic, protocol::uuid id) {
  msg::FetchRequest fetch;
  fetch.max_wait_ms = 0;
  msg::FetchRequest::FetchTopic ft;
  ft.topic = topic;
  ft.topic_id = id;
  ft.partitions.push_back({.partition = 0, .fetch_offset = 0, .partition_max_bytes = 1 << 16});
  fetch.topics.push_back(ft);
  return fetch;
}

struct Failover {
  std::int32_t old_leader = -1;
  std::int32_t new_leader = -1;
  std::int32_t answered_by = -1;
  int attempts = 0;
  std::chrono::milliseconds took{};
};

TEST(ClientCluster, LeaderDeathIsFollowedByRefreshAndReRouting) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG3_ENV");
  std::random_device rd;
  const std::string topic = "client-failover-" + std::to_string(rd());
  std::optional<RigNode> victim;
  struct Restart {
    std::optional<RigNode>& n;
    ~Restart() {
      try {
        if (n) n->start();
      } catch (...) {
      }
    }
  } restart{victim};

  auto body = [&]() -> asio::awaitable<Failover> {
    ClientConfig config;
    config.bootstrap_servers = rig.bootstrap("PLAINTEXT");
    config.request_timeout = 5s;
    config.connect_timeout = 2s;
    config.retry_backoff = 100ms;
    config.reconnect_backoff_max = 500ms;
    Client client(co_await asio::this_coro::executor, config);
    co_await client.start();
    msg::CreateTopicsRequest create;
    create.topics.push_back({.name = topic, .num_partitions = 1, .replication_factor = 3});
    create.timeout_ms = 15'000;
    const auto created = co_await client.send_to_controller(create);
    EXPECT_EQ(created->topics.at(0).error_code, 0);
    const std::vector<std::string> topics{topic};
    co_await client.refresh_metadata(topics);
    const auto before = client.metadata();
    const auto id = before.topic(topic)->topic_id;
    const auto request = fetch_partition_zero(topic, id);
    const auto first = co_await client.send_to_leader(topic, 0, request);
    Failover f;
    f.old_leader = first.node_id;
    victim.emplace(rig.node(f.old_leader));
    victim->kill();
    const auto killed_at = clock_type::now();
    // Keep sending through the client, as a producer or consumer would, reporting routing
    // errors; bounded by attempts and time.
    for (; f.attempts < 200 && clock_type::now() - killed_at < 60s; ++f.attempts) {
      auto sent = co_await client.send_to_leader(topic, 0, request, asio::as_tuple(asio::use_awaitable));
      // A transport error: the dead leader's connection failed; the client refreshes on its own.
      if (!std::get<0>(sent)) {
        const auto& r = std::get<1>(sent);
        const std::int16_t err = r->error_code != 0 ? r->error_code : r->responses.at(0).partitions.at(0).error_code;
        if (err == 0 && r.node_id != f.old_leader) {
          f.answered_by = r.node_id;
          break;
        }
        client.invalidate_leader(topic, 0, make_error_code(static_cast<kafka_errc>(err)));
      }
      asio::steady_timer pace(co_await asio::this_coro::executor, 200ms);  // spaces the attempts
      co_await pace.async_wait(asio::use_awaitable);
    }
    f.took = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - killed_at);
    const auto md = client.metadata();
    const auto* t = md.topic(topic);
    if (t != nullptr && !t->partitions.empty()) f.new_leader = t->partitions[0].leader;
    co_await client.close();
    co_return f;
  };
  const Failover f = run_async(body(), 120s);
  EXPECT_GE(f.old_leader, 1);
  EXPECT_NE(f.answered_by, -1) << "no answer from a new leader after " << f.attempts << " attempts, "
                               << f.took.count() << " ms";
  EXPECT_NE(f.answered_by, f.old_leader);
  EXPECT_EQ(f.new_leader, f.answered_by) << "routed somewhere the metadata does not name";
  std::cout << "failover: leader " << f.old_leader << " -> " << f.answered_by << " in " << f.took.count()
            << " ms, " << f.attempts << " attempts\n";
}

}  // namespace
}  // namespace asiokafka::test
