// Three consumer_group example processes (examples/consumer_group.cpp) share a 12-partition
// topic while our producer writes a numbered stream; one is SIGKILLed, and the two others take
// its partitions once the coordinator expires its session. Every record written is consumed
// at least once (the union of the processes' REC lines), and the group's committed offsets,
// read all along, never go backward and end at the high watermarks.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asiokafka/consumer.hpp"
#include "asiokafka/producer.hpp"
#include "support/async.hpp"
#include "support/child_process.hpp"
#include "support/consumer_group.hpp"
#include "support/example_lines.hpp"
#include "support/poll.hpp"
#include "support/rig.hpp"
#include "support/topics.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr int partitions = 12;

#define CO_ASSERT(cond)                             \
  do {                                              \
    if (!(cond)) {                                  \
      ADD_FAILURE() << "assertion failed: " #cond;  \
      co_return false;                              \
    }                                               \
  } while (false)

// One consumer_group process and what it printed so far.
struct Member {
  Member(const std::vector<std::string>& args, const TempDir& dir, int n)
      : out(dir.path() / ("member" + std::to_string(n) + ".out")),
        process(std::string(ASIOKAFKA_EXAMPLES_DIR) + "/consumer_group", args, out,
                dir.path() / ("member" + std::to_string(n) + ".err")),
        reader(out) {}

  void read() {
    for (auto& line : reader.poll()) {
      if (auto r = parse_rec(line)) {
        recs.push_back(std::move(*r));
      } else {
        (void)apply_assignment_line(line, held);
      }
      last_line = std::move(line);
    }
  }

  std::filesystem::path out;
  ChildProcess process;  // killed and reaped on destruction, whatever happened
  LineReader reader;
  std::set<std::int32_t> held;
  std::vector<RecLine> recs;
  std::string last_line;
};

// The numbered stream: value v goes to partition v % 12; `acked` values were acknowledged.
struct Stream {
  int next = 0;
  int acked = 0;
  bool stop = false;
  bool finished = false;
  std::string error;
};

// The tasks own what they use (shared): a test that ends early cannot leave them dangling.
asio::awaitable<void> produce_stream(std::shared_ptr<Producer> producer, std::string topic, std::shared_ptr<Stream> state) {
  Stream& s = *state;
  asio::steady_timer pace(co_await asio::this_coro::executor);
  try {
    for (int round = 0; round < 5'000 && !s.stop; ++round) {
      std::vector<DeliveryHandle> handles;
      for (int i = 0; i < 60; ++i) {
        const int v = s.next++;
        const std::string value = std::to_string(v);
        SendOptions options;
        options.partition = v % partitions;
        handles.push_back(co_await producer->send(topic, value, options));
      }
      for (auto& h : handles) (void)co_await h.async_wait();  // throws the first failure
      s.acked = s.next;
      // A steady stream (about a thousand records a second), not a burst written at once.
      pace.expires_after(50ms);
      co_await pace.async_wait(asio::use_awaitable);
    }
  } catch (const std::exception& e) {
    s.error = e.what();
  }
  s.finished = true;
}

// The group's committed offsets, read again and again by a consumer that is not a member.
struct Commits {
  std::map<std::int32_t, std::int64_t> last;  // the last read per partition
  std::vector<std::string> backward;
  int rounds = 0;
  int errors = 0;
  bool stop = false;
  bool finished = false;
};

asio::awaitable<void> watch_commits(std::shared_ptr<Consumer> reader, std::string topic, std::shared_ptr<Commits> state) {
  Commits& c = *state;
  asio::steady_timer pace(co_await asio::this_coro::executor);
  for (int round = 0; round < 2'000 && !c.stop; ++round) {
    for (std::int32_t p = 0; p < partitions; ++p) {
      try {
        const std::optional<OffsetAndMetadata> got = co_await reader->committed(TopicPartition(topic, p));
        if (!got) continue;
        const auto it = c.last.find(p);
        if (it != c.last.end() && got->offset < it->second) {
          c.backward.push_back("partition " + std::to_string(p) + ": " + std::to_string(it->second) + " then " +
                               std::to_string(got->offset));
        }
        c.last[p] = got->offset;
      } catch (const error&) {
        ++c.errors;  // a coordinator moving or loading: the next round reads again
      }
    }
    ++c.rounds;
    pace.expires_after(100ms);
    co_await pace.async_wait(asio::use_awaitable);
  }
  c.finished = true;
}

