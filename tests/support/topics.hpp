// Topics and records through librdkafka for broker tests: a unique topic name, creating a
// topic (with configs), and reading every record back with CRC checks on.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <librdkafka/rdkafka.h>

namespace asiokafka::test {

/// `stem` plus a random number: a topic no earlier run used.
std::string unique_topic(const std::string& stem);

/// A librdkafka configuration for `bootstrap` with the given properties (checked).
rd_kafka_conf_t* rdk_conf(const std::string& bootstrap, std::initializer_list<std::pair<const char*, std::string>> kv);

/// Creates `topic` with librdkafka's admin API and waits for the answer (45 s at most).
/// Returns "" or what went wrong.
std::string create_topic_rdk(const std::string& bootstrap, const std::string& topic, int partitions,
                             int replication_factor,
                             const std::vector<std::pair<std::string, std::string>>& configs = {});

/// create_topic_rdk with replication factor 1, asserting that it worked.
void create_topic(const std::string& bootstrap, const std::string& topic, int partitions,
                  std::initializer_list<std::pair<const char*, const char*>> configs = {});

struct Consumed {
  std::optional<std::string> key, value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  std::int64_t timestamp = -1;
};

/// Reads `count` records from every partition's beginning with CRC checks on, bounded by
/// 30 s; keyed by (partition, offset).
std::map<std::pair<std::int32_t, std::int64_t>, Consumed> consume(const std::string& bootstrap,
                                                                  const std::string& topic, int partitions,
                                                                  std::size_t count);

}  // namespace asiokafka::test
