// rebalance_bench: a member process running librdkafka's consumer with the same settings as
// ours, driven as its documentation shows a group consumer: rd_kafka_subscribe, a rebalance
// callback that (incrementally, for cooperative) assigns and unassigns, rd_kafka_consumer_poll
// in a loop, auto commit on. Also the producer process that keeps records coming on every
// partition, and the check whether this librdkafka knows group.protocol (KIP-848).
#include <librdkafka/rdkafka.h>

#include <cerrno>
#include <cstdint>
#include <ctime>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "producer_bench.hpp"
#include "rebalance_bench.hpp"

namespace asiokafka::bench {
namespace {

void set(rd_kafka_conf_t* conf, const char* name, const std::string& value) {
  char err[512];
  if (rd_kafka_conf_set(conf, name, value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
    throw std::runtime_error(std::string("librdkafka ") + name + "=" + value + ": " + err);
  }
}

std::vector<int> numbers(const rd_kafka_topic_partition_list_t* list) {
  std::vector<int> out;
  for (int i = 0; i < list->cnt; ++i) out.push_back(list->elems[i].partition);
  return out;
}

// The member's state the rebalance callback updates (it runs inside rd_kafka_consumer_poll, on
// the polling thread).
struct Member {
  std::set<int> held;
  std::string failure;
};

void check(rd_kafka_error_t* e, const char* what, Member& m) {
  if (!e) return;
  if (m.failure.empty()) m.failure = std::string(what) + ": " + rd_kafka_error_string(e);
  rd_kafka_error_destroy(e);
}

void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts, void* opaque) {
  auto& m = *static_cast<Member*>(opaque);
  const bool cooperative = std::string(rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE";
  const std::uint64_t now = monotonic_ns();
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (cooperative) {
      check(rd_kafka_incremental_assign(rk, parts), "incremental_assign", m);
    } else if (const rd_kafka_resp_err_t e = rd_kafka_assign(rk, parts); e && m.failure.empty()) {
      m.failure = std::string("assign: ") + rd_kafka_err2str(e);
    }
    report_line('A', now, numbers(parts));
    for (int p : numbers(parts)) m.held.insert(p);
    return;
  }
  report_line(rd_kafka_assignment_lost(rk) ? 'L' : 'R', now, numbers(parts));
  for (int p : numbers(parts)) m.held.erase(p);
  if (cooperative) {
    check(rd_kafka_incremental_unassign(rk, parts), "incremental_unassign", m);
  } else {
    rd_kafka_assign(rk, nullptr);
  }
}

rd_kafka_conf_t* member_conf(const MemberSpec& spec, Member& m) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  try {
    set(conf, "bootstrap.servers", spec.bootstrap);
    set(conf, "client.id", "rebalance_bench-" + std::to_string(spec.index));
    set(conf, "group.id", spec.group);
    if (spec.protocol == "consumer") {
      // KIP-848: the broker assigns and sets the session and heartbeat times
      // (group.consumer.*); the classic options below are not used.
      set(conf, "group.protocol", "consumer");
    } else {
      set(conf, "partition.assignment.strategy", spec.strategy);
      set(conf, "session.timeout.ms", std::to_string(spec.session_timeout_ms));
      set(conf, "heartbeat.interval.ms", std::to_string(spec.heartbeat_ms));
    }
    set(conf, "max.poll.interval.ms", std::to_string(spec.max_poll_ms));
    set(conf, "enable.auto.commit", "true");
    set(conf, "auto.commit.interval.ms", std::to_string(spec.commit_interval_ms));
    set(conf, "auto.offset.reset", "latest");
    set(conf, "enable.partition.eof", "false");
    set(conf, "fetch.min.bytes", "1");
    set(conf, "fetch.wait.max.ms", std::to_string(spec.fetch_wait_ms));
  } catch (...) {
    rd_kafka_conf_destroy(conf);
    throw;
  }
  rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
  rd_kafka_conf_set_opaque(conf, &m);
  return conf;
}

void member(const MemberSpec& spec) {
  Member m;
  char err[512];
  rd_kafka_conf_t* conf = member_conf(spec, m);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("rd_kafka_new: ") + err);
  }
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, spec.topic.c_str(), RD_KAFKA_PARTITION_UA);
  const rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  std::string failure = e ? std::string("subscribe: ") + rd_kafka_err2str(e) : "";
  while (failure.empty() && !stop_requested()) {
    // 100 ms: how soon a SIGTERM is noticed, as ours.
    rd_kafka_message_t* msg = rd_kafka_consumer_poll(rk, 100);
    if (!m.failure.empty()) failure = m.failure;
    if (!msg) continue;
    const std::uint64_t now = monotonic_ns();
    if (!msg->err && m.held.count(msg->partition)) {
      report_line('C', now, {msg->partition});
    } else if (msg->err && msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      // Transport errors are retried inside librdkafka; only fatal ones end the member.
      if (rd_kafka_fatal_error(rk, err, sizeof err)) failure = std::string("fatal: ") + err;
    }
    rd_kafka_message_destroy(msg);
  }
  rd_kafka_consumer_close(rk);  // commits and leaves the group
  rd_kafka_destroy(rk);
  if (!failure.empty()) throw std::runtime_error(failure);
}

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  if (m->err) ++*static_cast<std::uint64_t*>(opaque);
}

}  // namespace

