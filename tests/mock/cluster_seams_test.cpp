// The seams the producer, consumer and group coordinator build on, tested on net::cluster
// against a FakeBroker whose metadata the test controls: per-request timeouts, "not sent" vs
// "maybe sent", write order per connection, metadata change events, tracked topics and the
// all-topics refresh, connection generations, the single resend on NOT_CONTROLLER, close()
// failing what is pending, FindCoordinator retried after a transport failure, failing at once
// during reconnect backoff, and the version chosen against an older broker.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/error.hpp"
#include "asiokafka/kafka_error.hpp"
#include "asiokafka/protocol/messages.hpp"
#include "net/cluster.hpp"
#include "support/async.hpp"
#include "support/fake_broker.hpp"
#include "support/poll.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
namespace msg = protocol::messages;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// A one-broker cluster in a FakeBroker: node 0 (the FakeBroker itself, also the controller)
// with the topics of `topics`, answered to whatever a Metadata request asks.
struct FakeCluster {
  struct Topic {
    std::string name;
    std::uint8_t id = 1;  // first byte of the topic id: a new value is a re-created topic
    std::int32_t partitions = 1;
    std::int32_t leader_epoch = 0;
  };
  explicit FakeCluster(const asio::any_io_executor& ex) : broker(ex) {}

  void answer_metadata(FakeSession& s, const FakeRequest& r) {
    msg::MetadataRequest asked;
    if (asked.decode(r.body, r.api_version)) return s.close();
    std::optional<std::vector<std::string>> names;
    if (asked.topics) {
      names.emplace();
      for (const auto& t : *asked.topics) names->push_back(t.name.value_or(""));
    }
    metadata_asks.push_back(names);
    msg::MetadataResponse md;
    md.brokers.push_back({.node_id = 0, .host = "127.0.0.1", .port = static_cast<std::int32_t>(broker.port())});
    md.cluster_id = "fake-cluster";
    md.controller_id = 0;
    auto add = [&](const std::string& name) {
      msg::MetadataResponse::MetadataResponseTopic out;
      out.name = name;
      const auto it = std::find_if(topics.begin(), topics.end(), [&](const Topic& t) { return t.name == name; });
      if (it == topics.end()) {
        out.error_code = static_cast<std::int16_t>(kafka_errc::unknown_topic_or_partition);
      } else {
        out.topic_id[0] = it->id;
        for (std::int32_t p = 0; p < it->partitions; ++p) {
          out.partitions.push_back({.partition_index = p, .leader_id = 0, .leader_epoch = it->leader_epoch,
                                    .replica_nodes = {0}, .isr_nodes = {0}});
        }
      }
      md.topics.push_back(std::move(out));
    };
    if (names) {
      for (const auto& n : *names) add(n);
    } else {
      for (const auto& t : topics) add(t.name);
    }
    s.respond(r, md);
  }

  /// Metadata from the model, ApiVersions, and `other` for the rest.
  void serve(FakeBroker::Handler other = {}) {
    broker.on_request([this, other](FakeSession& s, const FakeRequest& r) {
      if (r.api_key == msg::ApiVersionsRequest::api_key) return s.answer_api_versions(r);
      if (r.api_key == msg::MetadataRequest::api_key) return answer_metadata(s, r);
      if (other) other(s, r);
    });
  }

  ClientConfig config() const {
    ClientConfig c;
    c.bootstrap_servers = broker.host() + ":" + std::to_string(broker.port());
    c.request_timeout = 2s;
    c.connect_timeout = 2s;
    c.retry_backoff = 10ms;
    c.reconnect_backoff = 10ms;
    c.reconnect_backoff_max = 50ms;
    return c;
  }

  std::size_t count(std::int16_t api_key) const {
    std::size_t n = 0;
    for (const auto& r : broker.requests()) n += r.api_key == api_key ? 1 : 0;
    return n;
  }

  FakeBroker broker;
  std::vector<Topic> topics;
  std::vector<std::optional<std::vector<std::string>>> metadata_asks;
};

// Answers `r` on `s` after `delay`, unless the connection is gone by then.
void respond_later(FakeSession& s, FakeRequest r, std::chrono::milliseconds delay, std::vector<std::uint8_t> body) {
  s.later(delay, [r = std::move(r), body = std::move(body)](FakeSession& live) { live.respond(r, body); });
}

