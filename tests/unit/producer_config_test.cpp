// ProducerConfig: documented defaults, every validation rule (error code and the options the
// message names), the shared options copied out, and no credential in any message.
#include <gtest/gtest.h>
#include <zstd.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "asiokafka/error.hpp"
#include "asiokafka/producer_config.hpp"

namespace asiokafka::test {
namespace {

using namespace std::chrono_literals;
using protocol::CompressionType;

// The message of the error validate() throws, or "" when it accepts the config.
std::string config_error(const ProducerConfig& c) {
  try {
    validate(c);
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), client_errc::invalid_config) << e.what();
    return e.what();
  }
  return {};
}

// Fails unless validate() rejects `c` with a message containing every one of `words`.
void expect_rejected(const ProducerConfig& c, const std::vector<std::string>& words) {
  const std::string msg = config_error(c);
  ASSERT_NE(msg, "") << "accepted";
  for (const auto& w : words) EXPECT_NE(msg.find(w), std::string::npos) << "'" << w << "' not in: " << msg;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(ProducerConfigDefaults, AreTheDocumentedOnes) {
  const ProducerConfig c;
  EXPECT_EQ(c.acks, Acks::all);
  EXPECT_TRUE(c.enable_idempotence);
  EXPECT_EQ(c.compression_type, CompressionType::none);
  EXPECT_FALSE(c.compression_level);
  EXPECT_EQ(c.max_batch_size, 16384u);
  EXPECT_EQ(c.linger, 5ms);
  EXPECT_EQ(c.max_request_size, 1048576u);
  EXPECT_EQ(c.buffer_memory, 32u * 1024 * 1024);
  EXPECT_EQ(c.max_block, 60s);
  EXPECT_EQ(c.delivery_timeout, 120s);
  EXPECT_FALSE(c.partitioner);
  EXPECT_FALSE(c.transactional_id);
  EXPECT_EQ(static_cast<std::int16_t>(Acks::none), 0);
  EXPECT_EQ(static_cast<std::int16_t>(Acks::leader), 1);
  EXPECT_EQ(static_cast<std::int16_t>(Acks::all), -1);
}

// The shared options default exactly as ClientConfig's (one set of defaults for every client).
TEST(ProducerConfigDefaults, SharedOptionsDefaultAsClientConfig) {
  const ClientConfig want;
  const ClientConfig got = client_config_of(ProducerConfig{});
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

TEST(ProducerConfigDefaults, AreValid) { EXPECT_EQ(config_error(ProducerConfig{}), ""); }

// The spelling users write: a flat aggregate with designated initializers, a partitioner lambda.
TEST(ProducerConfigDefaults, DesignatedInitializersAndAPartitioner) {
  const ProducerConfig c{
      .bootstrap_servers = "localhost:9092",
      .acks = Acks::all,
      .linger = 10ms,
      .partitioner = [](std::string_view topic, std::optional<protocol::byte_view> key,
                        std::span<const std::int32_t> all, std::span<const std::int32_t>) {
        return static_cast<std::int32_t>(topic.size() + (key ? key->size() : 0)) % static_cast<std::int32_t>(all.size());
      },
  };
  EXPECT_EQ(config_error(c), "");
  const std::vector<std::int32_t> parts{0, 1, 2};
  const std::vector<std::uint8_t> key{1, 2};
  EXPECT_EQ(c.partitioner("abcd", protocol::byte_view(key), parts, parts), 0);  // (4 + 2) % 3
  EXPECT_EQ(c.partitioner("abcd", std::nullopt, parts, parts), 1);
}

TEST(ProducerConfigValidation, IdempotenceRequiresAcksAll) {
  expect_rejected({.acks = Acks::leader}, {"enable_idempotence", "acks=all", "acks=1"});
  expect_rejected({.acks = Acks::none}, {"enable_idempotence", "acks=all", "acks=0"});
  EXPECT_EQ(config_error({.acks = Acks::leader, .enable_idempotence = false}), "");
  EXPECT_EQ(config_error({.acks = Acks::none, .enable_idempotence = false}), "");
  EXPECT_EQ(config_error({.acks = Acks::all, .enable_idempotence = false}), "");
}

TEST(ProducerConfigValidation, IdempotenceAllowsAtMostFiveInFlight) {
  expect_rejected({.max_in_flight_requests_per_connection = 6},
                  {"enable_idempotence", "max_in_flight_requests_per_connection", "got 6"});
  EXPECT_EQ(config_error({.max_in_flight_requests_per_connection = 5}), "");
  EXPECT_EQ(config_error({.max_in_flight_requests_per_connection = 6, .enable_idempotence = false}), "");
  // The shared rule still applies through ProducerConfig.
  expect_rejected({.max_in_flight_requests_per_connection = 0}, {"ProducerConfig.max_in_flight_requests_per_connection"});
}

TEST(ProducerConfigValidation, BatchSizeBounds) {
  expect_rejected({.max_batch_size = 0}, {"max_batch_size", "> 0"});
  expect_rejected({.max_batch_size = 2'000'000}, {"max_batch_size", "max_request_size", "2000000", "1048576"});
  expect_rejected({.max_batch_size = 1000, .max_request_size = 999}, {"max_batch_size", "max_request_size"});
  EXPECT_EQ(config_error({.max_batch_size = 1000, .max_request_size = 1000}), "");
  EXPECT_EQ(config_error({.max_batch_size = 1}), "");
}

TEST(ProducerConfigValidation, BufferMemoryHoldsABatch) {
  expect_rejected({.max_batch_size = 16384, .buffer_memory = 16383}, {"buffer_memory", "max_batch_size", "16383"});
  EXPECT_EQ(config_error({.max_batch_size = 16384, .buffer_memory = 16384}), "");
}

TEST(ProducerConfigValidation, DeliveryTimeoutCoversLingerAndRequestTimeout) {
  expect_rejected({.request_timeout = 30s, .linger = 100ms, .delivery_timeout = 30'099ms},
                  {"delivery_timeout", "linger", "request_timeout", "30099 ms", "100 ms", "30000 ms"});
  EXPECT_EQ(config_error({.request_timeout = 30s, .linger = 100ms, .delivery_timeout = 30'100ms}), "");
  // "Forever" values must not overflow the check (UBSan watches this under the asan preset).
  const auto forever = std::chrono::milliseconds::max();
  expect_rejected({.linger = forever, .delivery_timeout = forever}, {"delivery_timeout", "linger"});
  EXPECT_EQ(config_error({.request_timeout = forever, .linger = 0ms, .delivery_timeout = forever}), "");
  EXPECT_EQ(config_error({.max_block = forever, .delivery_timeout = forever}), "");
}

TEST(ProducerConfigValidation, NegativeDurations) {
  expect_rejected({.linger = -1ms}, {"ProducerConfig.linger", ">= 0", "-1 ms"});
  expect_rejected({.max_block = -1ms}, {"ProducerConfig.max_block", ">= 0"});
  expect_rejected({.delivery_timeout = -1ms}, {"ProducerConfig.delivery_timeout", ">= 0"});
  expect_rejected({.retry_backoff = -1ms}, {"ProducerConfig.retry_backoff"});
  EXPECT_EQ(config_error({.linger = 0ms, .max_block = 0ms}), "");
}

TEST(ProducerConfigValidation, CompressionLevelsPerCodec) {
  struct Case {
    CompressionType codec;
    int level;
    bool ok;
  };
  const Case cases[] = {
      {CompressionType::gzip, 1, true},    {CompressionType::gzip, 9, true},   {CompressionType::gzip, 0, false},
      {CompressionType::gzip, 10, false},  {CompressionType::gzip, -1, false}, {CompressionType::lz4, 1, true},
      {CompressionType::lz4, 12, true},    {CompressionType::lz4, 0, false},   {CompressionType::lz4, 13, false},
      {CompressionType::zstd, 1, true},    {CompressionType::zstd, 0, true},   {CompressionType::zstd, -7, true},
      {CompressionType::zstd, 22, true},   {CompressionType::zstd, 23, false}, {CompressionType::none, 1, false},
      {CompressionType::snappy, 1, false},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE("codec " + std::to_string(static_cast<int>(k.codec)) + " level " + std::to_string(k.level));
    const ProducerConfig c{.compression_type = k.codec, .compression_level = k.level};
    if (k.ok) {
      EXPECT_EQ(config_error(c), "");
    } else {
      expect_rejected(c, {"compression_level", "compression_type", std::to_string(k.level)});
    }
  }
  for (auto codec : {CompressionType::none, CompressionType::gzip, CompressionType::snappy, CompressionType::lz4,
                     CompressionType::zstd}) {
    EXPECT_EQ(config_error({.compression_type = codec}), "") << "no level: the codec's default";
  }
}

// zstd's range is the library's own (our codec passes it through unclamped); the linked
// libzstd is the reference, so a library with another range fails here rather than in use.
TEST(ProducerConfigValidation, ZstdLevelsAreTheLibrarysRange) {
  const int lo = ZSTD_minCLevel(), hi = ZSTD_maxCLevel();
  EXPECT_EQ(config_error({.compression_type = CompressionType::zstd, .compression_level = lo}), "");
  EXPECT_EQ(config_error({.compression_type = CompressionType::zstd, .compression_level = hi}), "");
  expect_rejected({.compression_type = CompressionType::zstd, .compression_level = lo - 1}, {"compression_level"});
  expect_rejected({.compression_type = CompressionType::zstd, .compression_level = hi + 1}, {"compression_level"});
}

TEST(ProducerConfigValidation, UnknownEnumValues) {
  expect_rejected({.compression_type = static_cast<CompressionType>(5)}, {"compression_type", "5"});
  expect_rejected({.compression_type = static_cast<CompressionType>(-1)}, {"compression_type", "-1"});
  expect_rejected({.acks = static_cast<Acks>(2), .enable_idempotence = false}, {"ProducerConfig.acks", "2"});
}

TEST(ProducerConfigValidation, TransactionalIdIsNotSupportedYet) {
  expect_rejected({.transactional_id = "tx-1"}, {"transactional_id", "not supported"});
}

// The shared options are checked too, named as the user wrote them (ProducerConfig.x), and the
// error's own text is not repeated.
TEST(ProducerConfigValidation, SharedOptionsAreChecked) {
  expect_rejected({.bootstrap_servers = "x:99999"}, {"ProducerConfig.bootstrap_servers", "x:99999"});
  expect_rejected({.bootstrap_servers = ""}, {"ProducerConfig.bootstrap_servers"});
  expect_rejected({.request_timeout = 0ms}, {"ProducerConfig.request_timeout"});
  expect_rejected({.security_protocol = SecurityProtocol::sasl_ssl}, {"ProducerConfig.sasl"});
  const std::string category_text = make_error_code(client_errc::invalid_config).message();
  for (const ProducerConfig& c : {ProducerConfig{.request_timeout = 0ms}, ProducerConfig{.max_batch_size = 0}}) {
    const std::string msg = config_error(c);
    EXPECT_EQ(msg.find("ClientConfig."), std::string::npos) << msg;
    EXPECT_LE(count(msg, category_text), 1u) << msg;
  }
}

TEST(ProducerConfigValidation, CredentialsNeverInMessages) {
  const std::string secret = "hunter2-very-secret";
  const SaslConfig sasl{.username = "alice", .password = secret};
  const ProducerConfig bad[] = {
      {.sasl = sasl},  // sasl without a SASL security_protocol
      {.security_protocol = SecurityProtocol::sasl_plaintext, .sasl = sasl, .acks = Acks::leader},
      {.security_protocol = SecurityProtocol::sasl_plaintext, .sasl = sasl, .delivery_timeout = 1ms},
      {.bootstrap_servers = "h:0", .security_protocol = SecurityProtocol::sasl_plaintext, .sasl = sasl},
      {.security_protocol = SecurityProtocol::sasl_plaintext, .sasl = sasl, .transactional_id = "t"},
  };
  for (const auto& c : bad) {
    const std::string msg = config_error(c);
    EXPECT_NE(msg, "");
    EXPECT_EQ(msg.find(secret), std::string::npos) << "a credential leaked: " << msg;
  }
  EXPECT_EQ(config_error({.security_protocol = SecurityProtocol::sasl_plaintext, .sasl = sasl}), "");
}

// Every shared field set to a value other than its default comes out unchanged.
TEST(ClientConfigOf, CopiesEverySharedField) {
  auto tls = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
  const ProducerConfig c{
      .bootstrap_servers = "a:1,b:2",
      .client_id = "my-producer",
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
  };
  const ClientConfig d;
  const ClientConfig got = client_config_of(c);
  // Each value differs from the default, so a field left out of the copy fails below.
  EXPECT_NE(got.bootstrap_servers, d.bootstrap_servers);
  EXPECT_EQ(got.bootstrap_servers, "a:1,b:2");
  EXPECT_EQ(got.client_id, "my-producer");
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
  EXPECT_NE(d.security_protocol, SecurityProtocol::sasl_ssl);
  EXPECT_TRUE(d.ssl_check_hostname);
  EXPECT_TRUE(d.allow_auto_create_topics);
  EXPECT_NE(d.max_in_flight_requests_per_connection, 3u);
  EXPECT_EQ(config_error(c), "");
}

}  // namespace
}  // namespace asiokafka::test
