// ConsumerConfig: aiokafka's defaults, every validation rule (error code and the options the
// message names), the shared options copied out, and no credential in any message.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "asiokafka/consumer_config.hpp"
#include "asiokafka/error.hpp"

namespace asiokafka::test {
namespace {

using namespace std::chrono_literals;

// The message of the error validate() throws, or "" when it accepts the config.
std::string config_error(const ConsumerConfig& c) {
  try {
    validate(c);
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), client_errc::invalid_config) << e.what();
    return e.what();
  }
  return {};
}

// Fails unless validate() rejects `c` with a message containing every one of `words`.
void expect_rejected(const ConsumerConfig& c, const std::vector<std::string>& words) {
  const std::string msg = config_error(c);
  ASSERT_NE(msg, "") << "accepted";
  for (const auto& w : words) EXPECT_NE(msg.find(w), std::string::npos) << "'" << w << "' not in: " << msg;
}

// aiokafka 0.12's AIOKafkaConsumer defaults (docs/consumer.md lists them beside ours).
TEST(ConsumerConfigDefaults, AreAiokafkas) {
  const ConsumerConfig c;
  EXPECT_FALSE(c.group_id);                // group_id=None
  EXPECT_EQ(c.fetch_min_bytes, 1u);        // fetch_min_bytes=1
  EXPECT_EQ(c.fetch_max_bytes, 52428800u); // fetch_max_bytes=52428800
  EXPECT_EQ(c.fetch_max_wait, 500ms);      // fetch_max_wait_ms=500
  EXPECT_EQ(c.max_partition_fetch_bytes, 1048576u);
  EXPECT_FALSE(c.max_poll_records);        // max_poll_records=None
  EXPECT_EQ(c.auto_offset_reset, AutoOffsetReset::latest);
  EXPECT_TRUE(c.enable_auto_commit);
  EXPECT_EQ(c.auto_commit_interval, 5000ms);
  EXPECT_TRUE(c.check_crcs);
  EXPECT_EQ(c.consumer_timeout, 200ms);
  EXPECT_TRUE(c.exclude_internal_topics);
  EXPECT_EQ(c.isolation_level, IsolationLevel::read_uncommitted);
  EXPECT_EQ(c.client_rack, "");
  EXPECT_EQ(c.request_timeout, 40000ms);   // request_timeout_ms=40000
  EXPECT_EQ(c.retry_backoff, 100ms);       // retry_backoff_ms=100
  EXPECT_EQ(c.metadata_max_age, 300000ms); // metadata_max_age_ms=300000
  EXPECT_EQ(c.connections_max_idle, 540000ms);
  EXPECT_EQ(c.bootstrap_servers, "localhost");
  EXPECT_EQ(c.security_protocol, SecurityProtocol::plaintext);
  // Ours: librdkafka's queued.max.messages.kbytes (64 MiB).
  EXPECT_EQ(c.fetch_buffer_memory, 64u * 1024 * 1024);
  // The Fetch request's isolation_level values.
  EXPECT_EQ(static_cast<std::int8_t>(IsolationLevel::read_uncommitted), 0);
  EXPECT_EQ(static_cast<std::int8_t>(IsolationLevel::read_committed), 1);
}

// The shared options default exactly as ClientConfig's (one set of defaults for every client).
TEST(ConsumerConfigDefaults, SharedOptionsDefaultAsClientConfig) {
  const ClientConfig want;
  const ClientConfig got = client_config_of(ConsumerConfig{});
  EXPECT_EQ(got.bootstrap_servers, want.bootstrap_servers);
  EXPECT_EQ(got.client_id, want.client_id);
  EXPECT_EQ(got.request_timeout, want.request_timeout);
  EXPECT_EQ(got.connect_timeout, want.connect_timeout);
  EXPECT_EQ(got.metadata_max_age, want.metadata_max_age);
  EXPECT_EQ(got.retry_backoff, want.retry_backoff);
  EXPECT_EQ(got.reconnect_backoff, want.reconnect_backoff);
  EXPECT_EQ(got.reconnect_backoff_max, want.reconnect_backoff_max);
  EXPECT_EQ(got.connections_max_idle, want.connections_max_idle);
  EXPECT_EQ(got.security_protocol, want.security_protocol);
  EXPECT_EQ(got.ssl_context, want.ssl_context);
  EXPECT_EQ(got.ssl_check_hostname, want.ssl_check_hostname);
  EXPECT_EQ(got.sasl.has_value(), want.sasl.has_value());
  EXPECT_EQ(got.max_in_flight_requests_per_connection, want.max_in_flight_requests_per_connection);
  EXPECT_EQ(got.max_response_bytes, want.max_response_bytes);
  EXPECT_EQ(got.allow_auto_create_topics, want.allow_auto_create_topics);
}

