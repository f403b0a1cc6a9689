// aiokafka's group examples (examples/consumer_group.cpp, consumer_local_state.cpp,
// consumer_pattern.cpp) run as programs against the single-node broker: records are written
// first, then each example's output lines (and the local state files) are checked.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <boost/asio/this_coro.hpp>

#include "asiokafka/producer.hpp"
#include "support/async.hpp"
#include "support/child_process.hpp"
#include "support/consumer_group.hpp"
#include "support/example_lines.hpp"
#include "support/numbered_records.hpp"
#include "support/poll.hpp"
#include "support/rig.hpp"
#include "support/topics.hpp"

namespace asiokafka::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

std::string example(const char* name) { return std::string(ASIOKAFKA_EXAMPLES_DIR) + "/" + name; }

// A finished example: every line of its stdout, and its stderr (for failure messages).
struct ExampleRun {
  std::vector<std::string> lines;
  std::string err;
  bool has(const std::string& line) const {
    for (const auto& l : lines) {
      if (l == line) return true;
    }
    return false;
  }
  std::vector<RecLine> recs() const {
    std::vector<RecLine> out;
    for (const auto& l : lines) {
      if (auto r = parse_rec(l)) out.push_back(*r);
    }
    return out;
  }
};

std::string slurp(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs an example to its end (bounded by `limit`), expecting exit status 0.
// The example's arguments with this run's --group-protocol (support/consumer_group.hpp).
std::vector<std::string> with_protocol(std::vector<std::string> args) {
  args.push_back("--group-protocol");
  args.push_back(group_protocol_name());
  return args;
}

ExampleRun run_example(const TempDir& dir, const char* name, const std::vector<std::string>& args,
                std::chrono::milliseconds limit = 60s) {
  static int n = 0;
  const auto out = dir.path() / (std::string(name) + "-" + std::to_string(++n) + ".out");
  const auto err = dir.path() / (std::string(name) + "-" + std::to_string(n) + ".err");
  std::optional<int> status;
  {
    ChildProcess child(example(name), with_protocol(args), out, err);
    status = child.wait_exit(limit);
  }
  ExampleRun run;
  LineReader reader(out);
  run.lines = reader.poll();
  run.err = slurp(err);
  EXPECT_TRUE(status.has_value()) << name << " did not end within " << limit.count() << " ms; stderr:\n" << run.err;
  if (status) {
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << name << " ended with status " << *status
                                                                 << "; stderr:\n"
                                                                 << run.err;
  }
  return run;
}

// Writes (partition, key, value) records with our producer; true when all were acknowledged.
bool produce_keyed(const std::string& bootstrap, const std::string& topic,
                   const std::vector<std::tuple<int, std::string, std::string>>& records) {
  auto body = [](std::string b, std::string t,
                 std::vector<std::tuple<int, std::string, std::string>> rs) -> asio::awaitable<bool> {
    ProducerConfig cfg;
    cfg.bootstrap_servers = b;
    Producer producer(co_await asio::this_coro::executor, cfg);
    co_await producer.start();
    std::vector<DeliveryHandle> handles;
    for (const auto& r : rs) {
      SendOptions o;
      o.partition = std::get<0>(r);
      o.key = BytesView(std::get<1>(r));
      handles.push_back(co_await producer.send(t, BytesView(std::get<2>(r)), o));
    }
    for (auto& h : handles) (void)co_await h.async_wait();  // throws the first failure
    co_await producer.stop();
    co_return true;
  };
  return run_async(body(bootstrap, topic, records), 60s);
}

TEST(GroupExamples, ConsumerGroupConsumesCommitsResumesAndStopsOnSigterm) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string bootstrap = rig.bootstrap("PLAINTEXT");
  const std::string topic = unique_topic("ex-group");
  const std::string group = unique_topic("ex-group-g");
  create_topic(bootstrap, topic, 4);
  for (int p = 0; p < 4; ++p) ASSERT_TRUE(produce_numbered(bootstrap, topic, 0, 50, p));
  TempDir dir("asiokafka-ex-group");

  // A first run reads the 200 records, each once, and stops there.
  const ExampleRun first = run_example(dir, "consumer_group", {bootstrap, topic, group, "--max-records", "200"});
  EXPECT_TRUE(first.has("ASSIGNED 0 1 2 3"));
  std::set<std::tuple<int, std::int64_t, std::string>> seen;
  for (const auto& r : first.recs()) seen.emplace(r.partition, r.offset, r.value);
  EXPECT_EQ(first.recs().size(), 200u);
  std::set<std::tuple<int, std::int64_t, std::string>> expected;
  for (int p = 0; p < 4; ++p) {
    for (int i = 0; i < 50; ++i) expected.emplace(p, i, std::to_string(i));
  }
  EXPECT_EQ(seen, expected);
  ASSERT_FALSE(first.lines.empty());
  EXPECT_EQ(first.lines.back(), "DONE 200");

  // A second run of the group starts at the committed offsets: it sees only what is written
  // now, and SIGTERM ends it cleanly.
  const auto out = dir.path() / "second.out";
  ChildProcess second(example("consumer_group"), with_protocol({bootstrap, topic, group, "--idle-exit-ms", "90000"}), out,
                      dir.path() / "second.err");
  LineReader reader(out);
  std::vector<std::string> lines;
  auto read = [&] {
    for (auto& l : reader.poll()) lines.push_back(std::move(l));
  };
  ASSERT_TRUE(eventually(
      [&] {
        read();
        return std::find(lines.begin(), lines.end(), "ASSIGNED 0 1 2 3") != lines.end();
      },
      30s, 50ms))
      << slurp(dir.path() / "second.err");
  for (int p = 0; p < 4; ++p) ASSERT_TRUE(produce_numbered(bootstrap, topic, 50, 5, p));
  std::set<std::tuple<int, std::int64_t, std::string>> later;
  auto recs = [&] {
    std::size_t n = 0;
    for (const auto& l : lines) n += parse_rec(l).has_value();
    return n;
  };
  EXPECT_TRUE(eventually(
      [&] {
        read();
        return recs() >= 20;
      },
      30s, 50ms));
  second.signal(SIGTERM);
  const std::optional<int> status = second.wait_exit(30s);
  ASSERT_TRUE(status.has_value()) << "consumer_group did not stop on SIGTERM";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << "status " << *status;
  read();
  for (const auto& l : lines) {
    if (auto r = parse_rec(l)) later.emplace(r->partition, r->offset, r->value);
  }
  std::set<std::tuple<int, std::int64_t, std::string>> written;
  for (int p = 0; p < 4; ++p) {
    for (int i = 50; i < 55; ++i) written.emplace(p, i, std::to_string(i));
  }
  EXPECT_EQ(later, written) << "the second run did not start at the committed offsets";
  EXPECT_EQ(recs(), 20u);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), "DONE 20");
}

