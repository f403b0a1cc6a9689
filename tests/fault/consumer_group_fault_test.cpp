// A subscribed consumer (group member) never hangs when its group coordinator goes away, and
// the group recovers when it returns (issue 11, "No hang"; aiokafka #1154): with the broker
// SIGSTOPped, getmany(timeout) returns at its timeout, commit() fails within request_timeout
// and stop() returns within session_timeout + request_timeout; after a pause longer than the
// session, or a SIGKILL and restart, the member is stable again in a valid generation and
// consumes what is written afterwards. Serial: the tests take the broker away from everyone.
#include "asiokafka/consumer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/error.hpp"
#include "support/async.hpp"
#include "support/consumer_group.hpp"
#include "support/numbered_records.hpp"
#include "support/poll.hpp"
#include "support/restore_node.hpp"
#include "support/rig.hpp"
#include "support/topics.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr int partitions = 2;
constexpr auto request_timeout = 5s;
// The broker's group.min.session.timeout.ms; KIP-848 runs use the rig's
// group.consumer.session.timeout.ms, 6 s too.
constexpr auto session_timeout = 6s;

ConsumerConfig member_config(const Rig& rig, const std::string& group) {
  ConsumerConfig c;
  c.bootstrap_servers = rig.bootstrap("PLAINTEXT");
  c.group_id = group;
  c.auto_offset_reset = AutoOffsetReset::earliest;
  c.request_timeout = request_timeout;
  c.session_timeout = session_timeout;
  c.heartbeat_interval = 500ms;
  c.auto_commit_interval = 500ms;
  c.connect_timeout = 1500ms;
  c.fetch_max_wait = 200ms;
  c.retry_backoff = 100ms;
  c.retry_backoff_max = 1s;
  c.reconnect_backoff = 50ms;
  c.reconnect_backoff_max = 500ms;
  c.group_protocol = group_protocol_under_test();
  return c;
}

using Seen = std::set<std::pair<std::int32_t, std::string>>;

// getmany() into `seen` until `done()` holds or `limit` passes; true when it held. The calls'
// errors end it too (false).
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

// A topic with `first_records` numbered records in each partition. The creation is retried:
// right after an earlier test resumed the node from a pause longer than
// broker.session.timeout.ms, the controller fences it for a moment (CreateTopics fails at
// once), and once a CreateTopics sent then was never answered (librdkafka gave up after 45 s;
// the controller logged no such request): a second attempt works.
std::string topic_with_records(const Rig& rig, const std::string& stem, int first_records) {
  const std::string topic = unique_topic(stem);
  std::string failure;
  const bool created = eventually(
      [&] {
        failure = create_topic_rdk(rig.bootstrap("PLAINTEXT"), topic, partitions, 1);
        return failure.empty() || failure.find("already exists") != std::string::npos;
      },
      120s, 1s);
  EXPECT_TRUE(created) << failure;
  for (int p = 0; p < partitions; ++p) {
    EXPECT_TRUE(produce_numbered(rig.bootstrap("PLAINTEXT"), topic, 0, first_records, p));
  }
  return topic;
}

std::string describe(const GroupStatus& s) {
  return "state " + std::to_string(static_cast<int>(s.state)) + ", generation " + std::to_string(s.generation) +
         ", " + std::to_string(s.assignment.size()) + " partitions, last error: " + s.last_error_message;
}

