// Consumer groups against the single-node broker: members of one group share a topic's
// partitions (every record once), a leaving member's partitions go to the others, the
// rebalance listener sees every change, subscribe/assign misuse, subscribing without a group.
#include "asiokafka/consumer.hpp"
#include "asiokafka/kafka_error.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "support/async.hpp"
#include "support/consumer_group.hpp"
#include "support/numbered_records.hpp"
#include "support/poll.hpp"
#include "support/rig.hpp"
#include "support/topics.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

#define CO_ASSERT(cond)                             \
  do {                                              \
    if (!(cond)) {                                  \
      ADD_FAILURE() << "assertion failed: " #cond;  \
      co_return false;                              \
    }                                               \
  } while (false)

ConsumerConfig group_config(const Rig& rig, const std::string& group) {
  return group_test_config(rig.bootstrap("PLAINTEXT"), group);
}

// Records every listener call, in order.
struct RecordingListener : ConsumerRebalanceListener {
  struct call {
    int kind;  // 0 revoked, 1 assigned, 2 lost
    std::vector<TopicPartition> partitions;
  };
  std::vector<call> calls;
  asio::awaitable<void> on_partitions_revoked(std::vector<TopicPartition> revoked) override {
    calls.push_back(call{0, std::move(revoked)});
    co_return;
  }
  asio::awaitable<void> on_partitions_assigned(std::vector<TopicPartition> assigned) override {
    calls.push_back(call{1, std::move(assigned)});
    co_return;
  }
  asio::awaitable<void> on_partitions_lost(std::vector<TopicPartition> lost) override {
    calls.push_back(call{2, std::move(lost)});
    co_return;
  }
};

// What the listener calls add up to: assigned, less revoked and lost, in order.
std::set<TopicPartition> replay(const std::vector<RecordingListener::call>& calls) {
  std::set<TopicPartition> held;
  for (const auto& c : calls) {
    for (const auto& tp : c.partitions) {
      if (c.kind == 1) {
        held.insert(tp);
      } else {
        held.erase(tp);
      }
    }
  }
  return held;
}

// (partition, value) pairs consumed, over all members.
using Seen = std::multiset<std::pair<std::int32_t, std::string>>;

// Reads from `c` into `seen` until `*stop` is set or the consumer stops.
asio::awaitable<void> drain(Consumer& c, Seen& seen, const bool* stop) {
  while (!*stop) {
    GetManyOptions o;
    o.timeout = 100ms;
    RecordBatches batches = co_await c.getmany(o);
    for (const auto& entry : batches) {
      for (const auto& r : entry.second) seen.emplace(r.partition, std::string(r.value ? r.value->as_string() : std::string_view()));
    }
  }
}

bool stable_split(const std::vector<Consumer*>& members, std::size_t partitions) {
  std::vector<GroupStatus> statuses;
  for (auto* c : members) statuses.push_back(c->group_status());
  return asiokafka::test::stable_split(statuses, partitions);
}

