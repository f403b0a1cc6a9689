// asiokafka::Client against the real single-node broker: bootstrap, metadata, admin requests to
// the controller, topic auto-creation waits, routing to the leader and the group coordinator,
// and the security settings (SASL_SSL, a wrong password, a wrong CA).
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>
#include <vector>

#include <boost/asio/ssl/error.hpp>
#include <boost/asio/this_coro.hpp>

#include "asiokafka/client.hpp"
#include "asiokafka/error.hpp"
#include "asiokafka/kafka_error.hpp"
#include "asiokafka/protocol/messages.hpp"
#include "asiokafka/sasl.hpp"
#include "asiokafka/tls.hpp"
#include "support/async.hpp"
#include "support/rig.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
namespace msg = protocol::messages;
using namespace std::chrono_literals;

std::string unique_name(const std::string& prefix) {
  std::random_device rd;
  return prefix + "-" + std::to_string(rd()) + std::to_string(rd());
}

ClientConfig plaintext(const Rig& rig) {
  ClientConfig c;
  c.bootstrap_servers = rig.bootstrap("PLAINTEXT");
  c.request_timeout = 15s;
  return c;
}

TEST(ClientIntegration, AdminRequestsRoutingAndCoordinators) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = unique_name("client-routed");
  auto body = [&]() -> asio::awaitable<bool> {
    Client client(co_await asio::this_coro::executor, plaintext(rig));
    co_await client.start();
    const auto md = client.metadata();
    EXPECT_EQ(md.cluster_id, rig.get("CLUSTER_ID"));
    EXPECT_EQ(md.brokers.size(), 1u);
    EXPECT_GE(md.controller_id, 0);

    msg::CreateTopicsRequest create;
    create.topics.push_back({.name = topic, .num_partitions = 3, .replication_factor = 1});
    create.timeout_ms = 10'000;
    const auto created = co_await client.send_to_controller(create);
    EXPECT_EQ(created->topics.size(), 1u);
    if (!created->topics.empty()) {
      EXPECT_EQ(created->topics[0].error_code, 0) << created->topics[0].error_message.value_or("");
    }
    const std::vector<std::string> topics{topic};
    co_await client.refresh_metadata(topics);
    const auto after = client.metadata();
    const auto* t = after.topic(topic);
    EXPECT_NE(t, nullptr);
    if (t != nullptr) {
      EXPECT_EQ(t->partitions.size(), 3u);
      for (const auto& p : t->partitions) EXPECT_GE(p.leader, 0);
    }

    for (std::int32_t p = 0; p < 3; ++p) {
      msg::FetchRequest fetch;
      fetch.max_wait_ms = 0;
      msg::FetchRequest::FetchTopic ft;
      ft.topic = topic;
      ft.topic_id = t != nullptr ? t->topic_id : protocol::uuid{};
      ft.partitions.push_back({.partition = p, .fetch_offset = 0, .partition_max_bytes = 1 << 16});
      fetch.topics.push_back(ft);
      // A partition created a moment ago may answer NOT_LEADER_OR_FOLLOWER until its leader
      // has loaded it: report it, as a consumer would, and ask again (bounded).
      std::int16_t err = -1;
      for (int attempt = 0; attempt < 50 && err != 0; ++attempt) {
        const auto r = co_await client.send_to_leader(topic, p, fetch);
        EXPECT_EQ(r->error_code, 0);
        EXPECT_EQ(r->responses.size(), 1u);
        if (r->responses.empty() || r->responses[0].partitions.empty()) break;
        err = r->responses[0].partitions[0].error_code;
        if (err != 0) client.invalidate_leader(topic, p, make_error_code(static_cast<kafka_errc>(err)));
      }
      EXPECT_EQ(err, 0) << "partition " << p;
    }

    const std::string group = unique_name("client-group");
    const auto coordinator = co_await client.find_coordinator(CoordinatorType::group, group);
    EXPECT_EQ(coordinator.node_id, md.brokers.front().node_id);
    msg::HeartbeatRequest hb;
    hb.group_id = group;
    hb.generation_id = 1;
    hb.member_id = "nobody";
    const auto answer = co_await client.send_to_coordinator(CoordinatorType::group, group, hb);
    // The group does not exist: the coordinator itself says so (not NOT_COORDINATOR).
    EXPECT_TRUE(answer->error_code == static_cast<std::int16_t>(kafka_errc::unknown_member_id) ||
                answer->error_code == static_cast<std::int16_t>(kafka_errc::group_id_not_found))
        << answer->error_code;

    msg::DeleteTopicsRequest del;
    del.topics.push_back({.name = topic});
    (void)co_await client.send_to_controller(del);
    co_await client.close();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 60s));
}