TEST(ConsumerConfigDefaults, AreValid) { EXPECT_EQ(config_error(ConsumerConfig{}), ""); }

TEST(ConsumerConfigDefaults, DesignatedInitializers) {
  const ConsumerConfig c{
      .bootstrap_servers = "localhost:9092",
      .group_id = "g",
      .fetch_max_wait = 100ms,
      .max_poll_records = 500,
      .auto_offset_reset = AutoOffsetReset::earliest,
      .isolation_level = IsolationLevel::read_committed,
      .client_rack = "rack-1",
  };
  EXPECT_EQ(config_error(c), "");
  EXPECT_EQ(*c.group_id, "g");
  EXPECT_EQ(*c.max_poll_records, 500u);
}

TEST(ConsumerConfigValidation, Sizes) {
  expect_rejected({.fetch_max_bytes = 0}, {"ConsumerConfig.fetch_max_bytes", "> 0"});
  expect_rejected({.max_partition_fetch_bytes = 0}, {"ConsumerConfig.max_partition_fetch_bytes", "> 0"});
  expect_rejected({.fetch_buffer_memory = 0}, {"ConsumerConfig.fetch_buffer_memory", "> 0"});
  // fetch_min_bytes 0 is meaningful (answer at once), as in the Java client.
  EXPECT_EQ(config_error({.fetch_min_bytes = 0}), "");
  EXPECT_EQ(config_error({.fetch_max_bytes = 1, .max_partition_fetch_bytes = 1, .fetch_buffer_memory = 1}), "");
}

TEST(ConsumerConfigValidation, SizesFitTheFetchRequest) {
  const std::size_t too_big = std::size_t{1} << 31;  // INT32_MAX + 1
  expect_rejected({.fetch_min_bytes = too_big}, {"ConsumerConfig.fetch_min_bytes", "2147483648", "2147483647"});
  expect_rejected({.max_response_bytes = too_big, .fetch_max_bytes = too_big},
                  {"ConsumerConfig.fetch_max_bytes", "2147483648"});
  expect_rejected({.max_partition_fetch_bytes = too_big, .fetch_buffer_memory = too_big},
                  {"ConsumerConfig.max_partition_fetch_bytes", "2147483648"});
  EXPECT_EQ(config_error({.fetch_min_bytes = too_big - 1}), "");
}

TEST(ConsumerConfigValidation, ThePartitionFetchFitsTheBuffer) {
  expect_rejected({.max_partition_fetch_bytes = 1'000'001, .fetch_buffer_memory = 1'000'000},
                  {"ConsumerConfig.max_partition_fetch_bytes", "fetch_buffer_memory", "1000001", "1000000"});
  EXPECT_EQ(config_error({.max_partition_fetch_bytes = 1'000'000, .fetch_buffer_memory = 1'000'000}), "");
  // fetch_max_bytes may exceed the buffer: fetches then ask for what room is left.
  EXPECT_EQ(config_error({.fetch_max_bytes = 90'000'000, .fetch_buffer_memory = 2'000'000}), "");
}

TEST(ConsumerConfigValidation, FetchResponsesFitMaxResponseBytes) {
  expect_rejected({.max_response_bytes = 1'000'000, .fetch_max_bytes = 1'000'001},
                  {"ConsumerConfig.fetch_max_bytes", "max_response_bytes", "1000001", "1000000"});
  EXPECT_EQ(config_error({.max_response_bytes = 1'000'000, .fetch_max_bytes = 1'000'000}), "");
}

TEST(ConsumerConfigValidation, MaxPollRecords) {
  expect_rejected({.max_poll_records = 0}, {"ConsumerConfig.max_poll_records", "> 0"});
  EXPECT_EQ(config_error({.max_poll_records = 1}), "");
}