TEST(ConsumerGroup, ThreeMembersShareTwelvePartitionsAndEveryRecordComesOnce) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = unique_topic("group-share");
  create_topic(rig.bootstrap("PLAINTEXT"), topic, 12);
  constexpr int per_partition = 200;
  for (int p = 0; p < 12; ++p) {
    ASSERT_TRUE(produce_numbered(rig.bootstrap("PLAINTEXT"), topic, 0, per_partition, p));
  }
  auto body = [](ConsumerConfig cfg, std::string t) -> asio::awaitable<bool> {
    auto ex = co_await asio::this_coro::executor;
    std::vector<std::unique_ptr<Consumer>> consumers;
    std::vector<std::shared_ptr<RecordingListener>> listeners;
    std::vector<Consumer*> members;
    Seen seen;
    bool stop = false;
    for (int i = 0; i < 3; ++i) {
      consumers.push_back(std::make_unique<Consumer>(ex, cfg));
      listeners.push_back(std::make_shared<RecordingListener>());
      members.push_back(consumers.back().get());
      std::vector<std::string> topics{t};
      consumers.back()->subscribe(topics, listeners.back());
      co_await consumers.back()->start();
      asio::co_spawn(ex, drain(*consumers.back(), seen, &stop), asio::detached);
    }
    const bool all_read = co_await eventually_async([&] { return seen.size() >= 12u * per_partition; }, 60s, 50ms);
    const bool split = co_await eventually_async(
        [&] {
          if (!stable_split(members, 12)) return false;
          for (auto* c : members) {
            if (!c->group_status().last_heartbeat) return false;
          }
          return true;
        },
        30s, 50ms);
    stop = true;
    CO_ASSERT(all_read);
    CO_ASSERT(split);
    // Every record exactly once: commits before each revoke hand positions over exactly.
    std::map<std::int32_t, std::set<std::string>> per;
    for (const auto& e : seen) per[e.first].insert(e.second);
    CO_ASSERT(per.size() == 12u);
    for (const auto& e : per) CO_ASSERT(e.second.size() == static_cast<std::size_t>(per_partition));
    EXPECT_EQ(seen.size(), 12u * per_partition) << "some record came twice";
    // roundrobin over 3 members: 4 each; listeners saw the final assignment.
    for (int i = 0; i < 3; ++i) {
      const GroupStatus s = consumers[static_cast<std::size_t>(i)]->group_status();
      EXPECT_EQ(s.assignment.size(), 4u);
      EXPECT_FALSE(s.member_id.empty());
      const auto& calls = listeners[static_cast<std::size_t>(i)]->calls;
      CO_ASSERT(!calls.empty());
      EXPECT_EQ(calls.back().kind, 1);
      EXPECT_EQ(replay(calls), s.assignment);
      EXPECT_EQ(consumers[static_cast<std::size_t>(i)]->assignment(), s.assignment);
      if (kip848_under_test()) {
        // The coordinator used the assignor asked for: range gives each member a block.
        std::vector<std::int32_t> ps;
        for (const auto& tp : s.assignment) ps.push_back(tp.partition);
        EXPECT_TRUE(!ps.empty() && ps.back() - ps.front() == static_cast<std::int32_t>(ps.size()) - 1)
            << "member " << i << " has no contiguous range";
      }
    }
    for (auto& c : consumers) co_await c->stop();
    co_return true;
  };
  ConsumerConfig cfg = group_config(rig, unique_topic("g-share"));
  if (kip848_under_test()) cfg.group_remote_assignor = "range";  // classic: roundrobin (the default)
  EXPECT_TRUE(run_async(body(cfg, topic), 150s));
}

TEST(ConsumerGroup, AStoppingMemberHandsItsPartitionsOverAndItsListenerRunsFirst) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = unique_topic("group-leave");
  create_topic(rig.bootstrap("PLAINTEXT"), topic, 6);
  auto body = [](ConsumerConfig cfg, std::string t) -> asio::awaitable<bool> {
    auto ex = co_await asio::this_coro::executor;
    Consumer a(ex, cfg);
    Consumer b(ex, cfg);
    auto la = std::make_shared<RecordingListener>();
    auto lb = std::make_shared<RecordingListener>();
    std::vector<std::string> topics{t};
    a.subscribe(topics, la);
    b.subscribe(topics, lb);
    co_await a.start();
    co_await b.start();
    Seen seen;
    bool stop_a = false;
    bool stop_b = false;
    asio::co_spawn(ex, drain(a, seen, &stop_a), asio::detached);
    asio::co_spawn(ex, drain(b, seen, &stop_b), asio::detached);
    std::vector<Consumer*> both{&a, &b};
    CO_ASSERT(co_await eventually_async([&] { return stable_split(both, 6); }, 30s, 50ms));
    CO_ASSERT(a.assignment().size() == 3u);
    const std::size_t a_calls = la->calls.size();
    stop_a = true;
    co_await a.stop();
    // a revoked its three partitions on the way out.
    CO_ASSERT(la->calls.size() == a_calls + 1);
    EXPECT_EQ(la->calls.back().kind, 0);
    EXPECT_EQ(la->calls.back().partitions.size(), 3u);
    EXPECT_EQ(a.group_status().state, GroupState::none);
    // b gets all six, soon (a sent LeaveGroup: no session timeout to wait for).
    std::vector<Consumer*> only_b{&b};
    const auto t0 = std::chrono::steady_clock::now();
    CO_ASSERT(co_await eventually_async([&] { return stable_split(only_b, 6); }, 20s, 50ms));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s) << "b waited for a's session to expire";
    EXPECT_EQ(lb->calls.back().kind, 1);
    // Eager (roundrobin): the whole new assignment; KIP-848: only the three added.
    EXPECT_EQ(lb->calls.back().partitions.size(), kip848_under_test() ? 3u : 6u);
    EXPECT_EQ(replay(lb->calls), b.group_status().assignment);
    stop_b = true;
    co_await b.stop();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(group_config(rig, unique_topic("g-leave")), topic), 120s));
}