int run_member_rdkafka(const MemberSpec& spec) {
  try {
    member(spec);
  } catch (const std::exception& e) {
    report_error(std::string("librdkafka: ") + e.what());
    return 1;
  }
  return 0;
}

int run_producer(const std::string& bootstrap, const std::string& topic, int partitions, double rate) {
  std::uint64_t failed = 0;
  try {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", bootstrap);
    set(conf, "client.id", "rebalance_bench-producer");
    // The leader's acknowledgement is enough here: the records only have to reach the log.
    set(conf, "acks", "1");
    set(conf, "linger.ms", "5");
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, &failed);
    char err[512];
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error(std::string("rd_kafka_new: ") + err);
    }
    std::string value(100, 'r');
    const auto period_ns = static_cast<std::uint64_t>(1e9 / rate);
    std::uint64_t due = monotonic_ns();
    for (std::uint64_t round = 0; !stop_requested(); ++round) {
      for (int p = 0; p < partitions; ++p) {
        // A round number in each value, so the records are not all alike.
        const std::string n = std::to_string(round);
        value.replace(0, n.size(), n);
        const rd_kafka_resp_err_t e =
            rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(p),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE(value.data(), value.size()),
                              RD_KAFKA_V_END);
        if (e) ++failed;
      }
      rd_kafka_poll(rk, 0);
      due += period_ns;
      const timespec ts{static_cast<time_t>(due / 1'000'000'000), static_cast<long>(due % 1'000'000'000)};
      while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR && !stop_requested()) {
      }
    }
    rd_kafka_flush(rk, 10'000);
    rd_kafka_destroy(rk);
  } catch (const std::exception& e) {
    report_error(std::string("producer: ") + e.what());
    return 1;
  }
  if (failed) {
    report_error("producer: " + std::to_string(failed) + " records failed");
    return 1;
  }
  return 0;
}

bool rdkafka_supports_consumer_protocol(std::string& reason) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  const bool ok = rd_kafka_conf_set(conf, "group.protocol", "consumer", err, sizeof err) == RD_KAFKA_CONF_OK;
  rd_kafka_conf_destroy(conf);
  if (!ok) reason = std::string("librdkafka ") + rd_kafka_version_str() + " rejects group.protocol=consumer: " + err;
  return ok;
}

std::string rdkafka_version() { return rd_kafka_version_str(); }

}  // namespace asiokafka::bench
