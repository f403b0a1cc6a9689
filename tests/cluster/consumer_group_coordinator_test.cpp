// A consumer group on the three-node cluster when its coordinator's node is SIGKILLed (issue
// 11, "No hang": the group moves to the new coordinator). The rig replicates __consumer_offsets
// three times (offsets.topic.replication.factor, rig/kafkarig.py), so another node takes over
// the group's offsets partition and becomes its coordinator; the member finds it
// (GroupStatus::coordinator changes), is stable again, and consumes what is written
// afterwards. The killed node is started again at the end, whatever happened.
#include <gtest/gtest.h>

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/consumer.hpp"
#include "support/async.hpp"
#include "support/consumer_group.hpp"
#include "support/numbered_records.hpp"
#include "support/restore_node.hpp"
#include "support/rig.hpp"
#include "support/topics.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr int partitions = 3;

// The fewest replicas of any __consumer_offsets partition per librdkafka's metadata; -1 when
// unknown (blocking, a few seconds at most).
int offsets_topic_replicas(const std::string& bootstrap) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, rdk_conf(bootstrap, {}), err, sizeof err);
  if (!rk) return -1;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, "__consumer_offsets", nullptr);
  int fewest = -1;
  const rd_kafka_metadata_t* md = nullptr;
  if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int t = 0; t < md->topic_cnt; ++t) {
      for (int p = 0; p < md->topics[t].partition_cnt; ++p) {
        const int n = md->topics[t].partitions[p].replica_cnt;
        if (fewest < 0 || n < fewest) fewest = n;
      }
    }
    rd_kafka_metadata_destroy(md);
  }
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  return fewest;
}

using Seen = std::set<std::pair<std::int32_t, std::string>>;

template <class Done>
asio::awaitable<bool> read_while(Consumer& c, Seen& seen, Done done, std::chrono::milliseconds limit) {
  const auto deadline = steady::now() + limit;
  while (!done()) {
    if (steady::now() >= deadline) co_return false;
    auto r = co_await c.getmany({.timeout = 200ms}, asio::as_tuple(asio::use_awaitable));
    if (std::get<0>(r)) {
      ADD_FAILURE() << "getmany failed: " << std::get<0>(r).message();
      co_return false;
    }
    for (const auto& entry : std::get<1>(r)) {
      for (const auto& rec : entry.second) seen.emplace(rec.partition, std::string(rec.value->as_string()));
    }
  }
  co_return true;
}

bool has_numbers(const Seen& seen, int first, int n) {
  for (int p = 0; p < partitions; ++p) {
    for (int i = first; i < first + n; ++i) {
      if (seen.count({p, std::to_string(i)}) == 0) return false;
    }
  }
  return true;
}

bool stable(const Consumer& c) {
  const GroupStatus s = c.group_status();
  return s.state == GroupState::stable && s.generation >= 0 && s.assignment.size() == partitions;
}

std::string describe(const GroupStatus& s) {
  return "state " + std::to_string(static_cast<int>(s.state)) + ", generation " + std::to_string(s.generation) +
         ", coordinator " + std::to_string(s.coordinator) + ", last error: " + s.last_error_message;
}

