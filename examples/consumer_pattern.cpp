// aiokafka's "topic subscription by pattern": the consumer reads every topic whose name matches
// a regular expression, and notices topics created (or deleted) later at its periodic metadata
// refresh (metadata_max_age apart). In a group, the group's leader sees the change and starts
// a rebalance, so the new topic's partitions are handed out.
//
//   consumer_pattern [bootstrap] [pattern] [group, "-" for none] [--max-records N]
//                    [--idle-exit-ms M] [--metadata-max-age-ms T] [--group-protocol classic|consumer]
//
// Lines: ASSIGNED <topic>:<partition>... (then SUBSCRIBED <topic>..., the topics matched
// now), REVOKED <topic>:<partition>..., REC <topic> <partition> <offset> <value>, DONE <n>.
#include <chrono>
#include <cstdio>
#include <memory>
#include <regex>
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
    "consumer_pattern [bootstrap] [pattern] [group, - for none] [--max-records N] [--idle-exit-ms M] "
    "[--metadata-max-age-ms T] [--group-protocol classic|consumer]";

std::string names_of(const std::vector<asiokafka::TopicPartition>& tps) {
  std::string out;
  for (const auto& tp : tps) out += " " + tp.topic + ":" + std::to_string(tp.partition);
  return out;
}

class PrintingListener : public asiokafka::ConsumerRebalanceListener {
 public:
  explicit PrintingListener(asiokafka::Consumer& consumer) : consumer_(consumer) {}
  asio::awaitable<void> on_partitions_revoked(std::vector<asiokafka::TopicPartition> revoked) override {
    std::printf("REVOKED%s\n", names_of(revoked).c_str());
    co_return;
  }
  asio::awaitable<void> on_partitions_assigned(std::vector<asiokafka::TopicPartition> assigned) override {
    std::printf("ASSIGNED%s\n", names_of(assigned).c_str());
    std::string topics;
    for (const auto& t : consumer_.subscription()) topics += " " + t;
    std::printf("SUBSCRIBED%s\n", topics.c_str());
    co_return;
  }

 private:
  asiokafka::Consumer& consumer_;
};

asio::awaitable<void> run(examples::CommandLine cl) {
  asiokafka::ConsumerConfig config;
  config.bootstrap_servers = cl.arg(0, "127.0.0.1:9092");
  const std::regex pattern(cl.arg(1, "example-pattern-.*"));  // matches whole topic names
  const std::string group = cl.arg(2, "-");
  if (group != "-") config.group_id = group;  // without one: every partition of every match
  config.group_protocol = examples::group_protocol_of(cl);
  // From the beginning: records written to a new topic before the next metadata refresh
  // finds it are read too (with latest they would be skipped).
  config.auto_offset_reset = asiokafka::AutoOffsetReset::earliest;
  config.metadata_max_age = std::chrono::milliseconds(cl.number("metadata-max-age-ms", 30'000));

  asiokafka::Consumer consumer(co_await asio::this_coro::executor, config);
  consumer.subscribe(pattern, std::make_shared<PrintingListener>(consumer));
  co_await consumer.start();
  examples::StopOnSignal stop_on_signal(consumer);
  examples::RunLimits limits(cl);
  long long consumed = 0;
  // The async loop would do (`while (auto r = co_await consumer.next())`); getmany() with a
  // timeout lets the run end after --idle-exit-ms.
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
        std::printf("REC %s %d %lld %s\n", std::string(r.topic).c_str(), r.partition,
                    static_cast<long long>(r.offset), value.c_str());
        ++got;
      }
    }
    consumed += static_cast<long long>(got);
    if (limits.done(consumed, got)) break;
  }
  co_await consumer.stop();  // with a group: commits the consumed positions and leaves
  std::printf("DONE %lld\n", consumed);
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // a line at a time, also into a pipe or a file
  examples::CommandLine cl(argc, argv, {"max-records", "idle-exit-ms", "metadata-max-age-ms", "group-protocol"}, usage);
  return examples::run(run(cl), "consumer_pattern");
}
