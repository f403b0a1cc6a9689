// Our Consumer and librdkafka's high-level consumer in one group, with each assignor both
// implement (range, roundrobin, cooperative-sticky), once with ours joining first (ours is the
// leader and computes the assignment) and once with librdkafka first: they split a 6-partition
// topic and consume a numbered stream exactly once between them, also across the rebalance
// when the second joins (records written meanwhile) and when it leaves again.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

#include <librdkafka/rdkafka.h>

#include "asiokafka/consumer.hpp"
#include "asiokafka/producer.hpp"
#include "support/async.hpp"
#include "support/poll.hpp"
#include "support/rig.hpp"
#include "support/topics.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr int partitions = 6;

#define CO_ASSERT(cond)                             \
  do {                                              \
    if (!(cond)) {                                  \
      ADD_FAILURE() << "assertion failed: " #cond;  \
      co_return false;                              \
    }                                               \
  } while (false)

// librdkafka's high-level consumer, polled on a thread of its own (bounded: 3 minutes at
// most), auto-committing as ours does. Records and the assignment are read under a lock.
class RdkMember {
 public:
  RdkMember(const std::string& bootstrap, const std::string& topic, const std::string& group,
            const std::string& strategy) {
    char err[512];
    rd_kafka_conf_t* conf = rdk_conf(bootstrap, {{"group.id", group},
                                                 {"partition.assignment.strategy", strategy},
                                                 {"auto.offset.reset", "earliest"},
                                                 {"enable.auto.commit", "true"},
                                                 {"auto.commit.interval.ms", "500"},
                                                 {"session.timeout.ms", "6000"},
                                                 {"heartbeat.interval.ms", "500"},
                                                 {"client.id", "rdk-member"}});
    rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk_) throw std::runtime_error(std::string("rd_kafka_new: ") + err);
    rd_kafka_poll_set_consumer(rk_);
    rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, topic.c_str(), RD_KAFKA_PARTITION_UA);
    const rd_kafka_resp_err_t e = rd_kafka_subscribe(rk_, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (e) throw std::runtime_error(std::string("rd_kafka_subscribe: ") + rd_kafka_err2str(e));
    thread_ = std::thread([this] { loop(); });
  }
  ~RdkMember() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    rd_kafka_destroy(rk_);
  }
  RdkMember(const RdkMember&) = delete;
  RdkMember& operator=(const RdkMember&) = delete;

  /// Ends the poll loop; the thread closes the consumer (commit, leave). closed() then.
  void request_stop() { stop_ = true; }
  bool closed() const { return closed_; }

  std::vector<int> values() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return values_;
  }
  std::set<std::int32_t> assignment() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return assignment_;
  }
  std::string error() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return error_;
  }

 private:
  void loop() {
    const auto deadline = std::chrono::steady_clock::now() + 180s;
    while (!stop_ && std::chrono::steady_clock::now() < deadline) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, 50);
      std::lock_guard<std::mutex> lock(mutex_);
      if (m) {
        if (m->err) {
          if (error_.empty()) error_ = rd_kafka_message_errstr(m);
        } else {
          const std::string value(static_cast<const char*>(m->payload), m->len);
          const int v = std::stoi(value);
          if (v % partitions != m->partition && error_.empty()) error_ = "value " + value + " on a wrong partition";
          values_.push_back(v);
        }
        rd_kafka_message_destroy(m);
      }
      rd_kafka_topic_partition_list_t* parts = nullptr;
      if (rd_kafka_assignment(rk_, &parts) == RD_KAFKA_RESP_ERR_NO_ERROR && parts) {
        assignment_.clear();
        for (int i = 0; i < parts->cnt; ++i) assignment_.insert(parts->elems[i].partition);
        rd_kafka_topic_partition_list_destroy(parts);
      }
    }
    rd_kafka_consumer_close(rk_);
    closed_ = true;
  }

  rd_kafka_t* rk_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> closed_{false};
  mutable std::mutex mutex_;
  std::vector<int> values_;
  std::set<std::int32_t> assignment_;
  std::string error_;
};

// Our member: the consumer and a drain task on the test's io_context, which owns both
// (shared) so that an early end of the test cannot leave the task dangling.
struct OurMember {
  std::shared_ptr<Consumer> consumer;
  std::shared_ptr<std::vector<int>> values = std::make_shared<std::vector<int>>();
  std::shared_ptr<bool> stop = std::make_shared<bool>(false);
  std::shared_ptr<bool> drained = std::make_shared<bool>(false);
};

