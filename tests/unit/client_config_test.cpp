// ClientConfig validation and bootstrap_servers parsing (no network).
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include <boost/asio/io_context.hpp>

#include "asiokafka/client.hpp"
#include "asiokafka/error.hpp"

namespace asiokafka::test {
namespace {

using namespace std::chrono_literals;

std::string config_error(const ClientConfig& c) {
  try {
    validate(c);
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), client_errc::invalid_config);
    return e.what();
  }
  return {};
}

TEST(BootstrapServers, HostsPortsAndDefaults) {
  const auto list = parse_bootstrap_servers("kafka1:9093, kafka2 ,[::1]:19092,[fe80::1], PLAINTEXT://k3:1234,10.0.0.1");
  ASSERT_EQ(list.size(), 6u);
  EXPECT_EQ(list[0], (BrokerAddress{"kafka1", 9093}));
  EXPECT_EQ(list[1], (BrokerAddress{"kafka2", 9092}));
  EXPECT_EQ(list[2], (BrokerAddress{"::1", 19092}));
  EXPECT_EQ(list[3], (BrokerAddress{"fe80::1", 9092}));
  EXPECT_EQ(list[4], (BrokerAddress{"k3", 1234}));
  EXPECT_EQ(list[5], (BrokerAddress{"10.0.0.1", 9092}));
}

TEST(BootstrapServers, DuplicatesAreDropped) {
  EXPECT_EQ(parse_bootstrap_servers("a:1,a:1,b").size(), 2u);
}

TEST(BootstrapServers, BadEntriesNameTheEntry) {
  for (const char* bad : {"", " , ", "host:", "host:0", "host:65536", "host:12ab", "[::1", ":9092", "[]:1", "[::1]x"}) {
    try {
      (void)parse_bootstrap_servers(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), client_errc::invalid_config) << bad;
      EXPECT_NE(std::string(e.what()).find("bootstrap_servers"), std::string::npos) << e.what();
    }
  }
}

TEST(ClientConfigValidation, DefaultsAreValid) { EXPECT_EQ(config_error(ClientConfig{}), ""); }

TEST(ClientConfigValidation, EachBadOptionIsNamed) {
  ClientConfig c;
  c.request_timeout = 0ms;
  EXPECT_NE(config_error(c).find("request_timeout"), std::string::npos);
  c = {};
  c.reconnect_backoff = -1ms;
  EXPECT_NE(config_error(c).find("reconnect_backoff"), std::string::npos);
  c = {};
  c.max_in_flight_requests_per_connection = 0;
  EXPECT_NE(config_error(c).find("max_in_flight_requests_per_connection"), std::string::npos);
  c = {};
  c.security_protocol = SecurityProtocol::sasl_plaintext;
  EXPECT_NE(config_error(c).find("ClientConfig.sasl"), std::string::npos);
  c = {};
  c.sasl = SaslConfig{.username = "u", .password = "hunter2-secret"};
  const auto msg = config_error(c);
  EXPECT_NE(msg.find("security_protocol"), std::string::npos);
  EXPECT_EQ(msg.find("hunter2-secret"), std::string::npos) << "a credential leaked: " << msg;
  c = {};
  c.bootstrap_servers = "x:99999";
  EXPECT_NE(config_error(c).find("bootstrap_servers"), std::string::npos);
}

TEST(ClientConfigValidation, TheConstructorValidates) {
  boost::asio::io_context io;
  ClientConfig c;
  c.connect_timeout = 0ms;
  try {
    Client client(io.get_executor(), c);
    ADD_FAILURE() << "constructed with connect_timeout 0";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), client_errc::invalid_config);
  }
}

TEST(ConnectionPurposes, HeartbeatsDoNotShareAFetchConnection) {
  EXPECT_EQ(purpose_of(0), ConnectionPurpose::produce);
  EXPECT_EQ(purpose_of(1), ConnectionPurpose::fetch);
  for (const int key : {8, 9, 11, 12, 13, 14, 28, 68}) {
    EXPECT_EQ(purpose_of(static_cast<std::int16_t>(key)), ConnectionPurpose::group) << key;
  }
  for (const int key : {2, 3, 10, 18, 19}) {
    EXPECT_EQ(purpose_of(static_cast<std::int16_t>(key)), ConnectionPurpose::other) << key;
  }
}

}  // namespace
}  // namespace asiokafka::test
