// aiokafka's "group consumer": every copy of this program started with the same group shares
// the topic's partitions with the others (the group coordinator hands them out and moves them
// when a copy starts, stops or dies). Records are processed, here printed, before their
// offsets are committed, so a copy that dies re-delivers at most what it had not committed
// to the copy that takes its partitions over (at least once).
//
//   consumer_group [bootstrap] [topic] [group] [--max-records N] [--idle-exit-ms M]
//                  [--session-timeout-ms S] [--strategy range|roundrobin|sticky|cooperative-sticky]
//
// It runs until SIGINT or SIGTERM, N records, or M ms without a record. One line per event,
// written at once (a test reads them while the program runs):
//   ASSIGNED <partition>...   REVOKED <partition>...   LOST <partition>...
//   REC <partition> <offset> <value>
//   DONE <records consumed>
#include <chrono>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/this_coro.hpp>

#include "asiokafka/consumer.hpp"
#include "cli.hpp"
#include "common.hpp"
#include "run_limits.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr const char* usage =
    "consumer_group [bootstrap] [topic] [group] [--max-records N] [--idle-exit-ms M] [--session-timeout-ms S] "
    "[--strategy range|roundrobin|sticky|cooperative-sticky]" " [--group-protocol classic|consumer]";

std::string partitions_of(const std::vector<asiokafka::TopicPartition>& tps) {
  std::string out;
  for (const auto& tp : tps) out += " " + std::to_string(tp.partition);
  return out;
}

// Prints every assignment change and commits before partitions go: enable_auto_commit is off,
// so without this commit the member taking them over would re-read what was processed since
// the last commit.
class CommittingListener : public asiokafka::ConsumerRebalanceListener {
 public:
  explicit CommittingListener(asiokafka::Consumer& consumer) : consumer_(consumer) {}

  asio::awaitable<void> on_partitions_revoked(std::vector<asiokafka::TopicPartition> revoked) override {
    try {
      co_await consumer_.commit();
    } catch (const asiokafka::error& e) {
      std::fprintf(stderr, "consumer_group: commit before revoking failed: %s\n", e.what());
    }
    std::printf("REVOKED%s\n", partitions_of(revoked).c_str());
  }
  asio::awaitable<void> on_partitions_assigned(std::vector<asiokafka::TopicPartition> assigned) override {
    std::printf("ASSIGNED%s\n", partitions_of(assigned).c_str());
    co_return;
  }
  // Lost, not revoked: another member may own them already, so there is nothing to commit.
  asio::awaitable<void> on_partitions_lost(std::vector<asiokafka::TopicPartition> lost) override {
    std::printf("LOST%s\n", partitions_of(lost).c_str());
    co_return;
  }

 private:
  asiokafka::Consumer& consumer_;
};

asiokafka::PartitionAssignor strategy_of(const std::string& name) {
  if (name == "range") return asiokafka::PartitionAssignor::range;
  if (name == "sticky") return asiokafka::PartitionAssignor::sticky;
  if (name == "cooperative-sticky") return asiokafka::PartitionAssignor::cooperative_sticky;
  if (name == "roundrobin") return asiokafka::PartitionAssignor::roundrobin;
  throw std::invalid_argument("unknown --strategy " + name);
}

asio::awaitable<void> run(examples::CommandLine cl) {
  const std::string bootstrap = cl.arg(0, "127.0.0.1:9092");
  const std::string topic = cl.arg(1, "example-group");
  asiokafka::ConsumerConfig config;
  config.bootstrap_servers = bootstrap;
  config.group_id = cl.arg(2, "example-group-workers");
  config.group_protocol = examples::group_protocol_of(cl);
  config.auto_offset_reset = asiokafka::AutoOffsetReset::earliest;  // a new group reads from the start
  config.enable_auto_commit = false;  // committed below, after each batch is processed
  config.session_timeout = std::chrono::milliseconds(cl.number("session-timeout-ms", 10'000));
  config.heartbeat_interval = config.session_timeout / 3;
  config.partition_assignment_strategy = {strategy_of(cl.text("strategy", "roundrobin"))};
  co_await examples::ensure_topic(bootstrap, topic, 4);  // 4 partitions when it is new

  asiokafka::Consumer consumer(co_await asio::this_coro::executor, config);
  consumer.subscribe(std::vector<std::string>{topic}, std::make_shared<CommittingListener>(consumer));
  co_await consumer.start();
  examples::StopOnSignal stop_on_signal(consumer);
  examples::RunLimits limits(cl);
  long long consumed = 0;
  for (;;) {
    asiokafka::RecordBatches batches;
    try {
      batches = co_await consumer.getmany({.timeout = 200ms, .max_records = limits.room(consumed)});
    } catch (const asiokafka::error& e) {
      if (e.code() == asiokafka::client_errc::consumer_stopped) break;  // SIGINT / SIGTERM
      throw;
    }
    std::size_t got = 0;
    for (const auto& batch : batches) {
      for (const auto& r : batch.second) {
        const std::string value = r.value ? std::string(r.value->as_string()) : "-";
        std::printf("REC %d %lld %s\n", r.partition, static_cast<long long>(r.offset), value.c_str());
        ++got;
      }
    }
    consumed += static_cast<long long>(got);
    if (got > 0) {
      // Processed (printed): now their offsets may be committed. A refused commit (the group
      // is rebalancing) is not fatal: the revoke listener commits again before they go.
      try {
        co_await consumer.commit();
      } catch (const asiokafka::error& e) {
        if (e.code() == asiokafka::client_errc::consumer_stopped) break;
        std::fprintf(stderr, "consumer_group: %s\n", e.what());
      }
    }
    if (limits.done(consumed, got)) break;
  }
  co_await consumer.stop();  // leaves the group: the others take the partitions at once
  std::printf("DONE %lld\n", consumed);
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // a line at a time, also into a pipe or a file
  examples::CommandLine cl(argc, argv, {"max-records", "idle-exit-ms", "session-timeout-ms", "strategy", "group-protocol"}, usage);
  return examples::run(run(cl), "consumer_group");
}
