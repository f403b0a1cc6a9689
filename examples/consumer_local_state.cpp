// aiokafka's "local state consumer": counts the records of each key per partition, and keeps
// those counts together with the partition's position in a file of its own instead of
// committing offsets to Kafka. The rebalance listener saves a partition's file before the
// partition goes and loads it when one comes, then seeks to the position stored with the
// counts, so counts and position always agree (no record counted twice or missed) however
// the partitions move between the copies of the program.
//
//   consumer_local_state [bootstrap] [topic] [group] [state directory] [--max-records N]
//                        [--idle-exit-ms M] [--group-protocol classic|consumer]
//
// Lines: ASSIGNED/REVOKED <partition>..., LOADED/SAVED <partition> <next offset> <records
// counted>, DISCARDED <partition> (a stale file), REC <partition> <offset> <key>, at the end
// COUNT <partition> <key> <n> for the partitions held, then DONE <records consumed>.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
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
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr const char* usage =
    "consumer_local_state [bootstrap] [topic] [group] [state directory] [--max-records N] [--idle-exit-ms M]" " [--group-protocol classic|consumer]";

struct PartitionState {
  std::int64_t next_offset = -1;  ///< -1: nothing counted yet, read from the beginning
  std::map<std::string, long long> counts;
  long long total() const {
    long long n = 0;
    for (const auto& c : counts) n += c.second;
    return n;
  }
};

// The counts of the partitions this copy holds, and their files: "<dir>/<topic>-<partition>.state"
// holding "next_offset <n>" then one "count <n> <key>" line per key.
class LocalState {
 public:
  explicit LocalState(fs::path dir) : dir_(std::move(dir)) { fs::create_directories(dir_); }

  PartitionState& load(const asiokafka::TopicPartition& tp) {
    PartitionState s;
    std::ifstream in(file_of(tp));
    std::string word;
    if (in >> word && word == "next_offset") in >> s.next_offset;
    long long n = 0;
    while (in >> word >> n && word == "count") {
      std::string key;
      std::getline(in >> std::ws, key);
      s.counts[key] = n;
    }
    return held_[tp] = std::move(s);
  }

  // Written to a new file that then replaces the old one: a crash while writing leaves the
  // previous state, never half of one.
  void save(const asiokafka::TopicPartition& tp) const {
    const auto it = held_.find(tp);
    if (it == held_.end()) return;
    const fs::path file = file_of(tp);
    const fs::path next = file.string() + ".new";
    {
      std::ofstream out(next, std::ios::trunc);
      out << "next_offset " << it->second.next_offset << "\n";
      for (const auto& c : it->second.counts) out << "count " << c.second << " " << c.first << "\n";
      if (!out.flush()) throw std::runtime_error("cannot write " + next.string());
    }
    fs::rename(next, file);
  }
  void save_all() const {
    for (const auto& entry : held_) save(entry.first);
  }

  void drop(const asiokafka::TopicPartition& tp) { held_.erase(tp); }
  PartitionState* find(const asiokafka::TopicPartition& tp) {
    const auto it = held_.find(tp);
    return it == held_.end() ? nullptr : &it->second;
  }
  const std::map<asiokafka::TopicPartition, PartitionState>& held() const { return held_; }

 private:
  fs::path file_of(const asiokafka::TopicPartition& tp) const {
    return dir_ / (tp.topic + "-" + std::to_string(tp.partition) + ".state");
  }
  fs::path dir_;
  std::map<asiokafka::TopicPartition, PartitionState> held_;
};

class StateListener : public asiokafka::ConsumerRebalanceListener {
 public:
  StateListener(asiokafka::Consumer& consumer, LocalState& state) : consumer_(consumer), state_(state) {}

  asio::awaitable<void> on_partitions_revoked(std::vector<asiokafka::TopicPartition> revoked) override {
    std::string line = "REVOKED";
    for (const auto& tp : revoked) {
      if (const PartitionState* s = state_.find(tp)) {
        state_.save(tp);
        std::printf("SAVED %d %lld %lld\n", tp.partition, static_cast<long long>(s->next_offset), s->total());
      }
      state_.drop(tp);
      line += " " + std::to_string(tp.partition);
    }
    std::printf("%s\n", line.c_str());
    co_return;
  }