asio::awaitable<void> drain(std::shared_ptr<Consumer> c, std::shared_ptr<std::vector<int>> values,
                            std::shared_ptr<bool> stop, std::shared_ptr<bool> drained) {
  try {
    for (int i = 0; i < 2'000 && !*stop; ++i) {  // 100 ms each at most: bounded
      GetManyOptions o;
      o.timeout = 100ms;
      RecordBatches batches = co_await c->getmany(o);
      for (const auto& entry : batches) {
        for (const auto& r : entry.second) {
          const int v = std::stoi(std::string(r.value ? r.value->as_string() : std::string_view("-1")));
          EXPECT_EQ(v % partitions, r.partition) << "value " << v;
          values->push_back(v);
        }
      }
    }
  } catch (const error& e) {
    if (e.code() != client_errc::consumer_stopped) ADD_FAILURE() << "our consumer: " << e.what();
  }
  *drained = true;
}

// Values [from, to) with value v on partition v % 6, every one acknowledged.
asio::awaitable<void> produce_range(Producer& producer, std::string topic, int from, int to) {
  std::vector<DeliveryHandle> handles;
  for (int v = from; v < to; ++v) {
    const std::string value = std::to_string(v);
    SendOptions options;
    options.partition = v % partitions;
    handles.push_back(co_await producer.send(topic, value, options));
  }
  for (auto& h : handles) (void)co_await h.async_wait();
}

struct Case {
  PartitionAssignor ours;
  const char* rdk;
  bool ours_first;
};

class ConsumerGroupInterop : public ::testing::TestWithParam<Case> {};

asio::awaitable<bool> scenario(Case param, std::string bootstrap, std::string topic, std::string group,
                               std::unique_ptr<RdkMember>& rdk) {
  const auto ex = co_await asio::this_coro::executor;
  ProducerConfig pc;
  pc.bootstrap_servers = bootstrap;
  Producer producer(ex, pc);
  co_await producer.start();
  ConsumerConfig cc;
  cc.bootstrap_servers = bootstrap;
  cc.group_id = group;
  cc.client_id = "our-member";
  cc.auto_offset_reset = AutoOffsetReset::earliest;
  cc.session_timeout = 6'000ms;
  cc.heartbeat_interval = 500ms;
  cc.auto_commit_interval = 500ms;
  cc.partition_assignment_strategy = {param.ours};
  OurMember ours;
  ours.consumer = std::make_shared<Consumer>(ex, cc);
  // The stop of the drain task on every way out; it ends within its 100 ms getmany().
  struct stop_drain {
    std::shared_ptr<bool> stop;
    ~stop_drain() { *stop = true; }
  } stopper{ours.stop};

  auto start_ours = [&]() -> asio::awaitable<void> {
    ours.consumer->subscribe(std::vector<std::string>{topic});
    co_await ours.consumer->start();
    asio::co_spawn(ex, drain(ours.consumer, ours.values, ours.stop, ours.drained), asio::detached);
  };
  auto start_rdk = [&] { rdk = std::make_unique<RdkMember>(bootstrap, topic, group, param.rdk); };
  // Every value consumed, over both members, as value -> times.
  auto counts = [&] {
    std::map<int, int> times;
    for (const int v : *ours.values) ++times[v];
    if (rdk) {
      for (const int v : rdk->values()) ++times[v];
    }
    return times;
  };
  auto all_once_up_to = [&](int n) {
    const auto times = counts();
    return times.size() == static_cast<std::size_t>(n) && times.rbegin()->first == n - 1;
  };
  auto ours_held = [&] {
    std::set<std::int32_t> out;
    const GroupStatus s = ours.consumer->group_status();
    if (s.state != GroupState::stable) return std::set<std::int32_t>{};
    for (const auto& tp : s.assignment) out.insert(tp.partition);
    return out;
  };

  // 1. The first member alone: every partition, the first 600 records.
  co_await produce_range(producer, topic, 0, 600);
  if (param.ours_first) {
    co_await start_ours();
  } else {
    start_rdk();
  }
  const bool first_alone = co_await eventually_async(
      [&] {
        const auto held = param.ours_first ? ours_held() : rdk->assignment();
        return held.size() == static_cast<std::size_t>(partitions) && all_once_up_to(600);
      },
      60s, 20ms);
  CO_ASSERT(first_alone);

  // 2. The second joins while 600 more are written: they split 3 and 3.
  if (param.ours_first) {
    start_rdk();
  } else {
    co_await start_ours();
  }
  co_await produce_range(producer, topic, 600, 1200);
  const bool split = co_await eventually_async(
      [&] {
        const auto a = ours_held();
        const auto b = rdk->assignment();
        std::set<std::int32_t> all(a.begin(), a.end());
        all.insert(b.begin(), b.end());
        return a.size() == 3 && b.size() == 3 && all.size() == static_cast<std::size_t>(partitions);
      },
      60s, 20ms);
  CO_ASSERT(split);
  EXPECT_EQ(ours.consumer->group_status().leader, param.ours_first) << "the first member to join leads";

  // 3. 600 more with both members stable; every record so far once, both got some.
  co_await produce_range(producer, topic, 1200, 1800);
  const bool both_read = co_await eventually_async([&] { return all_once_up_to(1800); }, 60s, 20ms);
  CO_ASSERT(both_read);
  std::set<int> ours_after_join;
  for (const int v : *ours.values) ours_after_join.insert(v);
  std::set<int> rdk_after_join;
  for (const int v : rdk->values()) rdk_after_join.insert(v);
  EXPECT_TRUE(std::any_of(ours_after_join.begin(), ours_after_join.end(), [](int v) { return v >= 1200; }));
  EXPECT_TRUE(std::any_of(rdk_after_join.begin(), rdk_after_join.end(), [](int v) { return v >= 1200; }));

  // 4. The second leaves (committing what it consumed); the first takes all back and reads on
  // from those commits.
  if (param.ours_first) {
    rdk->request_stop();
    CO_ASSERT(co_await eventually_async([&] { return rdk->closed(); }, 30s, 20ms));
  } else {
    *ours.stop = true;
    CO_ASSERT(co_await eventually_async([&] { return *ours.drained; }, 10s, 10ms));
    co_await ours.consumer->stop();
  }
  co_await produce_range(producer, topic, 1800, 1860);
  const bool back = co_await eventually_async(
      [&] {
        if (param.ours_first) return ours_held().size() == static_cast<std::size_t>(partitions) && all_once_up_to(1860);
        return rdk->assignment().size() == static_cast<std::size_t>(partitions) && all_once_up_to(1860);
      },
      60s, 20ms);
  CO_ASSERT(back);

  // Exactly once: every value 0..1859 consumed, by one member only (the hand-overs between
  // the two implementations lost and repeated nothing), and by that member once.
  const auto times = counts();
  EXPECT_EQ(times.size(), 1860u);
  std::map<int, int> by_ours;
  for (const int v : *ours.values) ++by_ours[v];
  std::map<int, int> by_rdk;
  for (const int v : rdk->values()) ++by_rdk[v];
  int both = 0;
  int ours_twice = 0;
  std::map<int, int> rdk_twice;  // partition -> values librdkafka consumed more than once
  for (const auto& t : by_ours) {
    both += by_rdk.count(t.first) > 0;
    ours_twice += t.second > 1;
  }
  for (const auto& t : by_rdk) {
    if (t.second > 1) ++rdk_twice[t.first % partitions];
  }
  EXPECT_EQ(both, 0) << "records consumed by both members: a hand-over between them repeated records";
  EXPECT_EQ(ours_twice, 0) << "records our consumer returned more than once";
  // librdkafka before 2.4 (issue #4637): partitions it keeps across an incremental
  // (cooperative) rebalance are resumed from the offset their fetching first started at, so
  // it reads them again itself. That happens only when librdkafka owned partitions before a
  // cooperative rebalance: then its own repeats are tolerated (and reported), nothing else.
  const bool rdk_resume_bug = std::string(param.rdk) == "cooperative-sticky" && !param.ours_first &&
                              rd_kafka_version() < 0x020400ff;
  int rdk_repeated = 0;
  for (const auto& d : rdk_twice) {
    rdk_repeated += d.second;
    if (!rdk_resume_bug) ADD_FAILURE() << "librdkafka consumed " << d.second << " values of partition " << d.first << " twice";
  }
  ::testing::Test::RecordProperty("librdkafka_repeated", rdk_repeated);
  EXPECT_EQ(rdk->error(), "");
  *ours.stop = true;
  CO_ASSERT(co_await eventually_async([&] { return *ours.drained; }, 10s, 10ms));
  co_await ours.consumer->stop();
  co_await producer.stop();
  co_return true;
}