std::vector<std::uint8_t> encoded(const msg::ListGroupsResponse& m, std::int16_t version) {
  std::vector<std::uint8_t> out;
  EXPECT_FALSE(m.encode(out, version));
  return out;
}

TEST(ClusterSeams, PerRequestTimeoutLetsARequestWaitLongerThanRequestTimeout) {
  auto body = []() -> asio::awaitable<bool> {
    const auto ex = co_await asio::this_coro::executor;
    FakeCluster fake(ex);
    // ListGroups stands for a long-polling Fetch or a JoinGroup: answered after 700 ms.
    fake.serve([](FakeSession& s, const FakeRequest& r) {
      if (r.api_key == msg::ListGroupsRequest::api_key) respond_later(s, r, 700ms, encoded({}, r.api_version));
    });
    auto config = fake.config();
    config.request_timeout = 300ms;
    auto cluster = net::cluster::create(ex, config);
    EXPECT_FALSE(co_await cluster->start());
    net::typed_request<msg::ListGroupsRequest> slow(msg::ListGroupsRequest{});
    const auto start = clock_type::now();
    net::failure f = co_await cluster->send_to_node(0, ConnectionPurpose::other, slow, {.timeout = 3s});
    EXPECT_FALSE(f) << f.message;
    EXPECT_GE(clock_type::now() - start, 650ms);
    // Without the per-request bound it times out at request_timeout; it had been written.
    net::typed_request<msg::ListGroupsRequest> normal(msg::ListGroupsRequest{});
    const auto start2 = clock_type::now();
    f = co_await cluster->send_to_node(0, ConnectionPurpose::other, normal);
    EXPECT_EQ(f.code, client_errc::timeout) << f.message;
    EXPECT_EQ(f.sent, net::delivery::maybe_sent);
    EXPECT_LT(clock_type::now() - start2, 650ms);
    co_await cluster->close();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 30s));
}

TEST(ClusterSeams, FailuresSayWhetherTheRequestMayHaveReachedTheBroker) {
  auto body = []() -> asio::awaitable<bool> {
    const auto ex = co_await asio::this_coro::executor;
    FakeCluster fake(ex);
    bool drop = false;
    fake.serve([&](FakeSession& s, const FakeRequest& r) {
      if (r.api_key == msg::ListGroupsRequest::api_key && drop) s.close();  // read, never answered
    });
    auto cluster = net::cluster::create(ex, fake.config());
    EXPECT_FALSE(co_await cluster->start());
    // Read by the broker, then the connection dropped: maybe sent.
    drop = true;
    net::typed_request<msg::ListGroupsRequest> read(msg::ListGroupsRequest{});
    net::failure f = co_await cluster->send_to_node(0, ConnectionPurpose::other, read);
    EXPECT_EQ(f.code, client_errc::connection_lost) << f.message;
    EXPECT_EQ(f.sent, net::delivery::maybe_sent);
    // No broker listening: the connection is never made, nothing was sent.
    fake.broker.stop();
    net::typed_request<msg::ListGroupsRequest> refused(msg::ListGroupsRequest{});
    f = co_await cluster->send_to_node(0, ConnectionPurpose::other, refused, {.timeout = 1500ms});
    EXPECT_TRUE(f.code == client_errc::connection_failed || f.code == client_errc::timeout) << f.message;
    EXPECT_EQ(f.sent, net::delivery::not_sent);
    co_await cluster->close();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 30s));
}