// Each member holds `each` partitions and together they hold all 12 once.
bool split(const std::vector<Member*>& members, std::size_t each) {
  std::set<std::int32_t> all;
  for (auto* m : members) {
    m->read();
    if (m->held.size() != each) return false;
    all.insert(m->held.begin(), m->held.end());
  }
  return all.size() == static_cast<std::size_t>(partitions);
}

asio::awaitable<bool> scenario(std::string bootstrap, std::string topic, std::string group,
                               std::vector<std::unique_ptr<Member>>& members) {
  const auto ex = co_await asio::this_coro::executor;
  ProducerConfig pc;
  pc.bootstrap_servers = bootstrap;
  pc.linger = 5ms;
  auto producer = std::make_shared<Producer>(ex, pc);
  co_await producer->start();
  ConsumerConfig cc;
  cc.bootstrap_servers = bootstrap;
  cc.group_id = group;
  cc.enable_auto_commit = false;
  auto reader = std::make_shared<Consumer>(ex, cc);
  co_await reader->start();
  auto stream_state = std::make_shared<Stream>();
  auto commits_state = std::make_shared<Commits>();
  Stream& stream = *stream_state;
  Commits& commits = *commits_state;
  asio::co_spawn(ex, produce_stream(producer, topic, stream_state), asio::detached);
  asio::co_spawn(ex, watch_commits(reader, topic, commits_state), asio::detached);
  // Whatever happens below, the two tasks end soon after.
  struct stop_tasks {
    std::shared_ptr<Stream> s;
    std::shared_ptr<Commits> c;
    ~stop_tasks() {
      s->stop = true;
      c->stop = true;
    }
  } stopper{stream_state, commits_state};

  std::vector<Member*> all{members[0].get(), members[1].get(), members[2].get()};
  std::vector<Member*> survivors{members[1].get(), members[2].get()};
  // 1. The three share the partitions, 4 each, and consume.
  const bool three = co_await eventually_async(
      [&] {
        if (!split(all, 4)) return false;
        for (auto* m : all) {
          if (m->recs.empty()) return false;
        }
        return true;
      },
      60s, 20ms);
  CO_ASSERT(three);
  CO_ASSERT(stream.error.empty());

  // 2. SIGKILL one: it cannot leave the group; the coordinator expires its session (6 s:
  // the member's option in classic, the rig's group.consumer.session.timeout.ms in KIP-848).
  Member& victim = *members[0];
  const std::set<std::int32_t> orphaned = victim.held;
  victim.process.signal(SIGKILL);
  CO_ASSERT(co_await eventually_async([&] { return victim.process.poll_exit().has_value(); }, 10s, 10ms));
  victim.read();
  const auto killed_at = std::chrono::steady_clock::now();
  const bool took_over = co_await eventually_async([&] { return split(survivors, 6); }, 45s, 20ms);
  CO_ASSERT(took_over);
  const auto takeover = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - killed_at);
  ::testing::Test::RecordProperty("takeover_ms", static_cast<int>(takeover.count()));
  EXPECT_LT(takeover, 30s);

  // 3. More records on every partition after the takeover, then the stream ends.
  const int after = stream.next + 600;
  CO_ASSERT(co_await eventually_async([&] { return stream.acked >= after || !stream.error.empty(); }, 30s, 20ms));
  stream.stop = true;
  CO_ASSERT(co_await eventually_async([&] { return stream.finished; }, 30s, 20ms));
  CO_ASSERT(stream.error.empty());
  const int written = stream.acked;

  // 4. Every record written is consumed at least once, over the three processes.
  std::map<int, int> times;  // value -> how often consumed
  std::vector<std::string> misplaced;
  auto all_consumed = [&] {
    times.clear();
    misplaced.clear();
    for (auto* m : all) {
      m->read();
      for (const auto& r : m->recs) {
        const int v = std::stoi(r.value);
        if (v % partitions != r.partition) misplaced.push_back(r.value);
        ++times[v];
      }
    }
    return times.size() == static_cast<std::size_t>(written);
  };
  const bool consumed = co_await eventually_async(all_consumed, 60s, 50ms);
  EXPECT_TRUE(misplaced.empty()) << misplaced.size() << " records on a wrong partition";
  CO_ASSERT(consumed);
  CO_ASSERT(times.begin()->first == 0 && times.rbegin()->first == written - 1);
  int twice = 0;
  for (const auto& t : times) twice += t.second > 1;
  ::testing::Test::RecordProperty("consumed_more_than_once", twice);
  // The orphaned partitions were read on by the survivors.
  for (const std::int32_t p : orphaned) {
    bool read_on = false;
    for (auto* m : survivors) {
      for (const auto& r : m->recs) read_on = read_on || r.partition == p;
    }
    EXPECT_TRUE(read_on) << "no survivor read partition " << p;
  }

  // 5. The committed offsets end at the high watermarks, having never gone backward.
  std::vector<TopicPartition> tps;
  for (std::int32_t p = 0; p < partitions; ++p) tps.emplace_back(topic, p);
  const std::map<TopicPartition, std::int64_t> ends = co_await reader->end_offsets(tps);
  std::int64_t total = 0;
  for (const auto& e : ends) total += e.second;
  CO_ASSERT(total == written);
  const bool at_end = co_await eventually_async(
      [&] {
        for (const auto& e : ends) {
          const auto it = commits.last.find(e.first.partition);
          if (it == commits.last.end() || it->second != e.second) return false;
        }
        return true;
      },
      30s, 50ms);
  EXPECT_TRUE(at_end) << "the committed offsets did not reach the high watermarks";
  commits.stop = true;
  CO_ASSERT(co_await eventually_async([&] { return commits.finished; }, 30s, 20ms));
  EXPECT_TRUE(commits.backward.empty()) << "a committed offset went backward: " << commits.backward.front();
  EXPECT_GE(commits.rounds, 20) << "too few reads of the committed offsets to tell";

  // 6. SIGTERM: the survivors stop cleanly.
  for (auto* m : survivors) m->process.signal(SIGTERM);
  for (auto* m : survivors) {
    CO_ASSERT(co_await eventually_async([&] { return m->process.poll_exit().has_value(); }, 30s, 20ms));
    const int status = *m->process.poll_exit();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
    m->read();
    EXPECT_EQ(m->last_line.rfind("DONE ", 0), 0u) << m->last_line;
  }
  co_await reader->stop();
  co_await producer->stop();
  co_return true;
}

