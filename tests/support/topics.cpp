#include "support/topics.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <random>

namespace asiokafka::test {

using namespace std::chrono_literals;

std::string unique_topic(const std::string& stem) {
  std::random_device rd;
  return stem + "-" + std::to_string(rd() % 1000000000u);
}

rd_kafka_conf_t* rdk_conf(const std::string& bootstrap, std::initializer_list<std::pair<const char*, std::string>> kv) {
  rd_kafka_conf_t* c = rd_kafka_conf_new();
  char err[512];
  rd_kafka_conf_set(c, "bootstrap.servers", bootstrap.c_str(), err, sizeof err);
  for (const auto& [k, v] : kv) EXPECT_EQ(rd_kafka_conf_set(c, k, v.c_str(), err, sizeof err), RD_KAFKA_CONF_OK) << err;
  return c;
}

namespace {

// A KRaft broker answers CreateTopics once the controller has the topic; its own metadata
// cache (what Metadata answers) catches up a moment later, longer on a busy machine. Waits
// (30 s at most) until a Metadata answer lists every partition with a leader, so a test's
// client sees the topic at once. Empty, or what was wrong at the end.
std::string await_leaders(rd_kafka_t* rk, const std::string& topic, int partitions) {
  rd_kafka_topic_t* t = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  std::string last = "no metadata answer";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (int attempt = 0; attempt < 300 && std::chrono::steady_clock::now() < deadline; ++attempt) {
    const rd_kafka_metadata_t* md = nullptr;
    const rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, t, &md, 5000);  // blocks until answered
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR && md) {
      bool ready = md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
                   md->topics[0].partition_cnt == partitions;
      for (int i = 0; ready && i < md->topics[0].partition_cnt; ++i) ready = md->topics[0].partitions[i].leader >= 0;
      last = md->topic_cnt == 1 ? std::string(rd_kafka_err2str(md->topics[0].err)) : "topic not listed";
      rd_kafka_metadata_destroy(md);
      if (ready) {
        rd_kafka_topic_destroy(t);
        return "";
      }
    } else {
      last = rd_kafka_err2str(e);
    }
    rd_kafka_poll(rk, 100);  // paces the next request (bounded by the loop and the deadline)
  }
  rd_kafka_topic_destroy(t);
  return "CreateTopics: '" + topic + "' has no leader for every partition in the metadata after 30 s (" + last + ")";
}

}  // namespace

std::string create_topic_rdk(const std::string& bootstrap, const std::string& topic, int partitions,
                             int replication_factor, const std::vector<std::pair<std::string, std::string>>& configs) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, rdk_conf(bootstrap, {}), err, sizeof err);
  if (!rk) return std::string("rd_kafka_new: ") + err;
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), partitions, replication_factor, err, sizeof err);
  std::string result;
  if (!nt) result = std::string("NewTopic: ") + err;
  // Tests write fixed time stamps from 2023 so that they can check them; the broker's default
  // time retention (7 days, checked 30 s after it starts and every 5 minutes) would delete such
  // a log while a test reads it. Unless the test chooses otherwise, nothing expires.
  const bool sets_retention = std::any_of(configs.begin(), configs.end(),
                                          [](const auto& c) { return c.first == "retention.ms"; });
  if (nt && !sets_retention &&
      rd_kafka_NewTopic_set_config(nt, "retention.ms", "-1") != RD_KAFKA_RESP_ERR_NO_ERROR) {
    result = "NewTopic config retention.ms";
  }
  for (const auto& c : configs) {
    if (nt && rd_kafka_NewTopic_set_config(nt, c.first.c_str(), c.second.c_str()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      result = "NewTopic config " + c.first;
    }
  }
  if (result.empty()) {
    rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(options, 30000, err, sizeof err);
    rd_kafka_CreateTopics(rk, &nt, 1, options, q);
    rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 45000);
    if (!ev) {
      result = "CreateTopics: no answer within 45 s";
    } else if (rd_kafka_event_error(ev)) {
      result = std::string("CreateTopics: ") + rd_kafka_event_error_string(ev);
    } else {
      size_t n = 0;
      const auto** trs = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
      if (n != 1) result = "CreateTopics: " + std::to_string(n) + " results";
      else if (rd_kafka_topic_result_error(trs[0])) result = std::string("CreateTopics: ") + rd_kafka_topic_result_error_string(trs[0]);
    }
    if (ev) rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(options);
    rd_kafka_queue_destroy(q);
  }
  if (result.empty()) result = await_leaders(rk, topic, partitions);
  if (nt) rd_kafka_NewTopic_destroy(nt);
  rd_kafka_destroy(rk);
  return result;
}

void create_topic(const std::string& bootstrap, const std::string& topic, int partitions,
                  std::initializer_list<std::pair<const char*, const char*>> configs) {
  std::vector<std::pair<std::string, std::string>> all;
  for (const auto& [k, v] : configs) all.emplace_back(k, v);
  ASSERT_EQ(create_topic_rdk(bootstrap, topic, partitions, 1, all), "");
}

std::map<std::pair<std::int32_t, std::int64_t>, Consumed> consume(const std::string& bootstrap,
                                                                  const std::string& topic, int partitions,
                                                                  std::size_t count) {
  std::map<std::pair<std::int32_t, std::int64_t>, Consumed> out;
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(
      RD_KAFKA_CONSUMER,
      rdk_conf(bootstrap, {{"group.id", topic}, {"check.crcs", "true"}, {"enable.auto.commit", "false"}}), err,
      sizeof err);
  EXPECT_NE(rk, nullptr) << err;
  if (!rk) return out;
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(parts, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  EXPECT_EQ(rd_kafka_assign(rk, parts), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(parts);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 200);
    if (!m) continue;
    if (m->err) {
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) ADD_FAILURE() << rd_kafka_message_errstr(m);
      rd_kafka_message_destroy(m);
      continue;
    }
    Consumed c;
    if (m->key) c.key = std::string(static_cast<const char*>(m->key), m->key_len);
    if (m->payload) c.value = std::string(static_cast<const char*>(m->payload), m->len);
    rd_kafka_timestamp_type_t tstype;
    c.timestamp = rd_kafka_message_timestamp(m, &tstype);
    rd_kafka_headers_t* hs = nullptr;
    if (rd_kafka_message_headers(m, &hs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      for (std::size_t j = 0; j < rd_kafka_header_cnt(hs); ++j) {
        const char* name;
        const void* val;
        size_t size;
        rd_kafka_header_get_all(hs, j, &name, &val, &size);
        c.headers.emplace_back(name, val ? std::optional<std::string>(std::string(static_cast<const char*>(val), size))
                                         : std::nullopt);
      }
    }
    out[{m->partition, m->offset}] = std::move(c);
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return out;
}

}  // namespace asiokafka::test