TEST(ClusterSeams, RequestsAreWrittenInCallOrderWhileConnectingAndAfter) {
  auto body = []() -> asio::awaitable<std::vector<std::string>> {
    const auto ex = co_await asio::this_coro::executor;
    FakeCluster fake(ex);
    std::vector<std::string> seen;
    fake.serve([&](FakeSession& s, const FakeRequest& r) {
      if (r.api_key != msg::DescribeGroupsRequest::api_key) return;
      msg::DescribeGroupsRequest d;
      if (!d.decode(r.body, r.api_version) && !d.groups.empty()) seen.push_back(d.groups.front());
      msg::DescribeGroupsResponse answer;
      s.respond(r, answer);
    });
    auto cluster = net::cluster::create(ex, fake.config());
    EXPECT_FALSE(co_await cluster->start());
    std::vector<std::unique_ptr<net::typed_request<msg::DescribeGroupsRequest>>> requests;
    std::vector<asio::awaitable<net::failure>> calls;
    // Issued back to back on a connection that does not exist yet (the group purpose), then
    // awaited in reverse: the order is fixed when send_to_node is called.
    for (int i = 0; i < 12; ++i) {
      msg::DescribeGroupsRequest d;
      d.groups.push_back("g" + std::to_string(i));
      requests.push_back(std::make_unique<net::typed_request<msg::DescribeGroupsRequest>>(std::move(d)));
      calls.push_back(cluster->send_to_node(0, ConnectionPurpose::group, *requests.back()));
    }
    for (auto it = calls.rbegin(); it != calls.rend(); ++it) EXPECT_FALSE(co_await std::move(*it));
    calls.clear();
    for (int i = 12; i < 20; ++i) {  // and on the established connection
      msg::DescribeGroupsRequest d;
      d.groups.push_back("g" + std::to_string(i));
      requests.push_back(std::make_unique<net::typed_request<msg::DescribeGroupsRequest>>(std::move(d)));
      calls.push_back(cluster->send_to_node(0, ConnectionPurpose::group, *requests.back()));
    }
    for (auto it = calls.rbegin(); it != calls.rend(); ++it) EXPECT_FALSE(co_await std::move(*it));
    co_await cluster->close();
    co_return seen;
  };
  std::vector<std::string> expected;
  for (int i = 0; i < 20; ++i) expected.push_back("g" + std::to_string(i));
  EXPECT_EQ(run_async(body(), 30s), expected);
}

TEST(ClusterSeams, MetadataChangeEventsNameWhatChanged) {
  auto body = []() -> asio::awaitable<bool> {
    const auto ex = co_await asio::this_coro::executor;
    FakeCluster fake(ex);
    fake.topics = {{.name = "grows", .partitions = 2}, {.name = "moves"}, {.name = "reborn"}, {.name = "dies"}};
    fake.serve();
    auto cluster = net::cluster::create(ex, fake.config());
    EXPECT_FALSE(co_await cluster->start());
    std::vector<net::metadata_change> events;
    auto subscription = cluster->metadata().changes().subscribe([&](const net::metadata_change& c) { events.push_back(c); });
    const std::vector<std::string> names{"grows", "moves", "reborn", "dies"};
    EXPECT_FALSE(co_await cluster->metadata().refresh(names, true, clock_type::now() + 2s));
    EXPECT_EQ(events.size(), 1u);
    if (events.size() != 1) co_return false;
    EXPECT_EQ(events[0].added_topics.size(), 4u);
    // Then: a partition added, a leader epoch bumped, a topic re-created, a topic deleted.
    fake.topics[0].partitions = 3;
    fake.topics[1].leader_epoch = 4;
    fake.topics[2].id = 2;
    fake.topics.pop_back();
    EXPECT_FALSE(co_await cluster->metadata().refresh(std::vector<std::string>(), false, clock_type::now() + 2s));
    EXPECT_EQ(events.size(), 2u);
    if (events.size() != 2) co_return false;
    const auto& c = events[1];
    EXPECT_EQ(c.partition_count_changed, (std::vector<std::string>{"grows", "reborn"}));
    EXPECT_EQ(c.recreated_topics, (std::vector<std::string>{"reborn"}));
    EXPECT_EQ(c.removed_topics, (std::vector<std::string>{"dies"}));
    EXPECT_NE(std::find(c.leader_changed.begin(), c.leader_changed.end(), TopicPartition{"moves", 0}),
              c.leader_changed.end());
    EXPECT_NE(std::find(c.leader_changed.begin(), c.leader_changed.end(), TopicPartition{"grows", 2}),
              c.leader_changed.end());
    // Nothing changed: no event.
    EXPECT_FALSE(co_await cluster->metadata().refresh(std::vector<std::string>(), false, clock_type::now() + 2s));
    EXPECT_EQ(events.size(), 2u);
    co_await cluster->close();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 30s));
}