TEST(ConsumerGroupProcesses, AKilledMembersPartitionsGoToTheOthersAndNoRecordIsLost) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string bootstrap = rig.bootstrap("PLAINTEXT");
  const std::string topic = unique_topic("group-procs");
  const std::string group = unique_topic("group-procs-g");
  create_topic(bootstrap, topic, partitions);
  TempDir dir("asiokafka-group-procs");
  std::vector<std::unique_ptr<Member>> members;
  for (int i = 0; i < 3; ++i) {
    // --idle-exit-ms: a process the test lost track of ends by itself.
    members.push_back(std::make_unique<Member>(
        std::vector<std::string>{bootstrap, topic, group, "--session-timeout-ms", "6000", "--idle-exit-ms", "180000",
                                 "--group-protocol", group_protocol_name()},
        dir, i));
  }
  EXPECT_TRUE(run_async(scenario(bootstrap, topic, group, members), 300s));
  if (::testing::Test::HasFailure()) {
    dir.keep();
    // CI keeps only the log: the members' own lines (not their records) go into it too.
    std::string seen;
    for (int i = 0; i < 3; ++i) {
      for (const char* ext : {".out", ".err"}) {
        std::ifstream in(dir.path() / ("member" + std::to_string(i) + ext));
        std::vector<std::string> lines;
        for (std::string line; std::getline(in, line);) {
          if (line.rfind("REC ", 0) != 0) lines.push_back(std::move(line));
        }
        const std::size_t from = lines.size() > 20 ? lines.size() - 20 : 0;
        for (std::size_t k = from; k < lines.size(); ++k) seen += "member" + std::to_string(i) + ext + ": " + lines[k] + "\n";
      }
    }
    ADD_FAILURE() << "the processes' output is in " << dir.path() << "; their last lines:\n" << seen;
  }
}

}  // namespace
}  // namespace asiokafka::test