  asio::awaitable<void> on_partitions_assigned(std::vector<asiokafka::TopicPartition> assigned) override {
    std::string line = "ASSIGNED";
    for (const auto& tp : assigned) line += " " + std::to_string(tp.partition);
    std::printf("%s\n", line.c_str());
    if (assigned.empty()) co_return;
    // A stored position outside the log (the topic was recreated, or old records were
    // deleted) belongs to other data: those counts are dropped and the partition re-read.
    const auto first = co_await consumer_.beginning_offsets(assigned);
    const auto end = co_await consumer_.end_offsets(assigned);
    for (const auto& tp : assigned) {
      PartitionState* s = &state_.load(tp);
      if (s->next_offset >= 0 && (s->next_offset < first.at(tp) || s->next_offset > end.at(tp))) {
        std::printf("DISCARDED %d\n", tp.partition);
        *s = PartitionState{};
      }
      std::printf("LOADED %d %lld %lld\n", tp.partition, static_cast<long long>(s->next_offset), s->total());
      if (s->next_offset >= 0) {
        consumer_.seek(tp, s->next_offset);
      } else {
        consumer_.seek(tp, first.at(tp));
      }
    }
  }

  // Another member may own them already and have counted further: this copy's counts are
  // stale, so they are dropped without saving.
  asio::awaitable<void> on_partitions_lost(std::vector<asiokafka::TopicPartition> lost) override {
    for (const auto& tp : lost) state_.drop(tp);
    co_return;
  }

 private:
  asiokafka::Consumer& consumer_;
  LocalState& state_;
};

asio::awaitable<void> run(examples::CommandLine cl) {
  const std::string bootstrap = cl.arg(0, "127.0.0.1:9092");
  const std::string topic = cl.arg(1, "example-local-state");
  asiokafka::ConsumerConfig config;
  config.bootstrap_servers = bootstrap;
  config.group_id = cl.arg(2, "example-local-state-counters");  // for the partition assignment only
  config.group_protocol = examples::group_protocol_of(cl);
  config.enable_auto_commit = false;  // the positions live in the state files, not in Kafka
  co_await examples::ensure_topic(bootstrap, topic, 2);

  LocalState state(cl.arg(3, (fs::temp_directory_path() / "asiokafka-local-state").string()));
  asiokafka::Consumer consumer(co_await asio::this_coro::executor, config);
  consumer.subscribe(std::vector<std::string>{topic}, std::make_shared<StateListener>(consumer, state));
  co_await consumer.start();
  examples::StopOnSignal stop_on_signal(consumer);
  examples::RunLimits limits(cl);
  long long consumed = 0;
  auto saved = std::chrono::steady_clock::now();
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
      PartitionState* s = state.find(batch.first);
      if (!s) continue;  // cannot happen: records come only of partitions whose listener ran
      for (const auto& r : batch.second) {
        const std::string key = r.key ? std::string(r.key->as_string()) : "-";
        std::printf("REC %d %lld %s\n", r.partition, static_cast<long long>(r.offset), key.c_str());
        ++s->counts[key];
        s->next_offset = r.offset + 1;
        ++got;
      }
    }
    consumed += static_cast<long long>(got);
    // Also saved now and then, so that a crash loses at most a second of counting.
    if (std::chrono::steady_clock::now() - saved >= 1s) {
      state.save_all();
      saved = std::chrono::steady_clock::now();
    }
    if (limits.done(consumed, got)) break;
  }
  for (const auto& entry : state.held()) {
    for (const auto& c : entry.second.counts) {
      std::printf("COUNT %d %s %lld\n", entry.first.partition, c.first.c_str(), c.second);
    }
  }
  co_await consumer.stop();  // leaving the group revokes: the listener saves every file
  std::printf("DONE %lld\n", consumed);
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // a line at a time, also into a pipe or a file
  examples::CommandLine cl(argc, argv, {"max-records", "idle-exit-ms", "group-protocol"}, usage);
  return examples::run(run(cl), "consumer_local_state");
}
