#include "support/mock_cluster.hpp"

#include <sstream>
#include <stdexcept>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

namespace asiokafka::test {

MockCluster::MockCluster(int brokers) : brokers_(brokers) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // The handle only owns the mock cluster's thread; keep it quiet and off the network.
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
  handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (handle_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("rd_kafka_new: ") + errstr);
  }
  cluster_ = rd_kafka_mock_cluster_new(handle_, brokers);
  if (cluster_ == nullptr) {
    rd_kafka_destroy(handle_);
    throw std::runtime_error("rd_kafka_mock_cluster_new failed");
  }
}

MockCluster::~MockCluster() {
  rd_kafka_mock_cluster_destroy(cluster_);
  rd_kafka_destroy(handle_);
}

std::string MockCluster::bootstrap() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }

std::string MockCluster::broker_address(std::int32_t broker_id) const {
  // The mock lists its brokers in id order in the bootstrap string.
  std::istringstream in(bootstrap());
  std::string item;
  for (std::int32_t id = 1; std::getline(in, item, ','); ++id) {
    if (id == broker_id) return item;
  }
  throw std::out_of_range("no mock broker " + std::to_string(broker_id));
}

void MockCluster::check(int err, const char* what) const {
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error(std::string(what) + ": " + rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(err)));
  }
}

void MockCluster::push_request_errors(std::int16_t api_key, const std::vector<std::int16_t>& errors) {
  std::vector<rd_kafka_resp_err_t> errs;
  for (auto e : errors) errs.push_back(static_cast<rd_kafka_resp_err_t>(e));
  rd_kafka_mock_push_request_errors_array(cluster_, api_key, errs.size(), errs.data());
}

void MockCluster::push_broker_request_errors(
    std::int32_t broker_id, std::int16_t api_key,
    const std::vector<std::pair<std::int16_t, std::chrono::milliseconds>>& errors) {
  for (const auto& [err, rtt] : errors) {
    check(rd_kafka_mock_broker_push_request_error_rtts(cluster_, broker_id, api_key, 1,
                                                       static_cast<rd_kafka_resp_err_t>(err),
                                                       static_cast<int>(rtt.count())),
          "push_broker_request_errors");
  }
}

std::size_t MockCluster::pending_errors(std::int32_t broker_id, std::int16_t api_key) const {
  std::size_t count = 0;
  check(rd_kafka_mock_broker_error_stack_cnt(cluster_, broker_id, api_key, &count), "pending_errors");
  return count;
}

void MockCluster::broker_down(std::int32_t broker_id) {
  check(rd_kafka_mock_broker_set_down(cluster_, broker_id), "broker_down");
}

void MockCluster::broker_up(std::int32_t broker_id) {
  check(rd_kafka_mock_broker_set_up(cluster_, broker_id), "broker_up");
}

void MockCluster::set_rtt(std::int32_t broker_id, std::chrono::milliseconds rtt) {
  check(rd_kafka_mock_broker_set_rtt(cluster_, broker_id, static_cast<int>(rtt.count())), "set_rtt");
}

void MockCluster::set_rack(std::int32_t broker_id, const std::string& rack) {
  check(rd_kafka_mock_broker_set_rack(cluster_, broker_id, rack.c_str()), "set_rack");
}

void MockCluster::create_topic(const std::string& topic, int partitions, int replication_factor) {
  check(rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, replication_factor), "create_topic");
}

void MockCluster::set_partition_leader(const std::string& topic, std::int32_t partition, std::int32_t broker_id) {
  check(rd_kafka_mock_partition_set_leader(cluster_, topic.c_str(), partition, broker_id), "set_partition_leader");
}

void MockCluster::set_coordinator(const std::string& key_type, const std::string& key, std::int32_t broker_id) {
  check(rd_kafka_mock_coordinator_set(cluster_, key_type.c_str(), key.c_str(), broker_id), "set_coordinator");
}

void MockCluster::set_api_versions(std::int16_t api_key, std::int16_t min_version, std::int16_t max_version) {
  check(rd_kafka_mock_set_apiversion(cluster_, api_key, min_version, max_version), "set_api_versions");
}

}  // namespace asiokafka::test
