#include "asiokafka/kafka_error.hpp"

#include <cerrno>
#include <cstdint>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include <gtest/gtest.h>

#include "asiokafka/error.hpp"

namespace asiokafka {
namespace {

// tests/data/kafka_errors.txt is Kafka's own table, printed from the Java client's
// org.apache.kafka.common.protocol.Errors by tools/errors/dump_errors.sh.
struct java_code {
  int code = 0;
  std::string name;
  bool retriable = false;
};

struct java_table {
  std::string version_line;
  std::map<int, java_code> codes;
};

java_table read_java_table() {
  const std::string path = std::string(ASIOKAFKA_TEST_DATA_DIR) + "/kafka_errors.txt";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  java_table table;
  std::string line;
  std::getline(in, table.version_line);
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    java_code row;
    std::string code, retriable;
    if (!std::getline(fields, code, '\t') || !std::getline(fields, row.name, '\t') ||
        !std::getline(fields, retriable, '\t') || (retriable != "0" && retriable != "1")) {
      throw std::runtime_error(path + ": malformed line: " + line);
    }
    row.code = std::stoi(code);
    row.retriable = retriable == "1";
    if (!table.codes.emplace(row.code, row).second) throw std::runtime_error(path + ": code twice: " + code);
  }
  return table;
}

// Codes where kafka_errc deliberately departs from the Java client, each with the reason. None
// today; a code listed here is exempt from the comparison below, and must really differ.
const std::map<int, std::string_view> deliberate_differences = {};

bool same_as_java(kafka_errc e, const java_code& java) {
  return is_known(e) && error_name(e) == java.name && is_retriable(make_error_code(e)) == java.retriable;
}

TEST(KafkaError, TheJavaTableIsComplete) {
  const java_table java = read_java_table();
  EXPECT_EQ(java.version_line.rfind("# kafka-clients 4.", 0), 0u) << java.version_line;
  // -1 .. 133 at least, as of Kafka 4.1.
  EXPECT_GE(java.codes.size(), 135u);
  for (int code = -1; code <= 133; ++code) EXPECT_TRUE(java.codes.contains(code)) << code;
}

TEST(KafkaError, EveryJavaCodeHasTheSameNumberNameAndRetriableFlag) {
  const java_table java = read_java_table();
  SCOPED_TRACE(java.version_line);
  for (const auto& [code, row] : java.codes) {
    SCOPED_TRACE(std::to_string(code) + " " + row.name);
    ASSERT_GE(code, INT16_MIN);
    ASSERT_LE(code, INT16_MAX);
    const auto e = static_cast<kafka_errc>(code);
    if (const auto it = deliberate_differences.find(code); it != deliberate_differences.end()) {
      EXPECT_FALSE(same_as_java(e, row)) << "listed as a deliberate difference but matches: " << it->second;
      continue;
    }
    ASSERT_TRUE(is_known(e)) << "kafka_errc lacks this code";
    EXPECT_EQ(static_cast<int>(e), code);
    EXPECT_EQ(error_name(e), row.name);
    EXPECT_EQ(is_retriable(make_error_code(e)), row.retriable);
    const std::error_code ec = make_kafka_error(static_cast<std::int16_t>(code));
    EXPECT_EQ(ec.value(), code);
    EXPECT_EQ(is_retriable(ec), row.retriable);
    if (code != 0) {
      ASSERT_TRUE(ec);
      EXPECT_EQ(ec.message().rfind(row.name + ": ", 0), 0u) << ec.message();
    }
  }
}

TEST(KafkaError, EveryCodeWeListIsAJavaCode) {
  const java_table java = read_java_table();
  SCOPED_TRACE(java.version_line);
  for (kafka_errc e : all_kafka_errors()) {
    const int code = static_cast<int>(e);
    if (deliberate_differences.contains(code)) continue;
    const auto it = java.codes.find(code);
    ASSERT_NE(it, java.codes.end()) << code << " " << error_name(e) << " is not in the Java client's table";
    EXPECT_EQ(error_name(e), it->second.name);
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