TEST(ConsumerGroup, UnsubscribeRevokesThroughTheListenerAndLeaves) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = unique_topic("group-unsub");
  create_topic(rig.bootstrap("PLAINTEXT"), topic, 4);
  auto body = [](ConsumerConfig cfg, std::string t) -> asio::awaitable<bool> {
    Consumer c(co_await asio::this_coro::executor, cfg);
    auto l = std::make_shared<RecordingListener>();
    std::vector<std::string> topics{t};
    c.subscribe(topics, l);
    co_await c.start();
    std::vector<Consumer*> one{&c};
    CO_ASSERT(co_await eventually_async([&] { return stable_split(one, 4); }, 30s, 50ms));
    const std::size_t calls = l->calls.size();
    c.unsubscribe();
    // Nothing is held for the application at once; the listener hears of all four.
    CO_ASSERT(c.assignment().empty());
    CO_ASSERT(c.subscription().empty());
    CO_ASSERT(co_await eventually_async([&] { return l->calls.size() > calls; }, 10s, 20ms));
    EXPECT_EQ(l->calls[calls].kind, 0);
    EXPECT_EQ(l->calls[calls].partitions.size(), 4u);
    CO_ASSERT(co_await eventually_async([&] { return c.group_status().state == GroupState::none; }, 10s, 20ms));
    co_await c.stop();
    co_return true;
  };
  EXPECT_TRUE(run_async(body(group_config(rig, unique_topic("g-unsub")), topic), 60s));
}

TEST(ConsumerGroup, SubscribeAndAssignAreExclusive) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  asio::io_context io;
  Consumer c(io.get_executor(), group_config(rig, "g-excl"));
  std::vector<TopicPartition> tps{TopicPartition("t", 0)};
  c.assign(tps);
  std::vector<std::string> topics{"t"};
  try {
    c.subscribe(topics);
    FAIL() << "subscribe() after assign() did not throw";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), client_errc::illegal_state);
  }
  c.assign({});
  c.subscribe(topics);
  EXPECT_EQ(c.subscription(), std::set<std::string>{"t"});
  try {
    c.assign(tps);
    FAIL() << "assign() while subscribed did not throw";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), client_errc::illegal_state);
  }
  c.unsubscribe();
  EXPECT_TRUE(c.subscription().empty());
  c.assign(tps);
  EXPECT_EQ(c.assignment().size(), 1u);
}

TEST(ConsumerGroup, WithoutAGroupASubscriptionGetsEveryPartition) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string topic = unique_topic("nogroup");
  create_topic(rig.bootstrap("PLAINTEXT"), topic, 3);
  for (int p = 0; p < 3; ++p) ASSERT_TRUE(produce_numbered(rig.bootstrap("PLAINTEXT"), topic, 0, 10, p));
  auto body = [](ConsumerConfig cfg, std::string t) -> asio::awaitable<bool> {
    Consumer c(co_await asio::this_coro::executor, cfg);
    auto l = std::make_shared<RecordingListener>();
    std::vector<std::string> topics{t};
    c.subscribe(topics, l);
    co_await c.start();
    Seen seen;
    for (int i = 0; i < 200 && seen.size() < 30; ++i) {
      GetManyOptions o;
      o.timeout = 100ms;
      RecordBatches batches = co_await c.getmany(o);
      for (const auto& entry : batches) {
        for (const auto& r : entry.second) seen.emplace(r.partition, std::string(r.value ? r.value->as_string() : std::string_view()));
      }
    }
    CO_ASSERT(seen.size() == 30u);
    CO_ASSERT(c.assignment().size() == 3u);
    CO_ASSERT(!l->calls.empty());
    EXPECT_EQ(l->calls.front().kind, 1);
    EXPECT_EQ(c.group_status().state, GroupState::none);
    co_await c.stop();
    co_return true;
  };
  ConsumerConfig cfg = group_config(rig, "unused");
  cfg.group_id.reset();
  EXPECT_TRUE(run_async(body(cfg, topic), 60s));
}

}  // namespace
}  // namespace asiokafka::test