TEST(ClientIntegration, RefreshWaitsForAutoCreatedTopics) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = unique_name("client-auto");
  auto body = [&]() -> asio::awaitable<bool> {
    Client client(co_await asio::this_coro::executor, plaintext(rig));
    co_await client.start();
    const std::vector<std::string> topics{topic};
    co_await client.refresh_metadata(topics);
    const auto md = client.metadata();
    const auto* t = md.topic(topic);
    EXPECT_NE(t, nullptr) << "auto-created topic missing";
    if (t != nullptr) {
      EXPECT_FALSE(t->error) << t->error.message();
      EXPECT_EQ(t->partitions.size(), 1u);
      EXPECT_GE(t->partitions.at(0).leader, 0);
    }
    msg::DeleteTopicsRequest del;
    del.topics.push_back({.name = topic});
    (void)co_await client.send_to_controller(del);
    co_await client.close();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 60s));
}

TEST(ClientIntegration, SaslSslWithScram) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  auto body = [&]() -> asio::awaitable<bool> {
    ClientConfig c;
    c.bootstrap_servers = rig.bootstrap("SASL_SSL");
    c.security_protocol = SecurityProtocol::sasl_ssl;
    c.ssl_context = create_ssl_context(TlsOptions{.ca_file = rig.ca_file()});
    c.sasl = SaslConfig{.mechanism = SaslConfig::Mechanism::scram_sha_512,
                        .username = rig.get("SASL_USER"),
                        .password = rig.get("SASL_PASSWORD")};
    Client client(co_await asio::this_coro::executor, c);
    co_await client.start();
    const msg::MetadataRequest md;
    const auto r = co_await client.send(md);
    EXPECT_EQ(r->cluster_id, rig.get("CLUSTER_ID"));
    co_await client.close();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 60s));
}

TEST(ClientIntegration, WrongPasswordIsAnAuthenticationErrorWithTheBrokersMessage) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  auto body = [&]() -> asio::awaitable<bool> {
    ClientConfig c;
    c.bootstrap_servers = rig.bootstrap("SASL_PLAINTEXT");
    c.security_protocol = SecurityProtocol::sasl_plaintext;
    c.sasl = SaslConfig{.mechanism = SaslConfig::Mechanism::plain,
                        .username = rig.get("SASL_USER"),
                        .password = "not-the-password"};
    Client client(co_await asio::this_coro::executor, c);
    try {
      co_await client.start();
      ADD_FAILURE() << "started with a wrong password";
    } catch (const std::system_error& e) {
      EXPECT_TRUE(is_authentication_failure(e.code())) << e.code().message() << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find("uthentication failed"), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find("not-the-password"), std::string::npos) << e.what();
    }
    co_await client.close();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 60s));
}

TEST(ClientIntegration, WrongCaIsATlsErrorNamingTheReason) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  auto body = [&]() -> asio::awaitable<bool> {
    ClientConfig c;
    c.bootstrap_servers = rig.bootstrap("SSL");
    c.security_protocol = SecurityProtocol::ssl;
    c.ssl_context = create_ssl_context(TlsOptions{.ca_file = rig.get("OTHER_CA_FILE")});
    Client client(co_await asio::this_coro::executor, c);
    try {
      co_await client.start();
      ADD_FAILURE() << "started with an untrusted broker certificate";
    } catch (const std::system_error& e) {
      EXPECT_NE(e.code(), client_errc::connection_failed) << "the TLS reason was lost: " << e.what();
      EXPECT_NE(std::string(e.what()).find("certificate verify failed"), std::string::npos) << e.what();
    }
    co_await client.close();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(), 60s));
}

}  // namespace
}  // namespace asiokafka::test