TEST(ConsumerConfigValidation, Durations) {
  expect_rejected({.fetch_max_wait = -1ms}, {"ConsumerConfig.fetch_max_wait", "-1 ms"});
  expect_rejected({.fetch_max_wait = 2'147'483'648ms}, {"ConsumerConfig.fetch_max_wait", "2147483648 ms"});
  EXPECT_EQ(config_error({.fetch_max_wait = 0ms}), "");
  expect_rejected({.consumer_timeout = -1ms}, {"ConsumerConfig.consumer_timeout", "-1 ms"});
  EXPECT_EQ(config_error({.consumer_timeout = 0ms}), "");
  expect_rejected({.auto_commit_interval = 0ms}, {"ConsumerConfig.auto_commit_interval", "enable_auto_commit", "0 ms"});
  expect_rejected({.group_id = "g", .auto_commit_interval = -5ms}, {"ConsumerConfig.auto_commit_interval", "-5 ms"});
  EXPECT_EQ(config_error({.enable_auto_commit = false, .auto_commit_interval = 0ms}), "");
}

TEST(ConsumerConfigValidation, GroupId) {
  expect_rejected({.group_id = ""}, {"ConsumerConfig.group_id", "empty"});
  // Auto-commit without a group is accepted (and ignored), as in aiokafka.
  EXPECT_EQ(config_error({.enable_auto_commit = true}), "");
  EXPECT_EQ(config_error({.group_id = "g", .enable_auto_commit = true}), "");
}

TEST(ConsumerConfigValidation, UnknownEnumValues) {
  expect_rejected({.auto_offset_reset = static_cast<AutoOffsetReset>(7)}, {"ConsumerConfig.auto_offset_reset", "7"});
  expect_rejected({.isolation_level = static_cast<IsolationLevel>(2)}, {"ConsumerConfig.isolation_level", "2"});
  for (auto r : {AutoOffsetReset::earliest, AutoOffsetReset::latest, AutoOffsetReset::none}) {
    EXPECT_EQ(config_error({.auto_offset_reset = r}), "");
  }
}

// The group options: aiokafka's defaults, and every rule of docs/consumer_groups.md.
TEST(ConsumerConfigDefaults, GroupOptionsAreAiokafkas) {
  const ConsumerConfig c;
  EXPECT_FALSE(c.group_instance_id);
  EXPECT_EQ(c.partition_assignment_strategy, std::vector<PartitionAssignor>{PartitionAssignor::roundrobin});
  EXPECT_EQ(c.session_timeout, 10'000ms);
  EXPECT_EQ(c.heartbeat_interval, 3'000ms);
  EXPECT_FALSE(c.rebalance_timeout);  // aiokafka: None, meaning session_timeout_ms
  EXPECT_EQ(c.max_poll_interval, 300'000ms);
  EXPECT_EQ(c.retry_backoff_max, 1'000ms);
  EXPECT_EQ(c.group_protocol, GroupProtocol::classic);  // docs/consumer.md says why
  EXPECT_FALSE(c.group_remote_assignor);
}

TEST(ConsumerConfigValidation, GroupOptions) {
  expect_rejected({.group_id = "g", .group_instance_id = ""}, {"ConsumerConfig.group_instance_id", "empty"});
  expect_rejected({.group_instance_id = "i"}, {"ConsumerConfig.group_instance_id", "group_id"});
  EXPECT_EQ(config_error({.group_id = "g", .group_instance_id = "i"}), "");
  expect_rejected({.partition_assignment_strategy = {}}, {"ConsumerConfig.partition_assignment_strategy", "empty"});
  expect_rejected({.partition_assignment_strategy = {PartitionAssignor::range, PartitionAssignor::range}},
                  {"ConsumerConfig.partition_assignment_strategy", "twice"});
  expect_rejected({.partition_assignment_strategy = {static_cast<PartitionAssignor>(9)}},
                  {"ConsumerConfig.partition_assignment_strategy", "9"});
  EXPECT_EQ(config_error({.partition_assignment_strategy = {PartitionAssignor::range, PartitionAssignor::roundrobin,
                                                             PartitionAssignor::sticky,
                                                             PartitionAssignor::cooperative_sticky}}),
            "");
  expect_rejected({.session_timeout = 0ms}, {"ConsumerConfig.session_timeout"});
  expect_rejected({.session_timeout = std::chrono::milliseconds(std::int64_t{1} << 31)}, {"ConsumerConfig.session_timeout"});
  expect_rejected({.session_timeout = 6'000ms, .heartbeat_interval = 6'000ms},
                  {"ConsumerConfig.heartbeat_interval", "session_timeout", "6000 ms"});
  expect_rejected({.heartbeat_interval = 0ms}, {"ConsumerConfig.heartbeat_interval"});
  EXPECT_EQ(config_error({.session_timeout = 6'000ms, .heartbeat_interval = 5'999ms}), "");
  expect_rejected({.rebalance_timeout = 0ms}, {"ConsumerConfig.rebalance_timeout"});
  EXPECT_EQ(config_error({.rebalance_timeout = 60'000ms}), "");
  expect_rejected({.max_poll_interval = 0ms}, {"ConsumerConfig.max_poll_interval"});
  expect_rejected({.group_protocol = static_cast<GroupProtocol>(7)}, {"ConsumerConfig.group_protocol", "7"});
  expect_rejected({.group_protocol = GroupProtocol::consumer, .group_remote_assignor = ""},
                  {"ConsumerConfig.group_remote_assignor", "empty"});
  expect_rejected({.group_remote_assignor = "range"}, {"ConsumerConfig.group_remote_assignor", "classic"});
  EXPECT_EQ(config_error({.group_protocol = GroupProtocol::consumer, .group_remote_assignor = "range"}), "");
  expect_rejected({.retry_backoff_max = -1ms}, {"ConsumerConfig.retry_backoff_max"});
  // Below retry_backoff is allowed: a constant backoff, as in the Java client.
  EXPECT_EQ(config_error({.retry_backoff = 500ms, .retry_backoff_max = 100ms}), "");
}

// The shared options are checked too, named as the user wrote them (ConsumerConfig.x).
TEST(ConsumerConfigValidation, SharedOptionsAreChecked) {
  expect_rejected({.bootstrap_servers = "x:99999"}, {"ConsumerConfig.bootstrap_servers", "x:99999"});
  expect_rejected({.request_timeout = 0ms}, {"ConsumerConfig.request_timeout"});
  expect_rejected({.security_protocol = SecurityProtocol::sasl_ssl}, {"ConsumerConfig.sasl"});
  const std::string msg = config_error({.request_timeout = 0ms});
  EXPECT_EQ(msg.find("ClientConfig."), std::string::npos) << msg;
}

TEST(ConsumerConfigValidation, CredentialsNeverInMessages) {
  const std::string secret = "hunter2-very-secret";
  const SaslConfig sasl{.username = "alice", .password = secret};
  const ConsumerConfig bad[] = {
      {.sasl = sasl},
      {.security_protocol = SecurityProtocol::sasl_plaintext, .sasl = sasl, .fetch_max_bytes = 0},
      {.bootstrap_servers = "h:0", .security_protocol = SecurityProtocol::sasl_plaintext, .sasl = sasl},
  };
  for (const auto& c : bad) {
    const std::string msg = config_error(c);
    EXPECT_NE(msg, "");
    EXPECT_EQ(msg.find(secret), std::string::npos) << "a credential leaked: " << msg;
  }
  EXPECT_EQ(config_error({.security_protocol = SecurityProtocol::sasl_plaintext, .sasl = sasl}), "");
}

// Every shared field set to a value other than its default comes out unchanged.
TEST(ConsumerClientConfigOf, CopiesEverySharedField) {
  auto tls = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
  const ConsumerConfig c{
      .bootstrap_servers = "a:1,b:2",
      .client_id = "my-consumer",
      .request_timeout = 1'001ms,
      .connect_timeout = 1'002ms,
      .metadata_max_age = 1'003ms,
      .retry_backoff = 1'004ms,
      .reconnect_backoff = 1'005ms,
      .reconnect_backoff_max = 1'006ms,
      .connections_max_idle = 1'007ms,
      .security_protocol = SecurityProtocol::sasl_ssl,
      .ssl_context = tls,
      .ssl_check_hostname = false,
      .sasl = SaslConfig{.mechanism = SaslConfig::Mechanism::scram_sha_512, .username = "u", .password = "p"},
      .max_in_flight_requests_per_connection = 3,
      .max_response_bytes = 4096,
      .allow_auto_create_topics = false,
      .fetch_max_bytes = 4096,
  };
  const ClientConfig d;
  const ClientConfig got = client_config_of(c);
  EXPECT_NE(got.bootstrap_servers, d.bootstrap_servers);
  EXPECT_EQ(got.bootstrap_servers, "a:1,b:2");
  EXPECT_EQ(got.client_id, "my-consumer");
  EXPECT_EQ(got.request_timeout, 1'001ms);
  EXPECT_EQ(got.connect_timeout, 1'002ms);
  EXPECT_EQ(got.metadata_max_age, 1'003ms);
  EXPECT_EQ(got.retry_backoff, 1'004ms);
  EXPECT_EQ(got.reconnect_backoff, 1'005ms);
  EXPECT_EQ(got.reconnect_backoff_max, 1'006ms);
  EXPECT_EQ(got.connections_max_idle, 1'007ms);
  EXPECT_EQ(got.security_protocol, SecurityProtocol::sasl_ssl);
  EXPECT_EQ(got.ssl_context, tls);
  EXPECT_FALSE(got.ssl_check_hostname);
  ASSERT_TRUE(got.sasl);
  EXPECT_EQ(got.sasl->mechanism, SaslConfig::Mechanism::scram_sha_512);
  EXPECT_EQ(got.sasl->username, "u");
  EXPECT_EQ(got.sasl->password, "p");
  EXPECT_EQ(got.max_in_flight_requests_per_connection, 3u);
  EXPECT_EQ(got.max_response_bytes, 4096u);
  EXPECT_FALSE(got.allow_auto_create_topics);
  EXPECT_EQ(config_error(c), "");
}

}  // namespace
}  // namespace asiokafka::test
