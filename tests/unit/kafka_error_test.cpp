#include "asiokafka/kafka_error.hpp"

#include <cerrno>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <system_error>

#include <gtest/gtest.h>

#include "asiokafka/error.hpp"

namespace asiokafka {
namespace {

struct expected_code {
  std::int16_t code;
  std::string_view name;
  bool retriable;
};

// A representative sample checked against Kafka's Errors table (name, number, and whether
// the Java client's exception for it is a RetriableException).
constexpr expected_code samples[] = {
    {-1, "UNKNOWN_SERVER_ERROR", false},
    {1, "OFFSET_OUT_OF_RANGE", false},
    {2, "CORRUPT_MESSAGE", true},
    {3, "UNKNOWN_TOPIC_OR_PARTITION", true},
    {5, "LEADER_NOT_AVAILABLE", true},
    {6, "NOT_LEADER_OR_FOLLOWER", true},
    {7, "REQUEST_TIMED_OUT", true},
    {8, "BROKER_NOT_AVAILABLE", false},
    {9, "REPLICA_NOT_AVAILABLE", true},
    {10, "MESSAGE_TOO_LARGE", false},
    {13, "NETWORK_EXCEPTION", true},
    {14, "COORDINATOR_LOAD_IN_PROGRESS", true},
    {15, "COORDINATOR_NOT_AVAILABLE", true},
    {16, "NOT_COORDINATOR", true},
    {17, "INVALID_TOPIC_EXCEPTION", false},
    {19, "NOT_ENOUGH_REPLICAS", true},
    {20, "NOT_ENOUGH_REPLICAS_AFTER_APPEND", true},
    {22, "ILLEGAL_GENERATION", false},
    {25, "UNKNOWN_MEMBER_ID", false},
    {27, "REBALANCE_IN_PROGRESS", false},
    {29, "TOPIC_AUTHORIZATION_FAILED", false},
    {35, "UNSUPPORTED_VERSION", false},
    {36, "TOPIC_ALREADY_EXISTS", false},
    {41, "NOT_CONTROLLER", true},
    {42, "INVALID_REQUEST", false},
    {45, "OUT_OF_ORDER_SEQUENCE_NUMBER", false},
    {47, "INVALID_PRODUCER_EPOCH", false},
    {51, "CONCURRENT_TRANSACTIONS", true},
    {56, "KAFKA_STORAGE_ERROR", true},
    {58, "SASL_AUTHENTICATION_FAILED", false},
    {59, "UNKNOWN_PRODUCER_ID", false},
    {70, "FETCH_SESSION_ID_NOT_FOUND", true},
    {71, "INVALID_FETCH_SESSION_EPOCH", true},
    {72, "LISTENER_NOT_FOUND", true},
    {74, "FENCED_LEADER_EPOCH", true},
    {75, "UNKNOWN_LEADER_EPOCH", true},
    {76, "UNSUPPORTED_COMPRESSION_TYPE", false},
    {78, "OFFSET_NOT_AVAILABLE", true},
    {79, "MEMBER_ID_REQUIRED", false},
    {82, "FENCED_INSTANCE_ID", false},
    {84, "ELECTION_NOT_NEEDED", true},
    {88, "UNSTABLE_OFFSET_COMMIT", true},
    {89, "THROTTLING_QUOTA_EXCEEDED", true},
    {90, "PRODUCER_FENCED", false},
    {100, "UNKNOWN_TOPIC_ID", true},
    {103, "INCONSISTENT_TOPIC_ID", true},
    {106, "FETCH_SESSION_TOPIC_ID_ERROR", true},
    {110, "FENCED_MEMBER_EPOCH", false},
    {113, "STALE_MEMBER_EPOCH", false},
    {120, "TRANSACTION_ABORTABLE", false},
    {122, "SHARE_SESSION_NOT_FOUND", true},
    {128, "INVALID_REGULAR_EXPRESSION", false},
    {129, "REBOOTSTRAP_REQUIRED", false},
    {132, "STREAMS_TOPOLOGY_FENCED", false},
    {133, "SHARE_SESSION_LIMIT_REACHED", true},
};

TEST(KafkaError, NamesAndRetriableFlagsMatchKafka) {
  for (const auto& s : samples) {
    const std::error_code ec = make_kafka_error(s.code);
    ASSERT_TRUE(ec) << s.name;
    EXPECT_EQ(ec.value(), s.code);
    EXPECT_EQ(error_name(static_cast<kafka_errc>(s.code)), s.name);
    EXPECT_EQ(is_retriable(ec), s.retriable) << s.name;
    EXPECT_EQ(ec.message().rfind(std::string(s.name) + ": ", 0), 0u) << ec.message();
  }
}

TEST(KafkaError, CategoryAndEnumConversion) {
  const std::error_code ec = kafka_errc::not_leader_or_follower;
  EXPECT_STREQ(ec.category().name(), "kafka");
  EXPECT_EQ(ec.value(), 6);
  EXPECT_EQ(ec, make_kafka_error(6));
  EXPECT_NE(ec, make_kafka_error(5));
  EXPECT_NE(ec, std::error_code(6, std::generic_category()));
}

TEST(KafkaError, EveryCodeHasADistinctNameAndAMessage) {
  const auto all = all_kafka_errors();
  ASSERT_GE(all.size(), 135u);  // -1 .. 133 at least
  std::set<std::string_view> names;
  int previous = -2;
  for (kafka_errc e : all) {
    const int v = static_cast<int>(e);
    EXPECT_EQ(v, previous + 1) << "codes are contiguous from -1";
    previous = v;
    EXPECT_TRUE(is_known(e));
    const std::string_view name = error_name(e);
    EXPECT_FALSE(name.empty()) << v;
    EXPECT_NE(name, "UNKNOWN") << v;
    EXPECT_TRUE(names.insert(name).second) << "duplicate name " << name;
    const std::string message = make_error_code(e).message();
    EXPECT_GT(message.size(), name.size() + 2) << v;
    EXPECT_EQ(message.find("unknown Kafka error code"), std::string::npos) << v;
  }
  EXPECT_EQ(static_cast<int>(all.front()), -1);
  EXPECT_EQ(static_cast<int>(kafka_errc::share_session_limit_reached), 133);
  EXPECT_LE(133, previous);
}

TEST(KafkaError, ZeroIsNoError) {
  EXPECT_FALSE(make_kafka_error(0));
  EXPECT_EQ(error_name(kafka_errc::none), "NONE");
  EXPECT_FALSE(is_retriable(make_kafka_error(0)));
  EXPECT_FALSE(is_retriable(std::error_code{}));
}

TEST(KafkaError, UnknownCodesKeepTheirNumber) {
  for (std::int16_t code : {std::int16_t{-2}, std::int16_t{9999}, std::int16_t{INT16_MAX},
                            std::int16_t{INT16_MIN}}) {
    const std::error_code ec = make_kafka_error(code);
    ASSERT_TRUE(ec);
    EXPECT_EQ(ec.category(), kafka_category());
    EXPECT_EQ(ec.value(), code);
    EXPECT_NE(ec.message().find(std::to_string(code)), std::string::npos) << ec.message();
    EXPECT_FALSE(is_known(static_cast<kafka_errc>(code)));
    EXPECT_EQ(error_name(static_cast<kafka_errc>(code)), "UNKNOWN");
    EXPECT_FALSE(is_retriable(ec));
    // All unknown codes share one generic condition.
    EXPECT_EQ(ec.default_error_condition(),
              std::error_condition(static_cast<int>(kafka_errc::unknown_server_error), kafka_category()));
  }
  // A known code's condition is itself.
  EXPECT_EQ(make_kafka_error(6).default_error_condition().value(), 6);
}

TEST(KafkaError, ClientAndConnectionConditions) {
  EXPECT_TRUE(is_retriable(client_errc::timeout));
  EXPECT_FALSE(is_retriable(client_errc::malformed));
  EXPECT_FALSE(is_retriable(client_errc::truncated));
  EXPECT_FALSE(is_retriable(client_errc::unsupported_version));
  EXPECT_FALSE(is_retriable(client_errc::crc_mismatch));
  EXPECT_TRUE(is_retriable(std::make_error_code(std::errc::connection_reset)));
  EXPECT_TRUE(is_retriable(std::error_code(ECONNREFUSED, std::system_category())));
  EXPECT_FALSE(is_retriable(std::make_error_code(std::errc::permission_denied)));
  // Same number in another category is not confused with a Kafka code.
  EXPECT_FALSE(is_retriable(std::error_code(6, std::generic_category())));
}

}  // namespace
}  // namespace asiokafka