TEST(ConsumerGroupHang, PausedCoordinatorGetmanyCommitAndStopReturnWithinTheirBounds) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = topic_with_records(rig, "group-paused", 50);
  const RigNode node = rig.node(1);
  RestoreNode restore{node};
  struct Bounds {
    bool first_stable = false;
    steady::duration getmany_took{};
    std::size_t getmany_count = 99;
    error_code getmany_ec;
    steady::duration commit_took{};
    error_code commit_ec;
    steady::duration stop_took{};
  };
  auto body = [](ConsumerConfig cfg, std::string t, const RigNode& n) -> asio::awaitable<Bounds> {
    Bounds out;
    Consumer c(co_await asio::this_coro::executor, std::move(cfg));
    c.subscribe(std::vector<std::string>{t});
    co_await c.start();
    Seen seen;
    out.first_stable = co_await read_while(c, seen, [&] { return stable(c) && has_numbers(seen, 0, 50); }, 60s);
    if (!out.first_stable) co_return out;
    n.pause();  // sockets stay open; nothing answers
    // What is buffered comes first; then a getmany with nothing to return ends at its timeout.
    for (int i = 0; i < 20 && out.getmany_count != 0; ++i) {
      const auto start = steady::now();
      auto r = co_await c.getmany({.timeout = 1s}, asio::as_tuple(asio::use_awaitable));
      out.getmany_took = steady::now() - start;
      out.getmany_ec = std::get<0>(r);
      out.getmany_count = 0;
      for (const auto& entry : std::get<1>(r)) out.getmany_count += entry.second.size();
    }
    {
      const auto start = steady::now();
      auto r = co_await c.commit(asio::as_tuple(asio::use_awaitable));
      out.commit_took = steady::now() - start;
      out.commit_ec = std::get<0>(r);
    }
    // stop() commits (auto-commit), runs the revoke and sends LeaveGroup: each bounded.
    const auto start = steady::now();
    (void)co_await c.stop(asio::as_tuple(asio::use_awaitable));
    out.stop_took = steady::now() - start;
    co_return out;
  };
  const Bounds b = run_async(body(member_config(rig, unique_topic("g-paused")), topic, node), 120s);
  ASSERT_TRUE(b.first_stable) << "the member never became stable";
  EXPECT_FALSE(b.getmany_ec) << b.getmany_ec.message();
  EXPECT_EQ(b.getmany_count, 0u);
  EXPECT_GE(b.getmany_took, 900ms);
  EXPECT_LT(b.getmany_took, 2500ms) << "getmany overran its timeout with the coordinator paused";
  EXPECT_TRUE(b.commit_ec) << "a commit to a paused coordinator succeeded";
  EXPECT_LT(b.commit_took, request_timeout + 1500ms) << "commit overran request_timeout";
  EXPECT_LT(b.stop_took, session_timeout + request_timeout + 2s) << "stop() hung on the paused coordinator";
}

TEST(ConsumerGroupHang, CoordinatorPausedLongerThanTheSessionTheMemberRecoversAndConsumes) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = topic_with_records(rig, "group-resumed", 50);
  const RigNode node = rig.node(1);
  RestoreNode restore{node};
  struct Recovery {
    bool first_stable = false;
    GroupStatus before;
    bool noticed = false;
    bool recovered = false;
    GroupStatus after;
    bool new_records = false;
    GroupStatus end;
  };
  auto body = [](ConsumerConfig cfg, std::string t, const RigNode& n, std::string bootstrap) -> asio::awaitable<Recovery> {
    Recovery out;
    Consumer c(co_await asio::this_coro::executor, std::move(cfg));
    c.subscribe(std::vector<std::string>{t});
    co_await c.start();
    Seen seen;
    out.first_stable = co_await read_while(
        c, seen, [&] { return stable(c) && c.group_status().last_heartbeat && has_numbers(seen, 0, 50); }, 60s);
    out.before = c.group_status();
    if (!out.first_stable) co_return out;
    n.pause();
    // Kept paused (the application polling meanwhile) until the member has had no heartbeat
    // answer for a whole session: on resume the coordinator finds the session expired.
    out.noticed = co_await read_while(
        c, seen,
        [&] {
          const GroupStatus s = c.group_status();
          return s.last_heartbeat && std::chrono::system_clock::now() - *s.last_heartbeat > session_timeout;
        },
        30s);
    n.resume();
    if (!out.noticed) co_return out;
    // Stable again after a heartbeat answered since the resume.
    const auto resumed = std::chrono::system_clock::now();
    out.recovered = co_await read_while(
        c, seen, [&] { return stable(c) && c.group_status().last_heartbeat.value_or(resumed) > resumed; }, 60s);
    out.after = c.group_status();
    for (int p = 0; p < partitions; ++p) (void)produce_numbered(bootstrap, t, 50, 50, p, 30s);
    out.new_records = co_await read_while(c, seen, [&] { return has_numbers(seen, 50, 50); }, 60s);
    out.end = c.group_status();
    co_await c.stop();
    co_return out;
  };
  const Recovery r = run_async(
      body(member_config(rig, unique_topic("g-resumed")), topic, node, rig.bootstrap("PLAINTEXT")), 240s);
  ASSERT_TRUE(r.first_stable) << "the member never became stable";
  ASSERT_TRUE(r.noticed) << "no heartbeat gap while the coordinator was paused: " << describe(r.before);
  EXPECT_TRUE(r.recovered) << "not stable again after the resume: " << describe(r.after);
  EXPECT_GE(r.after.generation, 0);
  EXPECT_TRUE(r.new_records) << "records written after the resume were not consumed: " << describe(r.end);
  EXPECT_EQ(r.end.state, GroupState::stable) << describe(r.end);
}