TEST(ClusterSeams, TrackedTopicsAndTheAllTopicsRefresh) {
  auto body = []() -> asio::awaitable<bool> {
    const auto ex = co_await asio::this_coro::executor;
    FakeCluster fake(ex);
    fake.topics = {{.name = "tracked"}, {.name = "other"}};
    fake.serve();
    auto cluster = net::cluster::create(ex, fake.config());
    EXPECT_FALSE(co_await cluster->start());
    std::vector<net::metadata_change> events;
    auto subscription = cluster->metadata().changes().subscribe([&](const net::metadata_change& c) { events.push_back(c); });
    // A tracked topic is asked for by every refresh, cached or not.
    cluster->metadata().track("tracked");
    EXPECT_FALSE(co_await cluster->metadata().refresh(std::vector<std::string>(), false, clock_type::now() + 2s));
    const bool asked = !fake.metadata_asks.empty() && fake.metadata_asks.back().has_value();
    EXPECT_TRUE(asked);
    if (!asked) co_return false;
    EXPECT_EQ(*fake.metadata_asks.back(), (std::vector<std::string>{"tracked"}));
    // All topics (a pattern subscription): null topics, and a topic created since shows up.
    cluster->metadata().set_all_topics(true);
    fake.topics.push_back({.name = "new-one"});
    EXPECT_FALSE(co_await cluster->metadata().refresh(std::vector<std::string>(), false, clock_type::now() + 2s));
    EXPECT_FALSE(fake.metadata_asks.back().has_value()) << "not an all-topics request";
    EXPECT_FALSE(events.empty());
    if (events.empty()) co_return false;
    const auto& added = events.back().added_topics;
    EXPECT_NE(std::find(added.begin(), added.end(), "new-one"), added.end());
    EXPECT_NE(cluster->metadata().cache().topic("other"), nullptr);
    co_await cluster->close();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 30s));
}

TEST(ClusterSeams, ConnectionGenerationChangesWhenTheConnectionIsReplaced) {
  auto body = []() -> asio::awaitable<bool> {
    const auto ex = co_await asio::this_coro::executor;
    FakeCluster fake(ex);
    bool close_after = false;
    fake.serve([&](FakeSession& s, const FakeRequest& r) {
      if (r.api_key != msg::ListGroupsRequest::api_key) return;
      s.respond(r, msg::ListGroupsResponse{});
      if (close_after) s.close();
    });
    auto cluster = net::cluster::create(ex, fake.config());
    EXPECT_FALSE(co_await cluster->start());
    net::typed_request<msg::ListGroupsRequest> a(msg::ListGroupsRequest{});
    EXPECT_FALSE(co_await cluster->send_to_node(0, ConnectionPurpose::fetch, a));
    const auto first = a.take();
    net::typed_request<msg::ListGroupsRequest> b(msg::ListGroupsRequest{});
    close_after = true;  // the broker closes this connection after answering
    EXPECT_FALSE(co_await cluster->send_to_node(0, ConnectionPurpose::fetch, b));
    const auto same = b.take();
    EXPECT_EQ(same.connection_generation, first.connection_generation);
    close_after = false;
    const auto fetch_open = [&] {
      for (const auto& info : cluster->pool().connections()) {
        if (info.purpose == ConnectionPurpose::fetch) return true;
      }
      return false;
    };
    const bool gone = co_await eventually_async([&] { return !fetch_open(); }, 2s);
    EXPECT_TRUE(gone);
    net::typed_request<msg::ListGroupsRequest> c(msg::ListGroupsRequest{});
    const net::failure fc = co_await cluster->send_to_node(0, ConnectionPurpose::fetch, c);
    EXPECT_FALSE(fc) << fc.message;
    const auto replaced = c.take();
    EXPECT_GT(replaced.connection_generation, first.connection_generation);
    EXPECT_EQ(cluster->pool().generation(0, ConnectionPurpose::fetch), replaced.connection_generation);
    EXPECT_EQ(replaced.node_id, 0);
    co_await cluster->close();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 30s));
}