// The contents of a local state file: next offset and counts per key.
std::pair<std::int64_t, std::map<std::string, long long>> state_file(const std::filesystem::path& file) {
  std::istringstream in(slurp(file));
  std::string word;
  std::int64_t next = -2;
  std::map<std::string, long long> counts;
  if (in >> word && word == "next_offset") in >> next;
  long long n = 0;
  std::string key;
  while (in >> word >> n >> key) counts[key] = n;
  return {next, counts};
}

TEST(GroupExamples, LocalStateConsumerResumesFromItsFilesAndDiscardsAStaleOne) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string bootstrap = rig.bootstrap("PLAINTEXT");
  const std::string topic = unique_topic("ex-state");
  const std::string group = unique_topic("ex-state-g");
  create_topic(bootstrap, topic, 2);
  auto records = [](int from, int to) {
    std::vector<std::tuple<int, std::string, std::string>> out;
    for (int p = 0; p < 2; ++p) {
      for (int i = from; i < to; ++i) out.emplace_back(p, "k" + std::to_string(i % 3), std::to_string(i));
    }
    return out;
  };
  ASSERT_TRUE(produce_keyed(bootstrap, topic, records(0, 15)));
  TempDir dir("asiokafka-ex-state");
  const std::string state_dir = (dir.path() / "state").string();
  const auto file0 = dir.path() / "state" / (topic + "-0.state");
  const auto file1 = dir.path() / "state" / (topic + "-1.state");
  const std::map<std::string, long long> five{{"k0", 5}, {"k1", 5}, {"k2", 5}};
  const std::map<std::string, long long> seven{{"k0", 7}, {"k1", 7}, {"k2", 7}};

  const ExampleRun first = run_example(dir, "consumer_local_state", {bootstrap, topic, group, state_dir, "--max-records", "30"});
  EXPECT_TRUE(first.has("LOADED 0 -1 0"));
  EXPECT_TRUE(first.has("SAVED 0 15 15"));
  EXPECT_TRUE(first.has("SAVED 1 15 15"));
  EXPECT_TRUE(first.has("COUNT 1 k2 5"));
  EXPECT_EQ(state_file(file0), std::make_pair(std::int64_t{15}, five));
  EXPECT_EQ(state_file(file1), std::make_pair(std::int64_t{15}, five));

  // Nothing was committed to Kafka: the second run starts where the files say.
  ASSERT_TRUE(produce_keyed(bootstrap, topic, records(15, 21)));
  const ExampleRun second = run_example(dir, "consumer_local_state", {bootstrap, topic, group, state_dir, "--max-records", "12"});
  EXPECT_TRUE(second.has("LOADED 0 15 15"));
  EXPECT_TRUE(second.has("LOADED 1 15 15"));
  ASSERT_EQ(second.recs().size(), 12u);
  for (const auto& r : second.recs()) EXPECT_GE(r.offset, 15) << "read again: partition " << r.partition;
  EXPECT_EQ(state_file(file0), std::make_pair(std::int64_t{21}, seven));
  EXPECT_EQ(state_file(file1), std::make_pair(std::int64_t{21}, seven));

  // A file whose position is past the log's end belongs to other data: dropped, re-read.
  {
    std::ofstream stale(file0, std::ios::trunc);
    stale << "next_offset 1000\ncount 99 k0\n";
  }
  const ExampleRun third = run_example(dir, "consumer_local_state", {bootstrap, topic, group, state_dir, "--idle-exit-ms", "4000"});
  EXPECT_TRUE(third.has("DISCARDED 0"));
  EXPECT_TRUE(third.has("LOADED 1 21 21"));
  std::set<std::int64_t> offsets0;
  for (const auto& r : third.recs()) {
    EXPECT_EQ(r.partition, 0);
    offsets0.insert(r.offset);
  }
  EXPECT_EQ(offsets0.size(), 21u);
  EXPECT_EQ(third.recs().size(), 21u);
  EXPECT_EQ(state_file(file0), std::make_pair(std::int64_t{21}, seven));
  if (::testing::Test::HasFailure()) dir.keep();
}

