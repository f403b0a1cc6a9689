// An in-process librdkafka mock cluster (rdkafka_mock.h) for fault-injection tests.
// Test-only: the library never depends on librdkafka.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

struct rd_kafka_s;
struct rd_kafka_mock_cluster_s;

namespace asiokafka::test {

class MockCluster {
 public:
  /// Starts `brokers` mock brokers listening on 127.0.0.1 ephemeral ports.
  explicit MockCluster(int brokers = 3);
  ~MockCluster();
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  /// "127.0.0.1:port,..." for every broker.
  std::string bootstrap() const;
  /// The address of one broker (ids start at 1).
  std::string broker_address(std::int32_t broker_id) const;
  int broker_count() const noexcept { return brokers_; }

  /// The next `errors.size()` requests of `api_key` (to any broker) fail with these Kafka codes.
  void push_request_errors(std::int16_t api_key, const std::vector<std::int16_t>& errors);
  /// Same for one broker, each entry also delaying that response by its round-trip time.
  void push_broker_request_errors(std::int32_t broker_id, std::int16_t api_key,
                                  const std::vector<std::pair<std::int16_t, std::chrono::milliseconds>>& errors);
  /// Requests of `api_key` still queued with injected errors on a broker.
  std::size_t pending_errors(std::int32_t broker_id, std::int16_t api_key) const;

  void broker_down(std::int32_t broker_id);
  void broker_up(std::int32_t broker_id);
  void set_rtt(std::int32_t broker_id, std::chrono::milliseconds rtt);
  void set_rack(std::int32_t broker_id, const std::string& rack);

  void create_topic(const std::string& topic, int partitions, int replication_factor);
  void set_partition_leader(const std::string& topic, std::int32_t partition, std::int32_t broker_id);
  /// key_type is "group" or "transaction".
  void set_coordinator(const std::string& key_type, const std::string& key, std::int32_t broker_id);
  /// Limits the versions the mock announces for `api_key` (-1,-1 removes the API).
  void set_api_versions(std::int16_t api_key, std::int16_t min_version, std::int16_t max_version);

 private:
  void check(int err, const char* what) const;

  int brokers_;
  rd_kafka_s* handle_ = nullptr;
  rd_kafka_mock_cluster_s* cluster_ = nullptr;
};

}  // namespace asiokafka::test