TEST(ClusterSeams, NotControllerIsResentOnceAfterARefresh) {
  // Returns how many CreateTopics the broker got, the Metadata refreshes between, and the
  // error of the answer the caller got.
  struct seen {
    std::size_t creates = 0;
    std::size_t refreshes = 0;
    std::int16_t error = -1;
  };
  auto body = [](int not_controller_answers) -> asio::awaitable<seen> {
    const auto ex = co_await asio::this_coro::executor;
    FakeCluster fake(ex);
    int left = not_controller_answers;
    fake.serve([&](FakeSession& s, const FakeRequest& r) {
      if (r.api_key != msg::CreateTopicsRequest::api_key) return;
      msg::CreateTopicsResponse answer;  // NOT_CONTROLLER is per topic in CreateTopics
      msg::CreateTopicsResponse::CreatableTopicResult t;
      t.name = "t";
      t.error_code = left-- > 0 ? static_cast<std::int16_t>(kafka_errc::not_controller) : 0;
      answer.topics.push_back(std::move(t));
      s.respond(r, answer);
    });
    auto cluster = net::cluster::create(ex, fake.config());
    EXPECT_FALSE(co_await cluster->start());
    const std::size_t refreshes_before = fake.count(msg::MetadataRequest::api_key);
    msg::CreateTopicsRequest create;
    create.topics.push_back({.name = "t", .num_partitions = 1, .replication_factor = 1});
    net::typed_request<msg::CreateTopicsRequest> request(std::move(create));
    net::route where;
    where.target = net::route::kind::controller;
    const net::failure f = co_await cluster->call(where, request);
    EXPECT_FALSE(f) << f.message;
    seen out;
    out.creates = fake.count(msg::CreateTopicsRequest::api_key);
    out.refreshes = fake.count(msg::MetadataRequest::api_key) - refreshes_before;
    out.error = request.message().topics.empty() ? -1 : request.message().topics[0].error_code;
    co_await cluster->close();
    co_return out;
  };
  const seen once = run_async(body(1), 30s);
  EXPECT_EQ(once.creates, 2u) << "resent once after NOT_CONTROLLER";
  EXPECT_GE(once.refreshes, 1u) << "no metadata refresh before the resend";
  EXPECT_EQ(once.error, 0);
  const seen twice = run_async(body(2), 30s);
  EXPECT_EQ(twice.creates, 2u) << "resent more than once";
  EXPECT_EQ(twice.error, static_cast<std::int16_t>(kafka_errc::not_controller)) << "the last answer is the result";
}

TEST(ClusterSeams, CloseFailsPendingRequestsAndLaterOnesWithClientClosed) {
  auto body = []() -> asio::awaitable<bool> {
    const auto ex = co_await asio::this_coro::executor;
    FakeCluster fake(ex);
    fake.serve();  // ListGroups is never answered
    auto cluster = net::cluster::create(ex, fake.config());
    EXPECT_FALSE(co_await cluster->start());
    net::typed_request<msg::ListGroupsRequest> pending(msg::ListGroupsRequest{});
    std::optional<net::failure> result;
    asio::co_spawn(ex, cluster->send_to_node(0, ConnectionPurpose::other, pending),
                   [&](std::exception_ptr, net::failure f) { result = std::move(f); });
    const bool written = co_await eventually_async([&] { return fake.count(msg::ListGroupsRequest::api_key) == 1; }, 2s);
    EXPECT_TRUE(written);
    const auto start = clock_type::now();
    co_await cluster->close();
    const bool done = co_await eventually_async([&] { return result.has_value(); }, 1s);
    EXPECT_TRUE(done) << "the pending request did not end";
    if (result) {
      EXPECT_TRUE(result->code == client_errc::client_closed || result->code == client_errc::connection_closed)
          << result->message;
    }
    EXPECT_LT(clock_type::now() - start, 1s);
    net::typed_request<msg::ListGroupsRequest> later(msg::ListGroupsRequest{});
    const net::route any;
    const net::failure f = co_await cluster->call(any, later);
    EXPECT_EQ(f.code, client_errc::client_closed) << f.message;
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 30s));
}

