// host:port parsing and printing (src/net/sansio/address.hpp): the one parser behind
// bootstrap_servers, probe addresses and the test fixtures.
#include "net/sansio/address.hpp"

#include <gtest/gtest.h>

namespace asiokafka::net {
namespace {

std::optional<BrokerAddress> parse(std::string_view text, std::string* why = nullptr) {
  std::string reason;
  auto out = parse_host_port(text, 9092, reason);
  if (why != nullptr) *why = reason;
  return out;
}

TEST(Address, HostPortForms) {
  EXPECT_EQ(parse("kafka1"), (BrokerAddress{"kafka1", 9092}));
  EXPECT_EQ(parse("kafka1:19092"), (BrokerAddress{"kafka1", 19092}));
  EXPECT_EQ(parse("SASL_SSL://kafka1:1"), (BrokerAddress{"kafka1", 1}));
  EXPECT_EQ(parse("[::1]:9093"), (BrokerAddress{"::1", 9093}));
  EXPECT_EQ(parse("[fe80::1]"), (BrokerAddress{"fe80::1", 9092}));
  EXPECT_EQ(parse("::1"), (BrokerAddress{"::1", 9092}));  // a bare IPv6 literal has no port
  EXPECT_EQ(parse("127.0.0.1:65535"), (BrokerAddress{"127.0.0.1", 65535}));
}

TEST(Address, BadFormsSayWhy) {
  std::string why;
  EXPECT_FALSE(parse("kafka1:0", &why));
  EXPECT_NE(why.find("port"), std::string::npos);
  EXPECT_FALSE(parse("kafka1:65536", &why));
  EXPECT_FALSE(parse("kafka1:", &why));
  EXPECT_FALSE(parse("kafka1:x1", &why));
  EXPECT_FALSE(parse(":9092", &why));
  EXPECT_NE(why.find("host"), std::string::npos);
  EXPECT_FALSE(parse("[::1", &why));
  EXPECT_FALSE(parse("[]:1", &why));
  EXPECT_FALSE(parse("[::1]9092", &why));
}

TEST(Address, IpLiteralsAndPrinting) {
  EXPECT_TRUE(is_ip_literal("127.0.0.1"));
  EXPECT_TRUE(is_ip_literal("::1"));
  EXPECT_TRUE(is_ip_literal("2001:db8::8:800:200c:417a"));
  EXPECT_FALSE(is_ip_literal("localhost"));
  EXPECT_FALSE(is_ip_literal("[::1]"));
  EXPECT_FALSE(is_ip_literal(""));
  EXPECT_FALSE(is_ip_literal(std::string(100, '1')));
  EXPECT_EQ(format_address("::1", 9092), "[::1]:9092");
  EXPECT_EQ(format_address("127.0.0.1", 1), "127.0.0.1:1");
  EXPECT_EQ(format_address("kafka1", 9092), "kafka1:9092");
}

}  // namespace
}  // namespace asiokafka::net
