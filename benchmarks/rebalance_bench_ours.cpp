// rebalance_bench: a member process running asiokafka::Consumer, driven as a group consumer
// application drives it: subscribe(topic, listener), getmany() in a loop on one io_context
// thread, auto commit on. The listener reports every assignment change; each getmany() result
// reports, per partition, that its records reached the application.
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/consumer.hpp"
#include "producer_bench.hpp"
#include "rebalance_bench.hpp"

namespace asiokafka::bench {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

std::vector<int> numbers(const std::vector<TopicPartition>& tps) {
  std::vector<int> out;
  for (const auto& tp : tps) out.push_back(tp.partition);
  return out;
}

// Reports each change and keeps the partitions this member holds, to report consumption of
// those only (as the driver counts them).
struct ReportingListener : ConsumerRebalanceListener {
  std::set<int> held;
  asio::awaitable<void> on_partitions_revoked(std::vector<TopicPartition> revoked) override {
    report_line('R', monotonic_ns(), numbers(revoked));
    for (const auto& tp : revoked) held.erase(tp.partition);
    co_return;
  }
  asio::awaitable<void> on_partitions_assigned(std::vector<TopicPartition> assigned) override {
    report_line('A', monotonic_ns(), numbers(assigned));
    for (const auto& tp : assigned) held.insert(tp.partition);
    co_return;
  }
  asio::awaitable<void> on_partitions_lost(std::vector<TopicPartition> lost) override {
    report_line('L', monotonic_ns(), numbers(lost));
    for (const auto& tp : lost) held.erase(tp.partition);
    co_return;
  }
};

std::vector<PartitionAssignor> strategy_of(const std::string& name) {
  if (name == "range") return {PartitionAssignor::range};
  if (name == "cooperative-sticky") return {PartitionAssignor::cooperative_sticky};
  throw std::runtime_error("ours: unknown strategy " + name);
}

ConsumerConfig config_of(const MemberSpec& spec) {
  ConsumerConfig c;
  c.bootstrap_servers = spec.bootstrap;
  c.client_id = "rebalance_bench-" + std::to_string(spec.index);
  c.group_id = spec.group;
  if (spec.protocol == "consumer") {
    // KIP-848: the coordinator assigns (its default assignor, uniform) and sets the session
    // and heartbeat times (the broker's group.consumer.* settings).
    c.group_protocol = GroupProtocol::consumer;
  } else {
    c.partition_assignment_strategy = strategy_of(spec.strategy);
  }
  c.session_timeout = std::chrono::milliseconds(spec.session_timeout_ms);
  c.heartbeat_interval = std::chrono::milliseconds(spec.heartbeat_ms);
  // librdkafka's JoinGroup rebalance timeout is its max.poll.interval.ms: the same value here.
  c.rebalance_timeout = std::chrono::milliseconds(spec.max_poll_ms);
  c.max_poll_interval = std::chrono::milliseconds(spec.max_poll_ms);
  c.enable_auto_commit = true;
  c.auto_commit_interval = std::chrono::milliseconds(spec.commit_interval_ms);
  c.auto_offset_reset = AutoOffsetReset::latest;
  c.fetch_min_bytes = 1;
  c.fetch_max_wait = std::chrono::milliseconds(spec.fetch_wait_ms);
  return c;
}

asio::awaitable<void> member_body(const MemberSpec& spec) {
  const auto ex = co_await asio::this_coro::executor;
  Consumer consumer(ex, config_of(spec));
  auto listener = std::make_shared<ReportingListener>();
  std::vector<std::string> topics{spec.topic};
  consumer.subscribe(topics, listener);
  co_await consumer.start();
  GetManyOptions opts;
  opts.timeout = 100ms;  // how soon a SIGTERM is noticed
  while (!stop_requested()) {
    const RecordBatches batches = co_await consumer.getmany(opts);
    if (batches.empty()) continue;
    const std::uint64_t now = monotonic_ns();  // handed to the application now
    for (const auto& entry : batches) {
      if (!entry.second.empty() && listener->held.count(entry.first.partition)) {
        report_line('C', now, {entry.first.partition});
      }
    }
  }
  co_await consumer.stop();  // commits and leaves the group
}

}  // namespace

std::string ours_unsupported(const std::string& protocol) {
  if (protocol == "classic" || protocol == "consumer") return "";
  return "unknown protocol " + protocol;
}

int run_member_ours(const MemberSpec& spec) {
  const std::string unsupported = ours_unsupported(spec.protocol);
  if (!unsupported.empty()) {
    report_error(unsupported);
    return 2;
  }
  try {
    asio::io_context io(1);
    std::exception_ptr failure;
    asio::co_spawn(io, member_body(spec), [&failure](std::exception_ptr e) { failure = e; });
    io.run();
    if (failure) std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    report_error(std::string("ours: ") + e.what());
    return 1;
  }
  return 0;
}

}  // namespace asiokafka::bench