TEST(ConsumerGroupHang, CoordinatorKilledAndRestartedTheGroupRecoversWithoutHanging) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = topic_with_records(rig, "group-killed", 50);
  const RigNode node = rig.node(1);
  RestoreNode restore{node};
  struct Recovery {
    bool first_stable = false;
    steady::duration longest_getmany{};
    error_code down_ec;
    bool restarted = false;
    bool recovered = false;
    GroupStatus after;
    bool new_records = false;
    GroupStatus end;
    steady::duration stop_took{};
  };
  auto body = [](ConsumerConfig cfg, std::string t, const RigNode& n, std::string bootstrap) -> asio::awaitable<Recovery> {
    Recovery out;
    Consumer c(co_await asio::this_coro::executor, std::move(cfg));
    c.subscribe(std::vector<std::string>{t});
    co_await c.start();
    Seen seen;
    out.first_stable = co_await read_while(c, seen, [&] { return stable(c) && has_numbers(seen, 0, 50); }, 60s);
    if (!out.first_stable) co_return out;
    n.kill();
    // With the broker gone, every getmany still ends at its timeout (a session's worth).
    for (int i = 0; i < 6 && !out.down_ec; ++i) {
      const auto start = steady::now();
      auto r = co_await c.getmany({.timeout = 1s}, asio::as_tuple(asio::use_awaitable));
      out.longest_getmany = std::max(out.longest_getmany, steady::now() - start);
      out.down_ec = std::get<0>(r);
    }
    n.start();  // returns once the broker answers again
    out.restarted = true;
    const auto restarted = std::chrono::system_clock::now();
    out.recovered = co_await read_while(
        c, seen, [&] { return stable(c) && c.group_status().last_heartbeat.value_or(restarted) > restarted; }, 90s);
    out.after = c.group_status();
    for (int p = 0; p < partitions; ++p) (void)produce_numbered(bootstrap, t, 50, 50, p, 30s);
    out.new_records = co_await read_while(c, seen, [&] { return has_numbers(seen, 50, 50); }, 60s);
    out.end = c.group_status();
    const auto start = steady::now();
    (void)co_await c.stop(asio::as_tuple(asio::use_awaitable));
    out.stop_took = steady::now() - start;
    co_return out;
  };
  const Recovery r = run_async(
      body(member_config(rig, unique_topic("g-killed")), topic, node, rig.bootstrap("PLAINTEXT")), 300s);
  ASSERT_TRUE(r.first_stable) << "the member never became stable";
  EXPECT_FALSE(r.down_ec) << r.down_ec.message();
  EXPECT_LT(r.longest_getmany, 2500ms) << "getmany overran its timeout with the broker down";
  ASSERT_TRUE(r.restarted);
  EXPECT_TRUE(r.recovered) << "not stable again after the restart: " << describe(r.after);
  EXPECT_GE(r.after.generation, 0);
  EXPECT_TRUE(r.new_records) << "records written after the restart were not consumed: " << describe(r.end);
  EXPECT_EQ(r.end.state, GroupState::stable) << describe(r.end);
  EXPECT_LT(r.stop_took, session_timeout + request_timeout + 2s);
}

}  // namespace
}  // namespace asiokafka::test