TEST(GroupExamples, PatternConsumerReadsEveryMatchingTopicAndFindsANewOne) {
  ASIOKAFKA_REQUIRE_RIG(rig, "ASIOKAFKA_RIG_ENV");
  const std::string bootstrap = rig.bootstrap("PLAINTEXT");
  const std::string stem = unique_topic("ex-pattern");
  create_topic(bootstrap, stem + "-a", 2);
  create_topic(bootstrap, stem + "-b", 1);
  create_topic(bootstrap, stem + "x", 1);  // does not match "<stem>-.*"
  ASSERT_TRUE(produce_numbered(bootstrap, stem + "-a", 0, 5, 0));
  ASSERT_TRUE(produce_numbered(bootstrap, stem + "-a", 0, 5, 1));
  ASSERT_TRUE(produce_numbered(bootstrap, stem + "-b", 0, 5, 0));
  ASSERT_TRUE(produce_numbered(bootstrap, stem + "x", 0, 5, 0));
  TempDir dir("asiokafka-ex-pattern");
  const auto out = dir.path() / "pattern.out";
  ChildProcess child(example("consumer_pattern"),
                     with_protocol({bootstrap, stem + "-.*", unique_topic("ex-pattern-g"), "--metadata-max-age-ms",
                                    "1000", "--idle-exit-ms", "90000"}),
                     out, dir.path() / "pattern.err");
  LineReader reader(out);
  std::vector<std::string> lines;
  // (topic, partition, offset) of every REC line: "REC <topic> <partition> <offset> <value>".
  std::multiset<std::tuple<std::string, int, std::int64_t>> recs;
  auto read = [&] {
    for (auto& l : reader.poll()) {
      std::istringstream in(l);
      std::string word, topic;
      int p = 0;
      std::int64_t offset = 0;
      if (in >> word >> topic >> p >> offset && word == "REC") recs.emplace(topic, p, offset);
      lines.push_back(std::move(l));
    }
  };
  EXPECT_TRUE(eventually(
      [&] {
        read();
        return recs.size() >= 15;
      },
      40s, 50ms))
      << slurp(dir.path() / "pattern.err");
  // A topic created now is found at a metadata refresh (1 s apart) and read from its start.
  create_topic(bootstrap, stem + "-c", 1);
  ASSERT_TRUE(produce_numbered(bootstrap, stem + "-c", 0, 5, 0));
  EXPECT_TRUE(eventually(
      [&] {
        read();
        return recs.size() >= 20;
      },
      40s, 50ms));
  child.signal(SIGTERM);
  const std::optional<int> status = child.wait_exit(30s);
  ASSERT_TRUE(status.has_value()) << "consumer_pattern did not stop on SIGTERM";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << "status " << *status;
  read();
  std::multiset<std::tuple<std::string, int, std::int64_t>> expected;
  for (const auto& [topic, p] : std::vector<std::pair<std::string, int>>{
           {stem + "-a", 0}, {stem + "-a", 1}, {stem + "-b", 0}, {stem + "-c", 0}}) {
    for (int i = 0; i < 5; ++i) expected.emplace(topic, p, i);
  }
  EXPECT_EQ(recs, expected) << "not every matching record once, or a record of " << stem << "x";
  EXPECT_NE(std::find(lines.begin(), lines.end(), "SUBSCRIBED " + stem + "-a " + stem + "-b " + stem + "-c"),
            lines.end());
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), "DONE 20");
}

}  // namespace
}  // namespace asiokafka::test