TEST_P(ConsumerGroupInterop, OursAndLibrdkafkaShareATopicAndReadEveryRecordOnce) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string bootstrap = rig.bootstrap("PLAINTEXT");
  const std::string topic = unique_topic("group-interop");
  create_topic(bootstrap, topic, partitions);
  // Outside the coroutine: its thread is joined here, after the io_context is gone.
  std::unique_ptr<RdkMember> rdk;
  EXPECT_TRUE(run_async(scenario(GetParam(), bootstrap, topic, unique_topic("group-interop-g"), rdk), 240s));
}

INSTANTIATE_TEST_SUITE_P(
    Assignors, ConsumerGroupInterop,
    ::testing::Values(Case{PartitionAssignor::range, "range", true}, Case{PartitionAssignor::range, "range", false},
                      Case{PartitionAssignor::roundrobin, "roundrobin", true},
                      Case{PartitionAssignor::roundrobin, "roundrobin", false},
                      Case{PartitionAssignor::cooperative_sticky, "cooperative-sticky", true},
                      Case{PartitionAssignor::cooperative_sticky, "cooperative-sticky", false}),
    [](const ::testing::TestParamInfo<Case>& p) {
      std::string name = p.param.rdk;
      for (auto& ch : name) ch = ch == '-' ? '_' : ch;
      return name + (p.param.ours_first ? "_OursFirst" : "_LibrdkafkaFirst");
    });

}  // namespace
}  // namespace asiokafka::test