TEST(ConsumerGroupCluster, CoordinatorNodeKilledTheMemberMovesToTheNewCoordinatorAndKeepsConsuming) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG3_ENV");
  ASSERT_EQ(rig.node_count(), 3);
  const std::string bootstrap = rig.bootstrap("PLAINTEXT");
  const std::string topic = unique_topic("group-coordinator-kill");
  ASSERT_EQ(create_topic_rdk(bootstrap, topic, partitions, 3, {{"min.insync.replicas", "2"}}), "");
  for (int p = 0; p < partitions; ++p) ASSERT_TRUE(produce_numbered(bootstrap, topic, 0, 50, p));
  // Restarts the killed node when the test ends (set once the coordinator is known).
  struct Guard {
    std::optional<RigNode> node;
    std::optional<RestoreNode> restore;
  } guard;

  struct Outcome {
    bool first_stable = false;
    GroupStatus before;
    int offsets_replicas = -1;
    bool moved = false;
    GroupStatus after;
    bool new_records = false;
    GroupStatus end;
    steady::duration stop_took{};
  };
  auto body = [](ConsumerConfig cfg, std::string t, const Rig& r, Guard& g) -> asio::awaitable<Outcome> {
    Outcome out;
    Consumer c(co_await asio::this_coro::executor, std::move(cfg));
    c.subscribe(std::vector<std::string>{t});
    co_await c.start();
    Seen seen;
    out.first_stable = co_await read_while(
        c, seen,
        [&] {
          const GroupStatus s = c.group_status();
          return stable(c) && s.last_heartbeat && s.coordinator >= 1 && has_numbers(seen, 0, 50);
        },
        60s);
    out.before = c.group_status();
    if (!out.first_stable) co_return out;
    // Blocks the executor for a moment: well within the session.
    out.offsets_replicas = offsets_topic_replicas(r.bootstrap("PLAINTEXT"));
    if (out.offsets_replicas < 2) co_return out;  // the coordinator could not move
    g.node.emplace(r.node(out.before.coordinator));
    g.restore.emplace(*g.node);  // in place: a temporary's destructor would resume now
    g.node->kill();
    const auto killed = std::chrono::system_clock::now();
    out.moved = co_await read_while(
        c, seen,
        [&] {
          const GroupStatus s = c.group_status();
          return stable(c) && s.coordinator >= 1 && s.coordinator != out.before.coordinator &&
                 s.last_heartbeat.value_or(killed) > killed;
        },
        90s);
    out.after = c.group_status();
    if (!out.moved) co_return out;
    for (int p = 0; p < partitions; ++p) (void)produce_numbered(r.bootstrap("PLAINTEXT"), t, 50, 50, p, 60s);
    out.new_records = co_await read_while(c, seen, [&] { return has_numbers(seen, 50, 50); }, 60s);
    out.end = c.group_status();
    const auto start = steady::now();
    (void)co_await c.stop(asio::as_tuple(asio::use_awaitable));
    out.stop_took = steady::now() - start;
    co_return out;
  };
  ConsumerConfig cfg;
  cfg.bootstrap_servers = bootstrap;
  cfg.group_id = unique_topic("g-coordinator-kill");
  cfg.auto_offset_reset = AutoOffsetReset::earliest;
  cfg.request_timeout = 5s;
  cfg.connect_timeout = 2s;
  cfg.session_timeout = 10s;
  cfg.heartbeat_interval = 500ms;
  cfg.auto_commit_interval = 500ms;
  cfg.retry_backoff = 100ms;
  cfg.retry_backoff_max = 1s;
  cfg.reconnect_backoff_max = 500ms;
  cfg.group_protocol = group_protocol_under_test();
  const Outcome o = run_async(body(std::move(cfg), topic, rig, guard), 300s);
  ASSERT_TRUE(o.first_stable) << "the member never became stable: " << describe(o.before);
  ASSERT_GE(o.offsets_replicas, 2) << "__consumer_offsets has " << o.offsets_replicas
                                   << " replica(s): the coordinator cannot move (offsets.topic.replication.factor "
                                      "in rig/kafkarig.py)";
  EXPECT_TRUE(o.moved) << "the member did not move to a new coordinator (was node " << o.before.coordinator
                       << "): " << describe(o.after);
  EXPECT_NE(o.after.coordinator, o.before.coordinator);
  EXPECT_GE(o.after.generation, 0);
  EXPECT_TRUE(o.new_records) << "records written after the kill were not consumed: " << describe(o.end);
  EXPECT_EQ(o.end.state, GroupState::stable) << describe(o.end);
  EXPECT_NE(o.end.coordinator, o.before.coordinator);
  EXPECT_LT(o.stop_took, 15s) << "stop() with a node down overran session_timeout + request_timeout";
}

}  // namespace
}  // namespace asiokafka::test