TEST(ClusterSeams, FindCoordinatorIsAskedAgainAfterATransportFailure) {
  auto body = []() -> asio::awaitable<bool> {
    const auto ex = co_await asio::this_coro::executor;
    FakeCluster fake(ex);
    int find_calls = 0;
    fake.serve([&](FakeSession& s, const FakeRequest& r) {
      if (r.api_key != msg::FindCoordinatorRequest::api_key) return;
      if (++find_calls == 1) return s.close();  // the first lookup's connection drops
      msg::FindCoordinatorResponse answer;  // the v4+ shape (a list of keys)
      msg::FindCoordinatorResponse::Coordinator c;
      c.key = "g";
      c.node_id = 0;
      c.host = "127.0.0.1";
      c.port = static_cast<std::int32_t>(fake.broker.port());
      answer.coordinators.push_back(std::move(c));
      s.respond(r, answer);
    });
    auto cluster = net::cluster::create(ex, fake.config());
    EXPECT_FALSE(co_await cluster->start());
    auto found = co_await cluster->coordinators().find(CoordinatorType::group, "g", clock_type::now() + 2s);
    EXPECT_TRUE(found) << found.error().message << " (" << find_calls << " FindCoordinator)";
    if (found) {
      EXPECT_EQ(found->node_id, 0);
    }
    EXPECT_EQ(find_calls, 2);
    co_await cluster->close();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 30s));
}

TEST(ClusterSeams, BrokerInReconnectBackoffFailsAtOnceNotSent) {
  auto body = []() -> asio::awaitable<bool> {
    const auto ex = co_await asio::this_coro::executor;
    FakeCluster fake(ex);
    fake.serve();
    auto config = fake.config();
    config.reconnect_backoff = 5s;  // longer than any request's deadline below
    config.reconnect_backoff_max = 10s;
    auto cluster = net::cluster::create(ex, config);
    EXPECT_FALSE(co_await cluster->start());
    fake.broker.stop();  // nothing listens any more
    net::typed_request<msg::ListGroupsRequest> first(msg::ListGroupsRequest{});
    net::failure f = co_await cluster->send_to_node(0, ConnectionPurpose::other, first);
    EXPECT_TRUE(f) << "sent without a broker";
    const auto start = clock_type::now();
    net::typed_request<msg::ListGroupsRequest> second(msg::ListGroupsRequest{});
    f = co_await cluster->send_to_node(0, ConnectionPurpose::other, second);
    EXPECT_EQ(f.code, client_errc::connection_failed) << f.message;
    EXPECT_EQ(f.sent, net::delivery::not_sent);
    EXPECT_NE(f.message.find("reconnect backoff"), std::string::npos) << f.message;
    EXPECT_LT(clock_type::now() - start, 200ms) << "waited for a backoff that ends after the deadline";
    co_await cluster->close();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 30s));
}

TEST(ClusterSeams, AnOlderBrokerGetsTheHighestVersionItSupports) {
  auto body = []() -> asio::awaitable<std::pair<std::int16_t, std::int16_t>> {
    const auto ex = co_await asio::this_coro::executor;
    FakeCluster fake(ex);
    std::int16_t list_groups_version = -1;
    fake.broker.on_request([&](FakeSession& s, const FakeRequest& r) {
      if (r.api_key == msg::ApiVersionsRequest::api_key) {
        // An old broker: Metadata up to v4 (not flexible), ListGroups up to v2.
        msg::ApiVersionsResponse v;
        v.api_keys.push_back({.api_key = msg::ApiVersionsRequest::api_key, .min_version = 0, .max_version = 2});
        v.api_keys.push_back({.api_key = msg::MetadataRequest::api_key, .min_version = 0, .max_version = 4});
        v.api_keys.push_back({.api_key = msg::ListGroupsRequest::api_key, .min_version = 0, .max_version = 2});
        return s.respond(r, v);
      }
      if (r.api_key == msg::MetadataRequest::api_key) return fake.answer_metadata(s, r);
      if (r.api_key == msg::ListGroupsRequest::api_key) {
        list_groups_version = r.api_version;
        return s.respond(r, msg::ListGroupsResponse{});
      }
    });
    auto cluster = net::cluster::create(ex, fake.config());
    EXPECT_FALSE(co_await cluster->start());
    net::typed_request<msg::ListGroupsRequest> lg(msg::ListGroupsRequest{});
    EXPECT_FALSE(co_await cluster->send_to_node(0, ConnectionPurpose::other, lg));
    const std::int16_t answered_in = lg.take().version;
    co_await cluster->close();
    co_return std::make_pair(list_groups_version, answered_in);
  };
  const auto versions = run_async(body(), 30s);
  EXPECT_EQ(versions.first, 2);
  EXPECT_EQ(versions.second, 2);
}

}  // namespace
}  // namespace asiokafka::test
